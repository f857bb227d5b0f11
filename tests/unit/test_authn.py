"""HTTP Basic authentication (``cgihttpd.authn``): the Authorization header, password and
group files as Apache's tools write them (each format made by Debian's ``htpasswd``,
apache2-utils), and what ``authenticate`` decides for each case, with the line Apache
logs (texts compared with Apache 2.4.71 in tests/differential/test_auth_diff.py)."""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cgihttpd import authn
from cgihttpd.authn import (
    AuthFiles,
    Groups,
    authenticate,
    check_password,
    parse_basic,
    read_groups,
    read_htpasswd,
)
from cgihttpd.cache import BoundedCache
from cgihttpd.config.model import DirConf

HTPASSWD = shutil.which("htpasswd") or "/usr/bin/htpasswd"
#: htpasswd's flags for each format it writes
FORMATS = {"apr1": "-m", "sha256-crypt": "-2", "sha512-crypt": "-5", "bcrypt": "-B",
           "des-crypt": "-d", "sha1": "-s", "plain": "-p"}
PASSWORD = "s3cr\u00e9t pw"  # non-ASCII: htpasswd hashes its UTF-8 bytes


def htpasswd(flag: str, user: str, password: str) -> str:
    """One line of a password file, as ``htpasswd -nb`` writes it."""
    if not os.access(HTPASSWD, os.X_OK):
        pytest.fail("htpasswd is not installed (scripts/install-test-deps installs "
                    "apache2-utils)")
    out = subprocess.run([HTPASSWD, "-nb", flag, user, password], capture_output=True,
                         check=True, timeout=30)
    return out.stdout.decode("utf-8").strip()


def basic(text: str | bytes) -> str:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return "Basic " + base64.b64encode(raw).decode("ascii")


# --- the header ----------------------------------------------------------------------------


def test_parse_basic_reads_user_and_password() -> None:
    assert parse_basic(basic("alice:pw")) == ("alice", "pw")
    # a colon in the password is the password's; the scheme in any case, spaces, tabs
    assert parse_basic("bAsIc \t" + basic("a:b:c")[6:]) == ("a", "b:c")
    assert parse_basic(basic("j\u00f6rg:p\u00e4ss")) == ("j\u00f6rg", "p\u00e4ss")
    assert parse_basic(basic(":")) == ("", "")
    # padding left off by some clients
    assert parse_basic("Basic " + base64.b64encode(b"ab:c").decode().rstrip("=")) == ("ab", "c")


@pytest.mark.parametrize("header", [
    "Bearer abc",  # another scheme
    "Digest username=\"a\"",
    "Basic",  # nothing after it
    "Basic !!!!",  # not base64
    "Basic YWxpY2U6cHc=xx",  # junk after the padding
    basic("alice"),  # no colon
    basic(b"alice:\xff\xfe"),  # not UTF-8
    basic(b"al\x00ice:pw"),  # a NUL
    "Basicx " + basic("a:b")[6:],
])
def test_parse_basic_refuses_what_is_not_basic_credentials(header: str) -> None:
    assert parse_basic(header) is None


# --- password files ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "plain"])
def test_every_htpasswd_format_verifies_and_a_wrong_password_does_not(fmt: str) -> None:
    line = htpasswd(FORMATS[fmt], "alice", PASSWORD)
    users = read_htpasswd(line + "\n")
    entry = users["alice"]
    assert check_password(entry, PASSWORD)
    assert not check_password(entry, "x" + PASSWORD)
    assert not check_password(entry, "")
    if fmt != "des-crypt":  # DES reads 8 bytes only ("s3cr\xe9t " in UTF-8)
        assert not check_password(entry, PASSWORD + "x")
        assert not check_password(entry, PASSWORD[:-1])


def test_des_crypt_reads_eight_characters_as_crypt_does() -> None:
    entry = read_htpasswd(htpasswd("-d", "u", "12345678"))["u"]
    assert check_password(entry, "12345678") and check_password(entry, "123456789")
    assert not check_password(entry, "1234567")


