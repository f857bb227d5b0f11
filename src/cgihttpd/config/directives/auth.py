"""Authentication: mod_authn_core (AuthType, AuthName), mod_auth_basic
(AuthBasicProvider, AuthBasicAuthoritative), mod_authn_file (AuthUserFile) and
mod_authz_groupfile (AuthGroupFile).

cgihttpd authenticates with HTTP Basic against files as Apache's ``htpasswd`` writes them
(``cgihttpd.authn``). Whatever it would not enforce is refused with the file and line
(``modules.refusal``), never stored and skipped: another AuthType (Digest, Form, a
third-party module's), another provider than ``file`` (dbm, ldap, ...). The paths are
joined to ServerRoot as ``ap_set_file_slot`` does; the files are read at request time.
"""

from __future__ import annotations

from cgihttpd.config.directives.draft import Ctx
from cgihttpd.config.directives.table import directive, flag
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.modules import refusal
from cgihttpd.config.tree import Node

#: Authn providers and the module that registers each (mod_authn_*.c, mod_authnz_*.c);
#: cgihttpd implements "file" only.
AUTHN_PROVIDERS = {
    "file": "authn_file_module", "dbm": "authn_dbm_module", "anon": "authn_anon_module",
    "dbd": "authn_dbd_module", "socache": "authn_socache_module",
    "ldap": "authnz_ldap_module",
}


def escape_quotes(text: str) -> str:
    """server/util.c ``ap_escape_quotes``: a bare ``"`` becomes ``\\"``; a backslash
    and the character after it are kept as they are."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            out.append(text[i:i + 2])
            i += 2
            continue
        out.append('\\"' if c == '"' else c)
        i += 1
    return "".join(out)


@directive("AuthType", "TAKE1", 'an HTTP authorization type (e.g., "Basic")')
def _auth_type(ctx: Ctx, node: Node) -> None:
    word = node.args[0]
    lower = word.lower()
    if lower == "none":
        # mod_authn_core set_authtype: "None" undoes an inherited AuthType
        ctx.set_dir(auth_type="")
        return
    if lower != "basic":
        raise ConfigError(refusal(f"AuthType {word}", f"authentication by '{word}'",
                                  ctx.draft.htaccess))
    # kept as written: AUTH_TYPE is r->ap_auth_type, the configured word
    ctx.set_dir(auth_type=word)


@directive("AuthName", "TAKE1", 'the authentication realm (e.g. "Members Only")')
def _auth_name(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(auth_name=escape_quotes(node.args[0]))


@directive("AuthBasicProvider", "ITERATE", "specify the auth providers for a directory or "
           "location")
def _auth_basic_provider(ctx: Ctx, node: Node) -> None:
    providers = list(ctx.dir.auth_basic_providers or ())
    for name in node.args:
        module = AUTHN_PROVIDERS.get(name)
        if module is None or module not in ctx.loaded:
            # mod_auth_basic add_authn_provider: the provider is looked up as it is read
            raise ConfigError(f"Unknown Authn provider: {name}")
        if name != "file":
            raise ConfigError(refusal(f"AuthBasicProvider {name}",
                                      f"authentication by the '{name}' provider",
                                      ctx.draft.htaccess))
        providers.append(name)
    ctx.set_dir(auth_basic_providers=tuple(providers))


@directive("AuthBasicAuthoritative", "FLAG", "Set to 'Off' to allow access control to be "
           "passed along to lower modules if the UserID is not known to this module")
def _auth_basic_authoritative(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(auth_basic_authoritative=flag(node))


@directive("AuthUserFile", "TAKE1", "text file containing user IDs and passwords")
def _auth_user_file(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(auth_user_file=ctx.root(node.args[0]))


@directive("AuthGroupFile", "TAKE1", "text file containing group names and member user IDs")
def _auth_group_file(ctx: Ctx, node: Node) -> None:
    ctx.set_dir(auth_group_file=ctx.root(node.args[0]))
