"""HTTP Basic authentication as Apache 2.4 does it: mod_auth_basic with the ``file``
provider (mod_authn_file), and the group file of mod_authz_groupfile.

A pure core, then one IO shell:

- ``parse_basic``: an ``Authorization`` header → ``(user, password)`` or None;
- ``read_htpasswd`` / ``read_groups``: a password or group file's text → its entries, read
  as Apache reads them (``ap_cfg_getline``: each line stripped, ``#`` and blank lines
  skipped; the first line of a user wins);
- ``check_password``: one entry of a password file against a password, in every format
  Apache's ``htpasswd`` writes (bcrypt ``-B``, ``$apr1$`` MD5, ``-2``/``-5`` SHA-crypt,
  ``{SHA}`` ``-s``, DES crypt ``-d``; plain text ``-p`` only where Apache accepts it, on
  Windows: elsewhere APR hands an unknown hash to ``crypt(3)``, which never matches it).
  The hashing is libpass's (``passlib``, the maintained fork) with ``bcrypt``: nothing
  here computes a hash, and the one comparison made here is constant-time;
- ``authenticate``: what mod_auth_basic's ``authenticate_basic_user`` decides for a
  request, as an ``AuthOutcome`` (the user, or the status and error-log line to answer
  with); ``Groups``: the ``groups_of(user)`` that authorization asks. Both read the files
  through an ``AuthFiles``, which keeps each parsed file in a ``BoundedCache`` by its
  identity (path, device, inode, size, mtime), so an edited file is read again on the
  next request without a restart.

Must not know which ``Require`` forms apply (authorization decides whether a user is
needed, and asks ``authenticate`` only then) nor how an answer is sent.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from cgihttpd import messages as M
from cgihttpd.cache import BoundedCache
from cgihttpd.config.lexer import split_words
from cgihttpd.config.model import DirConf
from cgihttpd.messages import Note

#: APR's apr_password_validate compares a hash it does not know as plain text only on
#: Windows (and NetWare); elsewhere it goes to crypt(3), which never matches it
#: (htpasswd -p: "On other systems than Windows and NetWare the '-p' flag will probably
#: not work.")
PLAINTEXT_ACCEPTED = sys.platform == "win32"

#: bcrypt reads at most 72 bytes of a password (crypt_blowfish, which APR uses, ignores
#: the rest); the bcrypt package refuses longer ones rather than cut them
BCRYPT_MAX_BYTES = 72

# --- the pure core -----------------------------------------------------------------------


def parse_basic(header: str) -> tuple[str, str] | None:
    """``Authorization: Basic <base64 of user:password>`` (RFC 7617 §2) → (user,
    password), or None when it is not that: another scheme, base64 that does not decode,
    no colon, or bytes that are not UTF-8 (RFC 7617 §2.1's charset), or a NUL (which
    Apache's C strings would cut at).

    The scheme is matched case-insensitively and the credentials may follow any number
    of spaces or tabs (mod_auth_basic ``get_basic_auth``); missing base64 padding is
    tolerated, as Apache's decoder does."""
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    token = rest.strip(" \t")
    if len(token) % 4:
        token += "=" * (-len(token) % 4)
    try:
        raw = base64.b64decode(token.encode("ascii"), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    user, colon, password = text.partition(":")
    if not colon or "\0" in text:
        return None
    return user, password


def is_basic(header: str) -> bool:
    """Whether ``header`` names the Basic scheme at all (else mod_auth_basic logs that
    the client "used wrong authentication scheme")."""
    return header.partition(" ")[0].lower() == "basic"


def _lines(text: str) -> list[str]:
    """ap_cfg_getline over a whole file: lines stripped of C white space, comments
    (a first character ``#``) and blank lines left out."""
    out = []
    for raw in text.split("\n"):
        line = raw.strip(" \t\r\n\v\f")
        if line and not line.startswith("#"):
            out.append(line)
    return out


def read_htpasswd(text: str) -> dict[str, str]:
    """A password file (``user:hash``, one a line) → user → hash. mod_authn_file
    ``check_password``: the first line naming a user wins, and the hash runs to the next
    colon (``htdigest``'s ``user:realm:hash`` lines give the realm, which never verifies)."""
    users: dict[str, str] = {}
    for line in _lines(text):
        user, _, rest = line.partition(":")
        users.setdefault(user, rest.partition(":")[0])
    return users


def read_groups(text: str) -> dict[str, frozenset[str]]:
    """A group file (``group: user1 user2``, one group a line) → user → the groups that
    name them. mod_authz_groupfile ``groups_for_user``: the group's name runs to the
    first colon, without trailing white space; the members are words as in the
    configuration (``ap_getword_conf``: quotes group a name with spaces)."""
    groups: dict[str, set[str]] = {}
    for line in _lines(text):
        name, _, members = line.partition(":")
        name = name.rstrip(" \t\r\n\v\f")
        for member in split_words(members):
            groups.setdefault(member, set()).add(name)
    return {user: frozenset(names) for user, names in groups.items()}


def check_password(entry: str, password: str, *, plaintext: bool = PLAINTEXT_ACCEPTED) -> bool:
    """Whether ``password`` matches ``entry``, a password file's hash, as APR's
    ``apr_password_validate`` decides it. A hash that is malformed or of a kind neither
    APR nor crypt(3) knows never matches."""
    from passlib import hash as ph  # imported on first use: a server with no protected
    # directory never pays for it

    secret = password.encode("utf-8")
    handler: Any
    if entry.startswith("$apr1$"):
        handler = ph.apr_md5_crypt
    elif entry.startswith("{SHA}"):
        handler = ph.ldap_sha1  # apr_sha1_base64: "{SHA}" + base64(SHA-1)
    elif entry[:4] in ("$2y$", "$2a$", "$2b$"):
        handler = ph.bcrypt
        secret = secret[:BCRYPT_MAX_BYTES]
    elif entry.startswith("$1$"):
        handler = ph.md5_crypt  # crypt(3)'s own MD5
    elif entry.startswith("$5$"):
        handler = ph.sha256_crypt  # htpasswd -2
    elif entry.startswith("$6$"):
        handler = ph.sha512_crypt  # htpasswd -5
    elif ph.des_crypt.identify(entry):
        handler = ph.des_crypt  # htpasswd -d: crypt(3)'s traditional DES
    elif plaintext:
        return hmac.compare_digest(secret, entry.encode("utf-8", "surrogateescape"))
    else:
        return False
    try:
        return bool(handler.verify(secret, entry))
    except (ValueError, TypeError):  # a malformed hash: no password matches it
        return False


# --- reading the files ---------------------------------------------------------------------


class FileReader(Protocol):
    """The filesystem operations reading a password or group file needs (``OSError``
    as ``os`` raises it); the resolver's ``FileSystem`` is one."""

    def stat(self, path: str) -> os.stat_result: ...
    def read_bytes(self, path: str) -> bytes: ...


#: (kind, path, device, inode, size, mtime) → the parsed file
AuthFileCache = BoundedCache[Any, Any]


@dataclass(frozen=True, slots=True)
class AuthFiles:
    """Where password and group files are read from (``fs``) and kept (``cache``, the
    runtime's, or None: read every time)."""

    fs: FileReader
    cache: AuthFileCache | None = None

    def users(self, path: str) -> Mapping[str, str]:
        """The password file at ``path`` (raises ``OSError``)."""
        return self._read("users", path)  # type: ignore[no-any-return]

    def groups(self, path: str) -> Mapping[str, frozenset[str]]:
        """The group file at ``path``, by user (raises ``OSError``)."""
        return self._read("groups", path)  # type: ignore[no-any-return]

    def _read(self, kind: str, path: str) -> Any:
        st = self.fs.stat(path)
        key = (kind, path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        parsed = self.cache.get(key) if self.cache is not None else None
        if parsed is None:
            text = self.fs.read_bytes(path).decode("utf-8", "surrogateescape")
            parsed = read_htpasswd(text) if kind == "users" else read_groups(text)
            if self.cache is not None:
                self.cache.put(key, parsed)
        return parsed


# --- the IO shell ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthOutcome:
    """What authentication decided. ``user``: the authenticated user, or None, and then
    ``status`` (401 or 500) and ``note`` (the error-log line, if any) say how to answer;
    a 401 carries ``challenge``, the ``WWW-Authenticate`` value. ``sent_user`` is the
    user the client named, authenticated or not (Apache's r->user, which ``%u`` logs);
    ``auth_type`` the AuthType in force (AUTH_TYPE)."""

    user: str | None
    status: int = 0
    note: Note | None = None
    challenge: str | None = None
    sent_user: str | None = None
    auth_type: str | None = None


def challenge(conf: DirConf) -> str:
    """mod_auth_basic ``note_basic_auth_failure``: the WWW-Authenticate value."""
    return f'Basic realm="{conf.auth_name or ""}"'


def authenticate(conf: DirConf, authorization: str | None, uri: str,
                 modules: Collection[str], files: AuthFiles) -> AuthOutcome:
    """mod_auth_basic ``authenticate_basic_user`` (with mod_authn_core's fallback) for a
    request governed by ``conf`` that needs a user: ``authorization`` is its
    Authorization header, ``uri`` its path (r->uri, for the log lines), ``modules`` the
    loaded modules. Never raises for what the client sent or the files hold: any
    failure is a 401 or a 500 with its line."""
    auth_type = conf.effective_auth_type
    if auth_type is None or auth_type.lower() != "basic" or "auth_basic_module" not in modules:
        # mod_authn_core authenticate_no_user: no module authenticates this AuthType;
        # without any AuthType nothing does, and the core refuses to go on without
        # the user authorization asked for (ap_process_request_internal)
        if auth_type is None:
            return AuthOutcome(None, 500, M.NO_AUTHENTICATION.note(uri=uri))
        return AuthOutcome(None, 500, M.AUTH_TYPE_NO_MODULE.note(auth_type=auth_type))
    if conf.auth_name is None:
        return AuthOutcome(None, 500, M.NEED_AUTH_NAME.note(uri=uri), auth_type=auth_type)

    def refused(note: Note | None, sent: str | None = None) -> AuthOutcome:
        return AuthOutcome(None, 401, note, challenge(conf), sent, auth_type)

    if authorization is None:
        return refused(None)
    if not is_basic(authorization):
        return refused(M.WRONG_AUTH_SCHEME.note(uri=uri))
    credentials = parse_basic(authorization)
    if credentials is None:
        return refused(M.malformed_credentials(uri))
    user, password = credentials
    result, note = _check_file(conf, user, password, files)
    if result == "granted":
        return AuthOutcome(user, sent_user=user, auth_type=auth_type)
    authoritative = conf.auth_basic_authoritative is not False
    if not authoritative and result != "denied":
        # "If we're not authoritative, then any error is ignored": the next module
        # would decide, and mod_authn_core's last resort is this 500
        return AuthOutcome(None, 500, M.AUTH_TYPE_NO_MODULE.note(auth_type=auth_type),
                           sent_user=user, auth_type=auth_type)
    if result == "denied":
        return refused(M.PASSWORD_MISMATCH.note(user=user, uri=uri), user)
    if result == "not-found":
        return refused(M.USER_NOT_FOUND.note(user=user, uri=uri), user)
    # a general error: the provider has said what it was
    return AuthOutcome(None, 500, note, sent_user=user, auth_type=auth_type)


def _check_file(conf: DirConf, user: str, password: str,
                files: AuthFiles) -> tuple[str, Note | None]:
    """The ``file`` provider (mod_authn_file ``check_password``): "granted", "denied",
    "not-found" or "error" with its line. AuthBasicProvider allows only ``file``
    (``config.directives.auth``), so it is the one provider asked."""
    path = conf.auth_user_file
    if path is None:
        return "error", M.NO_USER_FILE.note()
    try:
        users = files.users(path)
    except OSError as exc:
        return "error", M.USER_FILE_UNREADABLE.note(errno=exc, path=path)
    entry = users.get(user)
    if entry is None:
        return "not-found", None
    return ("granted" if check_password(entry, password) else "denied"), None


@dataclass
class Groups:
    """``groups_of(user)`` for authorization (``Require group``): the groups the
    AuthGroupFile in force names the user in; an empty set when there is no such file
    or it cannot be read, with the line Apache logs then in ``notes``."""

    conf: DirConf
    files: AuthFiles
    notes: list[Note] = field(default_factory=list)

    def __call__(self, user: str) -> frozenset[str]:
        path = self.conf.auth_group_file
        if path is None:
            self.notes.append(M.NO_GROUP_FILE.note())
            return frozenset()
        try:
            return self.files.groups(path).get(user, frozenset())
        except OSError as exc:
            self.notes.append(M.GROUP_FILE_UNREADABLE.note(errno=exc, path=path))
            return frozenset()