def test_plain_text_is_accepted_only_where_apache_accepts_it() -> None:
    entry = read_htpasswd(htpasswd("-p", "alice", PASSWORD))["alice"]
    assert entry == PASSWORD
    # on Linux APR hands it to crypt(3), which never matches: neither do we
    assert not check_password(entry, PASSWORD, plaintext=False)
    assert check_password(entry, PASSWORD, plaintext=True)  # Windows
    assert not check_password(entry, PASSWORD + "x", plaintext=True)
    assert authn.PLAINTEXT_ACCEPTED is (os.name == "nt")


def test_bcrypt_reads_72_bytes_as_apache_does() -> None:
    long = "a" * 100
    entry = read_htpasswd(htpasswd("-B", "u", long))["u"]
    assert check_password(entry, long)
    assert check_password(entry, "a" * 72)  # crypt_blowfish ignores the rest
    assert not check_password(entry, "a" * 71)


@pytest.mark.parametrize("entry", ["$2y$05$bad", "$apr1$", "{SHA}", "$6$x", "$y$j9T$abc$def",
                                   "", "*", "!locked"])
def test_a_malformed_or_unknown_hash_never_matches(entry: str) -> None:
    assert not check_password(entry, "")
    assert not check_password(entry, "x")


def test_read_htpasswd_as_mod_authn_file_reads() -> None:
    text = ("# comment\n\n  alice:$apr1$a$b  \r\n"
            "bob:{SHA}x:extra:fields\n"
            "alice:second-line-ignored\n"
            "carol\n"  # no colon: a user with an empty hash
            "   # indented comment\n")
    assert read_htpasswd(text) == {"alice": "$apr1$a$b", "bob": "{SHA}x", "carol": ""}


def test_read_groups_as_mod_authz_groupfile_reads() -> None:
    text = ("admins: alice bob\n"
            "# staff: mallory\n"
            "staff  :bob \"john doe\"\n"
            "empty:\n"
            "nocolon alice\n")
    groups = read_groups(text)
    assert groups["alice"] == frozenset({"admins"})
    assert groups["bob"] == frozenset({"admins", "staff"})
    assert groups["john doe"] == frozenset({"staff"})
    assert "mallory" not in groups


# --- the files, kept while unchanged -------------------------------------------------------


def test_files_are_read_again_when_they_change(tmp_path: Path) -> None:
    path = tmp_path / "users"
    path.write_text(htpasswd("-s", "alice", "one") + "\n")
    reads: list[str] = []

    class Counting:
        def stat(self, p: str) -> os.stat_result:
            return os.stat(p)

        def read_bytes(self, p: str) -> bytes:
            reads.append(p)
            return Path(p).read_bytes()

    files = AuthFiles(Counting(), BoundedCache(8))
    assert check_password(files.users(str(path))["alice"], "one")
    assert check_password(files.users(str(path))["alice"], "one")
    assert len(reads) == 1  # the same file: parsed once
    path.write_text(htpasswd("-s", "alice", "two") + "\n" + htpasswd("-s", "bob", "b") + "\n")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    users = files.users(str(path))
    assert len(reads) == 2 and check_password(users["alice"], "two") and "bob" in users


# --- authenticate --------------------------------------------------------------------------

MODULES = frozenset({"auth_basic_module", "authn_core_module", "authn_file_module"})


@pytest.fixture
def users_file(tmp_path: Path) -> str:
    path = tmp_path / "users"
    path.write_text(htpasswd("-B", "alice", "pw") + "\n" + htpasswd("-m", "bob", "pw") + "\n")
    return str(path)


def conf_for(users_file: str, **changes: object) -> DirConf:
    fields: dict[str, object] = {"auth_type": "Basic", "auth_name": "Private Area",
                                 "auth_user_file": users_file}
    fields.update(changes)
    return DirConf(**fields)  # type: ignore[arg-type]


def run(conf: DirConf, header: str | None, modules: frozenset[str] = MODULES) -> authn.AuthOutcome:
    return authenticate(conf, header, "/private/a.html", modules,
                        AuthFiles(_RealFS(), BoundedCache(4)))


