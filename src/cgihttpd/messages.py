"""Apache's error-log messages that cgihttpd writes while serving: each AH number once.

A ``Message`` is one entry of Apache's catalogue as cgihttpd uses it: the AH number, the
module tag and level Apache logs it under (``[core:info]``), and the text with its
fields. ``Message.note(...)`` makes a ``Note``: the structured error-log line a failed
request carries (``HTTPError.note``, ``Target.note``), so that whoever finally logs it
knows module and level without reading them back out of the text.

mod_cgi and mod_cgid say the same things under different numbers: a ``CgiMessage``
holds both, and ``cgi_module`` is the one place that decides which of the two modules
speaks (mod_cgid where it is loaded, as Debian's apache2 does with mpm_event).

Texts are Apache 2.4's (checked against apache2 2.4.71's error logs, see the tests that
compare them). Pure: no IO, no configuration beyond the set of loaded modules.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

Level = Literal["emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"]
CgiModule = Literal["cgi", "cgid"]


@dataclass(frozen=True, slots=True)
class Note:
    """An error-log line to write: module tag, level and the whole text (AH number
    included, after an "(errno)strerror: " prefix where Apache puts one)."""

    module: str
    level: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Message:
    code: str
    module: str
    level: Level
    template: str

    def text(self, **fields: object) -> str:
        return f"{self.code}: {self.template.format(**fields)}"

    def note(self, *, errno: OSError | None = None, **fields: object) -> Note:
        """The line for these fields; ``errno``: the failure Apache prefixes it with."""
        prefix = f"({errno.errno}){errno.strerror}: " if errno is not None and errno.errno else ""
        return Note(self.module, self.level, prefix + self.text(**fields))


@dataclass(frozen=True, slots=True)
class CgiMessage:
    """One message of mod_cgi and mod_cgid, which number it differently."""

    cgi: str
    cgid: str
    level: Level
    template: str

    def __call__(self, module: CgiModule) -> Message:
        return Message(self.cgi if module == "cgi" else self.cgid, module, self.level,
                       self.template)


def cgi_module(modules: Collection[str]) -> CgiModule:
    """The module that runs scripts, and logs about them: mod_cgid where it is loaded,
    else mod_cgi (a configuration loads one of them)."""
    return "cgid" if "cgid_module" in modules else "cgi"


def plain(text: str, module: str = "core", level: Level = "error") -> Note:
    """A line with no AH number (our own words, or Apache's where it has none)."""
    return Note(module, level, text)


# --- request-path translation (server/request.c, server/util.c) ---------------------------
INVALID_URI_PATH = Message("AH10244", "core", "error", "invalid URI path ({raw})")
ENCODED_SLASH = Message("AH00026", "core", "info",
                        "found %2f (encoded '/') in URI path ({raw}), returning 404")
SEARCH_DENIED = Message("AH00035", "core", "error",
                        "access to {url} denied (filesystem path '{path}') because search "
                        "permissions are missing on a component of the path")
ACCESS_FAILED = Message("AH00036", "core", "error",
                        "access to {url} failed (filesystem path '{path}')")
SYMLINK_DENIED = Message("AH00037", "core", "error",
                         "Symbolic link not allowed or link target not accessible: {path}")
CLIENT_DENIED = Message("AH01630", "authz_core", "error",
                        "client denied by server configuration: {path}")
# --- authentication (mod_auth_basic, mod_authn_core, mod_authn_file) ----------------------
WRONG_AUTH_SCHEME = Message("AH01614", "auth_basic", "error",
                            "client used wrong authentication scheme: {uri}")
NEED_AUTH_NAME = Message("AH01615", "auth_basic", "error", "need AuthName: {uri}")
NO_AUTHN_PROVIDER = Message("AH01616", "auth_basic", "error", "No Authn provider configured")
PASSWORD_MISMATCH = Message("AH01617", "auth_basic", "error",
                            'user {user}: authentication failure for "{uri}": '
                            "Password Mismatch")
USER_NOT_FOUND = Message("AH01618", "auth_basic", "error", "user {user} not found: {uri}")
NO_USER_FILE = Message("AH01619", "authn_file", "error",
                       "AuthUserFile not specified in the configuration")
USER_FILE_UNREADABLE = Message("AH01620", "authn_file", "error",
                               "Could not open password file: {path}")
NO_AUTHENTICATION = Message("AH00027", "core", "error",
                            "No authentication done but request not allowed without "
                            "authentication for {uri}. Authentication not configured?")
AUTH_TYPE_NO_MODULE = Message("AH01796", "authn_core", "error",
                              "AuthType {auth_type} configured without corresponding module")


def malformed_credentials(uri: str) -> Note:
    """Basic credentials that are not base64 of UTF-8 "user:password" (cgihttpd refuses
    them; Apache decodes what it can and looks the result up)."""
    return Note("auth_basic", "error", f"malformed Basic credentials: {uri}")


# --- authorization (mod_authz_core, mod_authz_user, mod_authz_groupfile) ----------------
AUTHZ_NO_DIRECTIVES = Message("AH01627", "authz_core", "error",
                              "AuthType configured with no corresponding authorization "
                              "directives")
AUTHZ_NO_USER = Message("AH01629", "authz_core", "error",
                        "authorization failure (no authenticated user): {uri}")
AUTHZ_USER_FAILURE = Message("AH01631", "authz_core", "error",
                             'user {user}: authorization failure for "{uri}": ')
# (2.4.71 logs AH01666 at info, checked with LogLevel info; the providers' debug lines,
# AH01663 and AH01667, are not written: the evaluator says only its result)
NO_GROUP_FILE = Message("AH01664", "authz_groupfile", "error",
                        "No group file was specified in the configuration")
GROUP_FILE_UNREADABLE = Message("AH01665", "authz_groupfile", "error",
                                "Could not open group file: {path}")
USER_IN_NO_GROUP = Message("AH01666", "authz_groupfile", "info",
                           "Authorization of user {user} to access {uri} failed, reason: "
                           "user doesn't appear in group file ({path}).")
# --- access control (mod_access_compat, mod_authz_core, server/request.c) -----------------
HOST_DENIED = Message("AH01797", "access_compat", "error",
                      "client denied by server configuration: {path}")
#: a Require that needs a user where no authentication is configured: AH00027 is
#: NO_AUTHENTICATION (Satisfy All), above; this one is Satisfy Any
NO_AUTHENTICATION_ANY = Message("AH00028", "core", "error",
                                "No authentication done but request not allowed without "
                                "authentication for {uri}. Authentication not configured?")
#: at start-up (authz_core_check_section)
ONLY_NEGATIVE_AUTHZ = Message("AH01624", "authz_core", "error",
                              "{section} directive contains only negative authorization "
                              "directives")
# --- mod_alias (translate_alias_redir, then fixup_redir) ---------------------------------
REDIRECT_NOT_URL = Message("AH00674", "alias", "error",
                           "cannot redirect '{uri}' to '{target}'; target is not a valid "
                           "absoluteURI or abs_path")
REDIRECT_NOT_URL_FIXUP = Message("AH00676", "alias", "error",
                                 "cannot redirect '{uri}' to '{target}'; target is not a "
                                 "valid absoluteURI or abs_path")
# --- mod_rewrite (hook_uri2file, hook_fixup, apply_rewrite_rule) ---------------------------
REWRITE_SYMLINKS_OFF = Message("AH00670", "rewrite", "error",
                               "Options FollowSymLinks and SymLinksIfOwnerMatch are both "
                               "off, so the RewriteRule directive is also forbidden due to "
                               "its similar ability to circumvent directory restrictions : "
                               "{path}")
REWRITE_BAD_QUERY = Message("AH10410", "rewrite", "error",
                            "Rewritten query string contains control characters or spaces")
REWRITE_BAD_QUERY_DIR = Message("AH10411", "rewrite", "error",
                                "Rewritten query string contains control characters or "
                                "spaces")
REWRITE_NO_PROXY = Message("AH00669", "rewrite", "error",
                           "attempt to make remote request from mod_rewrite without proxy "
                           "enabled: {url}")
REWRITE_NO_PROXY_DIR = Message("AH10160", "rewrite", "error",
                               "attempt to make remote request from mod_rewrite without "
                               "proxy enabled: {url}")
REWRITE_UNSAFE_3F = Message("AH10508", "rewrite", "error",
                            "Unsafe URL with %3f URL rewritten without UnsafeAllow3F")
REWRITE_NOCASE_IGNORED = Message("AH00665", "rewrite", "warn",
                                 "RewriteCond: NoCase option for non-regex pattern "
                                 "'{pattern}' is not supported and will be ignored. "
                                 "({source})")
REWRITE_MAX_REDIRECTS = Message("AH00664", "rewrite", "warn",
                                "RewriteOptions: MaxRedirects option has been removed in "
                                "favor of the global LimitInternalRecursion directive and "
                                "will be ignored.")
REWRITE_ROUNDS = Message("AH02596", "rewrite", "error",
                         "RewriteRule '{pattern}' and URI '{uri}' exceeded maximum number of "
                         "rounds ({rounds}) via the [N] flag")

# --- .htaccess (server/config.c ap_parse_htaccess) ------------------------------------
HTACCESS_UNREADABLE = Message("AH00529", "core", "crit",
                              "{path} pcfg_openfile: unable to check htaccess file, ensure "
                              "it is readable and that '{dir}' is executable")


def htaccess_error(path: str, message: str) -> Note:
    """A .htaccess that cannot be used (500): Apache logs the file's name and the
    reader's message, with no AH number, at core:alert."""
    return Note("core", "alert", f"{path}: {message}")


# --- the Host of a request (server/vhost.c fix_hostname, server/protocol.c) -----------
MALFORMED_HOST = Message("AH00550", "core", "debug", "Client sent malformed Host header: {host}")
INVALID_HOST_NAME = Message("AH02415", "core", "debug",
                            "[strict] Invalid host name '{host}'{near}")
NUMERIC_HOST = Message("AH02416", "core", "debug",
                       "[strict] purely numeric host names not allowed: {host}")
HOST_REPLACED = Message("AH02417", "core", "debug",
                        "Replacing host header '{header}' with host '{host}' given in the "
                        "request uri")
NO_HOSTNAME = Message("AH00569", "core", "debug",
                      "client sent HTTP/1.1 request without hostname (see RFC2616 section "
                      "14.23): {uri}")
# --- the default handler (server/core.c) ----------------------------------------------
FILE_MISSING = Message("AH00128", "core", "info", "File does not exist: {path}")
FILE_PERMISSIONS = Message("AH00132", "core", "error",
                           "file permissions deny server access: {path}")
PATH_INFO_REFUSED = Message("AH00130", "core", "info", "File does not exist: {path}")
DIRECTORY_REFUSED = Message("AH00129", "core", "info", "Attempt to serve directory: {path}")
INVALID_METHOD = Message("AH00135", "core", "error", "Invalid method in request {line}")
DOCUMENT_ROOT_MISSING = Message("AH00112", "core", "warn",
                                "Warning: DocumentRoot [{path}] does not exist")
REDIRECT_LIMIT = Message("AH00124", "core", "error",
                         "Request exceeded the limit of {limit} internal redirects due to "
                         "probable configuration error. Use 'LimitInternalRecursion' to "
                         "increase the limit if necessary. Use 'LogLevel debug' to get a "
                         "backtrace.")
# --- HTTP (modules/http) --------------------------------------------------------------
TRACE_WITH_BODY = Message("AH01595", "http", "info",
                          "TRACE with body is not allowed for {path}")
BODY_LENGTH_TOO_LARGE = Message("AH01588", "http", "info",
                                "Requested content-length of {length} is larger than the "
                                "configured limit of {limit}")
BODY_READ_TOO_LARGE = Message("AH01591", "http", "error",
                              "Read content length of {length} is larger than the "
                              "configured limit of {limit}")
BAD_HEADER_NAME = Message("AH02429", "http", "error",
                          "Response header name '{name}' contains invalid characters, "
                          "aborting request")
BAD_HEADER_VALUE = Message("AH02430", "http", "error",
                           "Response header '{name}' value of '{value}' contains invalid "
                           "characters, aborting request")
# --- mod_autoindex ------------------------------------------------------------------------
#: ``names``: the DirectoryIndex names joined by ",", or "none" when none was searched
INDEX_FORBIDDEN = Message("AH01276", "autoindex", "error",
                          "Cannot serve directory {path}: No matching DirectoryIndex ({names}) "
                          "found, and server-generated directory index forbidden by Options "
                          "directive")
# --- mod_cgi / mod_cgid ---------------------------------------------------------------
EXECCGI_OFF = CgiMessage("AH02809", "AH01262", "error",
                         "stderr from {path}: Options ExecCGI is off in this directory")
DIRECTORY_AS_SCRIPT = CgiMessage("AH02812", "AH01265", "error",
                                 "stderr from {path}: attempt to invoke directory as script")
SCRIPT_MISSING = CgiMessage("AH02811", "AH01264", "error",
                            "stderr from {path}: script not found or unable to stat")
# the same number under either module (cgi_common.h, shared by the two)
EXEC_FAILED = CgiMessage("AH01241", "AH01241", "error", "exec of '{path}' failed")
SCRIPT_STDERR = CgiMessage("AH01215", "AH01215", "error", "stderr from {path}: {line}")
#: the client closed before the whole request body came; Apache prefixes it with
#: APR_INCOMPLETE: "(70008)Partial results are valid but processing is incomplete: "
BODY_READ_FAILED = CgiMessage("AH01225", "AH01270", "error",
                              "Error reading request entity data")
SCRIPT_OUTPUT_TIMEOUT = CgiMessage("AH01220", "AH01220", "warn",
                                   "Timeout waiting for output from CGI script {path}")


def cgi_queue_refused(module: CgiModule, path: str, reason: str, detail: str,
                      waited: float) -> Note:
    """cgihttpd's own (Apache has no CGI queue): a request refused a script slot, 503.
    ``reason``: "time" (it waited CGIQueueTimeout) or "memory" (CGIQueueMemory is
    used up by the requests already waiting)."""
    why = ("queue time exceeded" if reason == "time" else "queue memory bound reached")
    return plain(f"cgihttpd: CGI request refused ({why}) after waiting {waited:.3f} s: "
                 f"{detail}: {path}", module)


def cgi_queue_left(module: CgiModule, path: str, waited: float) -> Note:
    """cgihttpd's own: a client that closed its connection while its request waited
    for a script slot; it leaves the queue and the script never runs."""
    return plain(f"cgihttpd: client left the CGI queue after {waited:.3f} s: {path}",
                 module, "info")


# --- the server's lifecycle (mpm_event's parent; checked with apache2 2.4.71 -k) ------------
GRACEFUL_RESTART = Message("AH00493", "mpm_event", "notice",
                           "SIGUSR1 received.  Doing graceful restart")
RESTART = Message("AH00494", "mpm_event", "notice", "SIGHUP received.  Attempting to restart")
RESUMING = Message("AH00489", "mpm_event", "notice",
                   "{server} configured -- resuming normal operations")
GRACEFUL_STOP = Message("AH00492", "mpm_event", "notice",
                        "caught SIGWINCH, shutting down gracefully")
STOP = Message("AH00491", "mpm_event", "notice", "caught SIGTERM, shutting down")
# --- mod_ssl (ssl_engine_init.c at start-up, ssl_engine_kernel.c per request) ---------
TLS_CERT_FAILED = Message("AH02561", "ssl", "emerg", "Failed to configure certificate "
                          "{vhost}, check {path}")
TLS_KEY_FAILED = Message("AH02564", "ssl", "emerg", "Failed to configure encrypted (?) "
                         "private key {vhost}, check {path}")
TLS_KEY_MISMATCH = Message("AH02565", "ssl", "emerg", "Certificate and private key {vhost} "
                           "from {cert} and {key} do not match")
TLS_CIPHERS_FAILED = Message("AH01898", "ssl", "emerg", "Unable to configure permitted SSL "
                             "ciphers")
SSL_REQUIRED = Message("AH02219", "ssl", "error", "access to {path} failed, reason: SSL "
                       "connection required")
TLS_SNI_NO_HOST = Message("AH02031", "ssl", "error", "Hostname {sni} provided via SNI, but "
                          "no hostname provided in HTTP request")
TLS_MISDIRECTED = Message("AH02032", "ssl", "error", "Hostname {sni} provided via SNI and "
                          "hostname {host} provided via HTTP have no compatible SSL setup "
                          "for policy 'secure'")