class _RealFS:
    def stat(self, p: str) -> os.stat_result:
        return os.stat(p)

    def read_bytes(self, p: str) -> bytes:
        return Path(p).read_bytes()


def test_a_good_password_authenticates(users_file: str) -> None:
    out = run(conf_for(users_file), basic("alice:pw"))
    assert (out.user, out.status, out.note, out.auth_type) == ("alice", 0, None, "Basic")
    assert run(conf_for(users_file), basic("bob:pw")).user == "bob"


@pytest.mark.parametrize(("header", "status", "line", "sent"), [
    (None, 401, None, None),
    (basic("alice:wrong"), 401,
     'AH01617: user alice: authentication failure for "/private/a.html": Password Mismatch',
     "alice"),
    (basic("carol:pw"), 401, "AH01618: user carol not found: /private/a.html", "carol"),
    ("Bearer xyz", 401, "AH01614: client used wrong authentication scheme: /private/a.html",
     None),
    ("Basic !!!", 401, "malformed Basic credentials: /private/a.html", None),
])
def test_what_refuses_and_what_is_logged(users_file: str, header: str | None, status: int,
                                         line: str | None, sent: str | None) -> None:
    out = run(conf_for(users_file), header)
    assert out.user is None and out.status == status
    assert out.challenge == 'Basic realm="Private Area"'
    assert (out.note.text if out.note else None) == line
    assert out.sent_user == sent
    if out.note is not None:
        assert (out.note.module, out.note.level) == ("auth_basic", "error")


def test_configuration_failures_are_500_never_a_pass(users_file: str, tmp_path: Path) -> None:
    good = basic("alice:pw")
    out = run(conf_for(users_file, auth_name=None), good)
    assert (out.status, out.note and out.note.text) == (500, "AH01615: need AuthName: "
                                                        "/private/a.html")
    out = run(conf_for(users_file, auth_user_file=None), good)
    assert (out.status, out.note and out.note.text) == (
        500, "AH01619: AuthUserFile not specified in the configuration")
    missing = str(tmp_path / "nope")
    out = run(conf_for(missing), good)
    assert (out.user, out.status) == (None, 500)
    assert out.note is not None and out.note.text == (
        f"(2)No such file or directory: AH01620: Could not open password file: {missing}")
    assert out.note.module == "authn_file"
    # AuthType Basic without mod_auth_basic, or no AuthType at all
    out = run(conf_for(users_file), good, frozenset({"authn_core_module"}))
    assert (out.status, out.note and out.note.text) == (
        500, "AH01796: AuthType Basic configured without corresponding module")
    out = run(conf_for(users_file, auth_type=""), good)
    assert out.status == 500 and out.note is not None
    assert out.note.text.startswith("AH00027: No authentication done")


def test_not_authoritative_passes_a_missing_user_on_to_nobody(users_file: str) -> None:
    conf = conf_for(users_file, auth_basic_authoritative=False)
    out = run(conf, basic("carol:pw"))
    assert (out.user, out.status) == (None, 500)  # mod_authn_core's last resort
    assert run(conf, basic("alice:wrong")).status == 401  # a wrong password stays 401
    assert run(conf, basic("alice:pw")).user == "alice"


def test_groups_of_reads_the_group_file(tmp_path: Path) -> None:
    path = tmp_path / "groups"
    path.write_text("admins: alice\nstaff: alice bob\n")
    files = AuthFiles(_RealFS(), BoundedCache(4))
    groups = Groups(DirConf(auth_group_file=str(path)), files)
    assert groups("alice") == frozenset({"admins", "staff"})
    assert groups("carol") == frozenset() and groups.notes == []
    none = Groups(DirConf(), files)
    assert none("alice") == frozenset()
    assert [n.text for n in none.notes] == [
        "AH01664: No group file was specified in the configuration"]
    gone = Groups(DirConf(auth_group_file=str(tmp_path / "nope")), files)
    assert gone("alice") == frozenset()
    assert gone.notes[0].text.endswith(f"AH01665: Could not open group file: {tmp_path}/nope")
