"""Every directive of the table at least once, and where each may appear.

Error wording is apache2 -t's (Debian 2.4.71) for the same lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
from config_helpers import PRELUDE_LINES, errors, load

from app.factory import require_of
from cgihttpd.config.directives import DIRECTIVES
from cgihttpd.config.model import Address, ServerConfig
from cgihttpd.config.readtimeout import ReadTimeout

AUTHN = "".join(f"LoadModule {m}_module x.so\n" for m in (
    "auth_basic", "authn_core", "authn_file", "authz_user", "authz_groupfile"))
AUTOINDEX = "LoadModule autoindex_module x.so\n"
REQTIMEOUT = "LoadModule reqtimeout_module x.so\n"
REWRITE = "LoadModule rewrite_module x.so\n"
REMOTEIP = "LoadModule remoteip_module x.so\n"
#: mod_ssl with a server certificate (any existing file: nothing parses it here)
SSL = "LoadModule ssl_module x.so\nSSLCertificateFile mime.types\n"
INVALID = "perhaps misspelled or defined by a module not included in the server configuration"

Check = Callable[[ServerConfig], object]

CASES: list[tuple[str, str, Check]] = [
    ("ServerRoot", "ServerRoot /srv/x\nPidFile run/p.pid\n",
     lambda c: (c.server_root, c.pid_file) == ("/srv/x", "/srv/x/run/p.pid")),
    ("Listen", "Listen 8080\nListen 127.0.0.1:81\nListen [::1]:82 http\n",
     lambda c: c.listens == (Address("*", 8080), Address("127.0.0.1", 81),
                             Address("[::1]", 82))),
    ("<VirtualHost", "<VirtualHost *:80 _default_:81 127.0.0.1 [::1]:8080>\n</VirtualHost>\n",
     lambda c: c.vhosts[0].addresses == (Address("*", 80), Address("*", 81),
                                         Address("127.0.0.1", None), Address("[::1]", 8080))),
    ("ServerName", "<VirtualHost *>\nServerName https://www.Example.org:443\n</VirtualHost>\n",
     lambda c: c.vhosts[0].server_name == "www.Example.org"),
    ("ServerAlias", "<VirtualHost *>\nServerAlias a.example *.b.example\nServerAlias c\n"
                    "</VirtualHost>\n",
     lambda c: c.vhosts[0].server_aliases == ("a.example", "*.b.example", "c")),
    ("ServerAdmin", "ServerAdmin root@x\n", lambda c: c.main.server_admin == "root@x"),
    ("DocumentRoot", "DocumentRoot {tmp}//\n", lambda c: c.main.document_root == c.server_root),
    ("<Directory", '<Directory "/a/b/">\n</Directory>\n<Directory ~ "^/c">\n</Directory>\n',
     lambda c: [(s.kind, s.pattern, s.regex) for s in c.main.sections]
     == [("directory", "/a/b", False), ("directory", "^/c", True)]),
    ("<DirectoryMatch", '<DirectoryMatch "^/d/(a|b)">\n</DirectoryMatch>\n',
     lambda c: (c.main.sections[0].kind, c.main.sections[0].regex) == ("directory", True)),
    ("<Files", '<Files "x.txt">\nRequire all denied\n</Files>\n',
     lambda c: (c.main.sections[0].kind, require_of(c.main.sections[0].conf))
     == ("files", "all denied")),
    ("<FilesMatch", '<FilesMatch "^\\.ht">\nRequire all denied\n</FilesMatch>\n',
     lambda c: (c.main.sections[0].pattern, c.main.sections[0].regex) == ("^\\.ht", True)),
    ("<Location", "<Location /status>\nSetHandler server-status\n</Location>\n",
     lambda c: (c.main.sections[0].kind, c.main.sections[0].conf.set_handler)
     == ("location", "server-status")),
    ("<LocationMatch", '<LocationMatch "^/x">\n</LocationMatch>\n',
     lambda c: (c.main.sections[0].kind, c.main.sections[0].regex) == ("location", True)),
    ("Options", "Options +ExecCGI\n",
     lambda c: "ExecCGI" in c.main.base.effective_options),
    ("AllowOverride", "<Directory /x>\nAllowOverride FileInfo Options=Indexes\n</Directory>\n",
     lambda c: (c.main.sections[0].conf.allow_override,
                c.main.sections[0].conf.allow_override_opts)
     == (frozenset({"FileInfo", "Options"}), frozenset({"Indexes"}))),
    ("AllowOverrideList", "<Directory /x>\nAllowOverrideList Redirect DirectoryIndex\n"
                          "</Directory>\n",
     lambda c: c.main.sections[0].conf.allow_override_list
     == frozenset({"redirect", "directoryindex"})),
    ("Require", "<Directory /x>\nRequire all granted\n</Directory>\n",
     lambda c: require_of(c.main.sections[0].conf) == "all granted"),
    ("<RequireAll", "<Directory /x>\n<RequireAll>\nRequire all granted\n"
                    "Require not method POST\n</RequireAll>\n</Directory>\n",
     lambda c: require_of(c.main.sections[0].conf) == "<RequireAll>"),
    ("<RequireAny", "<Directory /x>\n<RequireAny>\nRequire all granted\n</RequireAny>\n"
                    "</Directory>\n",
     # "be associative": a RequireAny in the implicit RequireAny is spliced in
     lambda c: require_of(c.main.sections[0].conf) == "all granted"),
    ("<RequireNone", "<Directory /x>\n<RequireAll>\nRequire all granted\n<RequireNone>\n"
                     "Require method POST\n</RequireNone>\n</RequireAll>\n</Directory>\n",
     lambda c: require_of(c.main.sections[0].conf) == "<RequireAll>"),
    ("AuthMerging", "<Directory /x>\nAuthMerging And\n</Directory>\n",
     lambda c: c.main.sections[0].conf.authz is not None
     and c.main.sections[0].conf.authz.merging == "and"),
    ("AuthzSendForbiddenOnFailure", "<Directory /x>\nAuthzSendForbiddenOnFailure On\n"
                                    "</Directory>\n",
     lambda c: c.main.sections[0].conf.authz is not None
     and c.main.sections[0].conf.authz.forbidden_on_fail is True),
    ("<Limit", "<Directory /x>\n<Limit POST PUT>\nRequire all denied\n</Limit>\n"
               "</Directory>\n",
     lambda c: "POST" not in c.main.sections[0].conf.require_tree.children[0].limited.complement
     * "x" and c.main.sections[0].conf.require_tree.limited.names == {"POST", "PUT"}),
    ("<LimitExcept", "<Directory /x>\n<LimitExcept GET>\nRequire all denied\n"
                     "</LimitExcept>\n</Directory>\n",
     lambda c: c.main.sections[0].conf.require_tree.limited.complement),
    ("order", "LoadModule access_compat_module x.so\n<Directory /x>\nOrder allow,deny\n"
              "</Directory>\n",
     lambda c: c.main.sections[0].conf.access_compat.order_for("GET") == "allow,deny"),
    ("allow", "LoadModule access_compat_module x.so\n<Directory /x>\n"
              "Allow from 10.1 env=X example.org\n</Directory>\n",
     lambda c: [m.kind for m in c.main.sections[0].conf.access_compat.allows]
     == ["ip", "env", "host"]),
    ("deny", "LoadModule access_compat_module x.so\n<Directory /x>\nDeny from all\n"
             "</Directory>\n",
     lambda c: [m.kind for m in c.main.sections[0].conf.access_compat.denys] == ["all"]),
    ("Satisfy", "LoadModule access_compat_module x.so\n<Directory /x>\nSatisfy Any\n"
                "</Directory>\n",
     lambda c: c.main.sections[0].conf.access_compat.satisfy_for("GET") == "any"),
    ("DirectoryIndex", "DirectoryIndex a.html\nDirectoryIndex b.py\n"
                       "<Directory /x>\nDirectoryIndex disabled\n</Directory>\n",
     lambda c: (c.main.base.directory_index, c.main.sections[0].conf.directory_index)
     == (("a.html", "b.py"), ())),
    ("DirectorySlash", "DirectorySlash off\n",
     lambda c: c.main.base.directory_slash is False),
    ("FallbackResource", "FallbackResource /index.py\n<Directory /x>\n"
                         "FallbackResource disabled\n</Directory>\n",
     lambda c: (c.main.base.fallback_resource, c.main.sections[0].conf.fallback_resource)
     == ("/index.py", "disabled")),
    ("AddHandler", "AddHandler CGI-Script .PY cgi\n",
     lambda c: c.main.base.add_handlers == ((".py", "cgi-script"), (".cgi", "cgi-script"))),
    ("RemoveHandler", "RemoveHandler .py\n", lambda c: c.main.base.remove_handlers == (".py",)),
    ("SetHandler", "SetHandler cgi-script\n", lambda c: c.main.base.set_handler == "cgi-script"),
    ("AddType", "AddType text/Plain .txt .text\n",
     lambda c: c.main.base.add_types == ((".txt", "text/plain"), (".text", "text/plain"))),
    ("RemoveType", "RemoveType .TXT text\n",
     lambda c: c.main.base.remove_types == (".txt", ".text")),
    ("AddCharset", "AddCharset UTF-8 .utf8 .U8\n",
     lambda c: c.main.base.add_charsets == ((".utf8", "utf-8"), (".u8", "utf-8"))),
    ("RemoveCharset", "RemoveCharset .utf8\n",
     lambda c: c.main.base.remove_charsets == (".utf8",)),
    ("ForceType", "ForceType text/plain\n", lambda c: c.main.base.force_type == "text/plain"),
    ("TypesConfig", "TypesConfig {tmp}/mime.types\n",
     lambda c: dict(c.mime_types) == {".x1": "a/x", ".x2": "a/x", ".y": "b/y"}),
    ("AddDefaultCharset", "AddDefaultCharset On\n<Directory /x>\nAddDefaultCharset Off\n"
                          "</Directory>\n",
     lambda c: (c.main.base.default_charset, c.main.sections[0].conf.default_charset)
     == ("iso-8859-1", "")),
    ("ErrorLog", "ErrorLog logs/e.log\n", lambda c: c.main.error_log == c.server_root + "/logs/e.log"),
    ("LogLevel", "LogLevel info ssl:warn\n", lambda c: c.main.log_level == "info"),
    ("LogFormat", 'CustomLog a.log short\nLogFormat "%h %>s" short\n',
     lambda c: (c.main.custom_logs[0].format, c.main.custom_logs[0].nickname)
     == ("%h %>s", "short")),
    ("CustomLog", 'CustomLog "|/bin/cat" "%h %u" env=!quiet\nCustomLog /l/b.log notanick\n',
     lambda c: [(x.target, x.format, x.nickname, x.condition) for x in c.main.custom_logs]
     == [("|/bin/cat", "%h %u", None, "env=!quiet"), ("/l/b.log", "notanick", None, None)]),
    ("TransferLog", "TransferLog t.log\n",
     lambda c: c.main.custom_logs[0].format == '%h %l %u %t "%r" %>s %b'),
    ("Alias", "Alias /icons/ /usr/share/icons/\n<Location /x>\nAlias /srv/x\n</Location>\n",
     lambda c: [(a.kind, a.url, a.path) for a in c.main.aliases]
     == [("alias", "/icons/", "/usr/share/icons/"), ("alias", "/x", "/srv/x")]),
    ("ScriptAlias", "ScriptAlias /cgi-bin/ /usr/lib/cgi-bin/\n",
     lambda c: c.main.aliases[0].is_script),
    ("AliasMatch", "AliasMatch ^/a/(.*) /b/$1\n",
     lambda c: c.main.aliases[0].kind == "aliasmatch"),
    ("ScriptAliasMatch", "ScriptAliasMatch ^/c/(.*) /d/$1\n",
     lambda c: c.main.aliases[0].kind == "scriptaliasmatch"),
    ("ErrorDocument", 'ErrorDocument 404 /missing.html\nErrorDocument 403 "Go away"\n'
                      "ErrorDocument 500 http://x.example/e\nErrorDocument 410 gone\n",
     lambda c: c.main.base.error_documents
     == ((404, "/missing.html"), (403, '"Go away'), (500, "http://x.example/e"),
         (410, '"gone'))),
    ("Timeout", "Timeout 30\n", lambda c: c.main.timeout == 30.0),
    ("KeepAlive", "KeepAlive Off\n", lambda c: c.main.keepalive is False),
    ("KeepAliveTimeout", "KeepAliveTimeout 1500ms\n", lambda c: c.main.keepalive_timeout == 1.5),
    ("MaxKeepAliveRequests", "MaxKeepAliveRequests 7\n",
     lambda c: c.main.max_keepalive_requests == 7),
    ("ServerTokens", "ServerTokens ProductOnly\n", lambda c: c.server_tokens == "Prod"),
    ("ServerSignature", "ServerSignature EMail\n<Location /x>\nServerSignature On\n"
     "</Location>\n", lambda c: c.main.server_signature == "email"
     and c.main.sections[0].conf.server_signature == "on"),
    ("TraceEnable", "TraceEnable Off\n<VirtualHost *:80>\n</VirtualHost>\n",
     lambda c: c.main.trace_enable == "off" == c.vhosts[0].trace_enable),
    ("LoadModule", "LoadModule status_module x.so\n", lambda c: "status_module" in c.modules),
    # acted on while reading (EXEC_ON_READ), none of them left for the second phase
    ("Define", "Define A\nDefine B 1\n", lambda c: {"A", "B"} <= c.defines),
    ("UnDefine", "Define A\nUnDefine A\n", lambda c: "A" not in c.defines),
    ("<IfDefine", "Define A\n<IfDefine A>\nServerAdmin a@x\n</IfDefine>\n"
                  "<IfDefine !A>\nServerAdmin b@x\n</IfDefine>\n",
     lambda c: c.main.server_admin == "a@x"),
    ("<IfModule", "<IfModule mod_mime.c>\nServerAdmin a@x\n</IfModule>\n"
                  "<IfModule !mime_module>\nServerAdmin b@x\n</IfModule>\n",
     lambda c: c.main.server_admin == "a@x"),
    ("<IfFile", "<IfFile {tmp}/mime.types>\nServerAdmin a@x\n</IfFile>\n"
                "<IfFile {tmp}/none>\nServerAdmin b@x\n</IfFile>\n",
     lambda c: c.main.server_admin == "a@x"),
    ("<IfDirective", "<IfDirective ServerAdmin !Bogus>\nServerAdmin a@x\n</IfDirective>\n"
                     "<IfDirective Bogus>\nServerAdmin b@x\n</IfDirective>\n",
     lambda c: c.main.server_admin == "a@x"),
    ("<IfSection", "<IfSection Directory>\nServerAdmin a@x\n</IfSection>\n"
                   "<IfSection Bogus>\nServerAdmin b@x\n</IfSection>\n",
     lambda c: c.main.server_admin == "a@x"),
    ("Include", "Include /dev/null\n", lambda c: c.files[1:] == ("/dev/null",)),
    ("IncludeOptional", "IncludeOptional {tmp}/none/*.conf\nIncludeOptional /dev/null\n",
     lambda c: c.files[1:] == ("/dev/null",)),
    ("PidFile", "PidFile /run/x.pid\n", lambda c: c.pid_file == "/run/x.pid"),
    ("ExtendedStatus", "ExtendedStatus On\n", lambda c: c.extended_status is True),
    ("Mutex", "Mutex file:/tmp default\n",
     lambda c: any("Mutex (" in w for w in c.warnings)),
    ("User", "User www-data\nGroup www-data\n",
     lambda c: (c.user, c.group) == ("www-data", "www-data")),
    ("Group", "Group #33\n", lambda c: c.group == "#33"),
    ("LimitRequestLine", "LimitRequestLine 100\nLimitRequestFieldSize 200\n"
                         "LimitRequestFields 10\nLimitRequestBody 1000\n",
     lambda c: (c.limits.request_line, c.limits.request_field_size, c.limits.request_fields,
                c.limits.request_body) == (100, 200, 10, 1000)),
    ("LimitRequestFieldSize", "LimitRequestFieldsize 300\n",
     lambda c: c.limits.request_field_size == 300),
    ("LimitRequestFields", "LimitRequestFields 0\n", lambda c: c.limits.request_fields == 0),
    ("LimitRequestBody", "LimitRequestBody 5\n",
     lambda c: c.limits.request_body == 5 and c.main.base.limit_request_body == 5),
    ("HostnameLookups", "HostnameLookups Off\n", lambda c: True),
    ("DefaultRuntimeDir", "DefaultRuntimeDir /run/x\n",
     lambda c: any("DefaultRuntimeDir (" in w for w in c.warnings)),
    ("AccessFileName", "AccessFileName .acl .htaccess\n<VirtualHost *>\n</VirtualHost>\n",
     lambda c: c.main.access_file_names == c.vhosts[0].access_file_names
     == (".acl", ".htaccess")),
    ("SetEnv", "SetEnv A 1\nPassEnv PATH HOME\nUnsetEnv B\nSetEnv C\n",
     lambda c: c.main.base.env == (("set", "A", "1"), ("pass", "PATH", ""),
                                   ("pass", "HOME", ""), ("unset", "B", ""),
                                   ("set", "C", ""))),
    ("PassEnv", "PassEnv X\n", lambda c: c.main.base.env == (("pass", "X", ""),)),
    ("UnsetEnv", "UnsetEnv X\n", lambda c: c.main.base.env == (("unset", "X", ""),)),
    ("SetEnvIf", "LoadModule setenvif_module x.so\nSetEnvIf Remote_Addr ^127 local !x\n"
     "<VirtualHost *>\nSetEnvIf User-Agent Foo ua=$0\n</VirtualHost>\n"
     "<Directory /srv>\nSetEnvIf Request_URI x d\n</Directory>\n",
     lambda c: [x.features for x in c.vhosts[0].setenvif]
     == [(("local", "1"), ("x", "!")), (("ua", "$0"),)]
     and c.main.sections[-1].conf.setenvif[0].attribute == "Request_URI"
     and not c.main.base.setenvif),
    ("SetEnvIfNoCase", "LoadModule setenvif_module x.so\nSetEnvIfNoCase Host a b\n",
     lambda c: c.main.setenvif[0].icase),
    ("BrowserMatch", "LoadModule setenvif_module x.so\nBrowserMatch ^Moz m\n",
     lambda c: (c.main.setenvif[0].attribute, c.main.setenvif[0].icase)
     == ("User-Agent", False)),
    ("BrowserMatchNoCase", "LoadModule setenvif_module x.so\nBrowserMatchNoCase moz m\n",
     lambda c: c.main.setenvif[0].icase
     and not any("setenvif" in w for w in c.warnings)),
    ("ScriptLog", "ScriptLog logs/cgi.log\nScriptLogLength 100\nScriptLogBuffer 10\n",
     lambda c: c.main.script_log == c.server_root + "/logs/cgi.log"),
    ("ScriptLogLength", "ScriptLogLength 100\n", lambda c: True),
    ("ScriptLogBuffer", "ScriptLogBuffer 100\n", lambda c: True),
    ("ScriptSock", "LoadModule cgid_module x.so\nScriptSock /run/cgisock\n",
     lambda c: any("ScriptSock (" in w for w in c.warnings)),
    ("CGIScriptTimeout", "CGIScriptTimeout 20\n",
     lambda c: c.main.script_timeout == 20.0),
    ("CGIDScriptTimeout", "LoadModule cgid_module x.so\nCGIDScriptTimeout 3\n",
     lambda c: c.main.cgi_script_timeout == 3.0),
    ("CGIPassAuth", "<Directory /x>\nCGIPassAuth On\n</Directory>\n",
     lambda c: c.main.sections[0].conf.cgi_pass_auth is True),
    ("EnableSendfile", "<Directory /x>\nEnableSendfile Off\n</Directory>\n",
     lambda c: c.main.sections[0].conf.enable_sendfile is False),
    ("CGIVar", "CGIVar REQUEST_URI current-uri\n",
     lambda c: c.main.base.cgi_vars == (("REQUEST_URI", "current-uri"),)),
    ("CGIPythonInterpreter", "CGIPythonInterpreter /usr/bin/python3\n",
     lambda c: c.main.base.cgi_python == "/usr/bin/python3"),
    ("CGIWarmPython", "CGIWarmPython on\n", lambda c: c.main.base.cgi_warm_python is True),
    ("CGIWarmPreload", "CGIWarmPreload json cgi\n<VirtualHost *>\nCGIWarmPreload "
                       "email.parser json\n</VirtualHost>\n",
     lambda c: c.cgi_warm_preload == ("json", "cgi", "email.parser")
     and not any("CGIWarmPreload" in w for w in c.warnings)),
    ("CGIMaxProcesses", "CGIMaxProcesses 8\n", lambda c: c.max_concurrent_cgi == 8),
    ("CGIQueueTimeout", "Timeout 30\nCGIQueueTimeout 1500ms\n",
     lambda c: c.cgi_queue_timeout == 1.5),
    ("CGIQueueMemory", "CGIQueueMemory 16M\n", lambda c: c.cgi_queue_memory == 16 << 20),
    ("CGIDevMode", "CGIDevMode On\n", lambda c: c.dev_mode is True),
    ("GracefulShutdownTimeout", "GracefulShutdownTimeout 5\n",
     lambda c: c.graceful_shutdown_timeout == 5 and c.warnings == ()),
    ("Redirect", "Redirect permanent /a http://x/\n<Location /l>\nRedirect gone\n</Location>\n",
     lambda c: [(r.status, r.fake, r.url) for r in c.main.redirects]
     == [(301, "/a", "http://x/")] and c.main.sections[0].conf.redirect is not None),
    ("RedirectMatch", "RedirectMatch ^/cgit$ /cgit/\n",
     lambda c: c.main.redirects[0].regex and c.main.redirects[0].url == "/cgit/"),
    ("RedirectTemp", "RedirectTemp /a /b\n", lambda c: c.main.redirects[0].status == 302),
    ("RedirectPermanent", "RedirectPermanent /a /b\n",
     lambda c: c.main.redirects[0].status == 301),
    ("RequestReadTimeout", f"{REQTIMEOUT}RequestReadTimeout header=5-10,minrate=100 "
                           "body=0 handshake=5\n",
     lambda c: (c.header_timeout, c.body_timeout)
     == (ReadTimeout(5.0, 10.0, 100), ReadTimeout(0.0, 0.0, 0))),
    ("IndexOptions", f"{AUTOINDEX}IndexOptions FancyIndexing VersionSort HTMLTable NameWidth=* "
                     "DescriptionWidth=* Charset=UTF-8\n",
     lambda c: c.main.base.index_options == ("FancyIndexing", "HTMLTable", "VersionSort",
                                             "NameWidth=*", "DescriptionWidth=*",
                                             "Charset=UTF-8")),
    ("FancyIndexing", AUTOINDEX, lambda c: c.main.base.effective_index_options == ()),
    ("IndexIgnore", f"{AUTOINDEX}IndexIgnore .??* *~\nIndexIgnore RCS\n",
     lambda c: c.main.base.index_ignore == (".??*", "*~", "RCS")),
    ("IndexIgnoreReset", f"{AUTOINDEX}<Directory /x>\nIndexIgnoreReset on\n</Directory>\n",
     lambda c: c.main.sections[0].conf.index_ignore_reset is True),
    ("HeaderName", f"{AUTOINDEX}HeaderName HEADER.html\nReadmeName README.html\n",
     lambda c: (c.main.base.header_name, c.main.base.readme_name)
     == ("HEADER.html", "README.html")
     and not any("HeaderName" in w or "ReadmeName" in w for w in c.warnings)),
    ("ReadmeName", f"{AUTOINDEX}ReadmeName R\n", lambda c: c.main.base.readme_name == "R"),
    ("AuthType", f"{AUTHN}<Directory /x>\nAuthType basic\n</Directory>\n",
     lambda c: c.main.sections[0].conf.auth_type == "basic"),
    ("AuthName", f"{AUTHN}<Directory /x>\nAuthName \"a b\"\n</Directory>\n",
     lambda c: c.main.sections[0].conf.auth_name == "a b"),
    ("AuthBasicProvider", f"{AUTHN}<Directory /x>\nAuthBasicProvider file\n</Directory>\n",
     lambda c: c.main.sections[0].conf.auth_basic_providers == ("file",)),
    ("AuthBasicAuthoritative", f"{AUTHN}<Directory /x>\nAuthBasicAuthoritative Off\n"
                               "</Directory>\n",
     lambda c: c.main.sections[0].conf.auth_basic_authoritative is False),
    ("AuthUserFile", f"{AUTHN}<Directory /x>\nAuthUserFile users\n</Directory>\n",
     lambda c: c.main.sections[0].conf.auth_user_file == c.server_root + "/users"),
    ("AuthGroupFile", f"{AUTHN}<Directory /x>\nAuthGroupFile /g\n</Directory>\n",
     lambda c: c.main.sections[0].conf.auth_group_file == "/g"),
    ("RewriteEngine", f"{REWRITE}RewriteEngine On\n<Directory /x>\nRewriteEngine Off\n"
                      "</Directory>\n",
     lambda c: (c.main.rewrite.engine, c.main.base.rewrite.engine,  # type: ignore[union-attr]
                c.main.sections[0].conf.rewrite.engine) == (True, True, False)),  # type: ignore[union-attr]
    ("RewriteOptions", f"{REWRITE}<Directory /x>\nRewriteOptions Inherit AllowNoSlash\n"
                       "</Directory>\n",
     lambda c: c.main.sections[0].conf.rewrite.options  # type: ignore[union-attr]
     == {"Inherit", "AllowNoSlash"}),
    ("RewriteBase", f"{REWRITE}<Directory /x>\nRewriteBase /app/\n</Directory>\n",
     lambda c: (c.main.sections[0].conf.rewrite.base,  # type: ignore[union-attr]
                c.main.sections[0].conf.rewrite.directory) == ("/app/", "/x/")),  # type: ignore[union-attr]
    ("RewriteCond", f"{REWRITE}RewriteCond %{{HTTP_HOST}} ^a [NC,OR]\nRewriteCond "
                    "%{REQUEST_FILENAME} !-f\nRewriteRule ^/(.*) /b/$1 [R=301,L]\n",
     lambda c: [(d.test, d.kind, d.negate, d.nocase, d.ornext)
                for d in c.main.rewrite.rules[0].conds]  # type: ignore[union-attr]
     == [("%{HTTP_HOST}", "regex", False, True, True),
         ("%{REQUEST_FILENAME}", "-f", True, False, False)]),
    ("RewriteRule", f"{REWRITE}RewriteRule ^/old/(.*)$ /new/$1 [R=301,L,QSA]\n",
     lambda c: [(r.pattern, r.output, r.status, r.redirect, r.last, r.qsappend)
                for r in c.main.rewrite.rules]  # type: ignore[union-attr]
     == [("^/old/(.*)$", "/new/$1", 301, True, True, True)]),
    # refused: a map cgihttpd cannot look up would rewrite somewhere else
    ("RewriteMap", f"{REWRITE}ServerName x\n", lambda c: c.main.rewrite is not None),
    ("ErrorLogFormat", "ErrorLogFormat \"[%l] %M\"\n",
     lambda c: c.main.error_log_format == "[%l] %M"),
    ("SetEnvIfExpr", "LoadModule setenvif_module m.so\nSetEnvIfExpr \"-n req('X')\" V=1\n",
     lambda c: c.main.setenvif[0].expr is not None),
    ("Header", "LoadModule headers_module m.so\nHeader always set X y\n",
     lambda c: c.main.base.headers[0].table == "always"),
    ("RequestHeader", "LoadModule headers_module m.so\nRequestHeader unset X\n",
     lambda c: c.main.base.request_headers[0].kind == "unset"),
    ("RemoteIPHeader", f"{REMOTEIP}RemoteIPHeader X-Real-IP\n<VirtualHost *>\n</VirtualHost>\n",
     lambda c: c.vhosts[0].remoteip.header == "x-real-ip"),
    ("RemoteIPProxiesHeader", f"{REMOTEIP}RemoteIPProxiesHeader X-Forwarded-By\n",
     lambda c: c.main.remoteip.proxies_header == "X-Forwarded-By"),
    ("RemoteIPTrustedProxy", f"{REMOTEIP}RemoteIPTrustedProxy 10.0.0.0/8 192.0.2.1\n"
                             "<VirtualHost *>\nRemoteIPTrustedProxy 2001:db8::/32\n"
                             "</VirtualHost>\n",
     lambda c: [m.internal for m in c.main.remoteip.proxies or ()] == [False, False]
     and (c.vhosts[0].remoteip.proxies or ())[0].subnet.contains("2001:db8::5")),
    ("RemoteIPInternalProxy", f"{REMOTEIP}RemoteIPInternalProxy 192.168.0.0/255.255.0.0\n",
     lambda c: (c.main.remoteip.proxies or ())[0].internal
     and (c.main.remoteip.proxies or ())[0].subnet.contains("192.168.7.7")),
    *((name, f"{REMOTEIP}{name} {{tmp}}/list\n",
       lambda c: [m.subnet.contains("10.1.2.3") for m in c.main.remoteip.proxies or ()]
       == [True, False]) for name in ("RemoteIPTrustedProxyList",
                                      "RemoteIPInternalProxyList")),
    ("RemoteIPProxyProtocol", f"{REMOTEIP}RemoteIPProxyProtocol On\n"
                              "<VirtualHost *>\nRemoteIPProxyProtocol Off\n</VirtualHost>\n",
     lambda c: c.main.proxy_protocol and not c.vhosts[0].proxy_protocol),
    ("RemoteIPProxyProtocolExceptions", f"{REMOTEIP}RemoteIPProxyProtocolExceptions "
                                        "127.0.0.2 10.0.0.0/8\n",
     lambda c: len(c.main.proxy_protocol_exceptions) == 2),
    ("SSLEngine", f"{SSL}SSLEngine on\n", lambda c: c.main.tls is not None),
    ("SSLCertificateFile", f"{SSL}SSLEngine on\n",
     lambda c: c.main.tls and c.main.tls.certificate_file == c.server_root + "/mime.types"),
    ("SSLCertificateKeyFile", f"{SSL}SSLEngine on\nSSLCertificateKeyFile mime.types\n",
     lambda c: c.main.tls and c.main.tls.certificate_key_file),
    ("SSLCertificateChainFile", f"{SSL}SSLEngine on\nSSLCertificateChainFile mime.types\n",
     lambda c: c.main.tls and c.main.tls.certificate_chain_file),
    ("SSLProtocol", f"{SSL}SSLEngine on\nSSLProtocol -all +TLSv1.3\n",
     lambda c: c.main.tls and c.main.tls.protocols == {"TLSv1.3"}),
    ("SSLCipherSuite", f"{SSL}SSLEngine on\nSSLCipherSuite SSL HIGH:!aNULL\n",
     lambda c: c.main.tls and c.main.tls.cipher_suite == "HIGH:!aNULL"),
    ("SSLHonorCipherOrder", f"{SSL}SSLEngine on\nSSLHonorCipherOrder on\n",
     lambda c: c.main.tls and c.main.tls.honor_cipher_order),
    ("SSLSessionTickets", f"{SSL}SSLEngine on\nSSLSessionTickets off\n",
     lambda c: c.main.tls and not c.main.tls.session_tickets),
    ("SSLCompression", f"{SSL}SSLCompression off\n", lambda c: c.main.tls is None),
    ("SSLOptions", f"{SSL}<Directory /x>\nSSLOptions +StdEnvVars\n</Directory>\n",
     lambda c: c.main.sections[0].conf.ssl_std_env_vars is True),
    ("SSLRequireSSL", f"{SSL}<Directory /x>\nSSLRequireSSL\n</Directory>\n",
     lambda c: c.main.sections[0].conf.ssl_require_ssl is True),
    *((name, f"{SSL}{name} {args}\n",
       lambda c: any("no effect" in w for w in c.warnings)) for name, args in [
        ("SSLRandomSeed", "startup builtin"), ("SSLSessionCache", "none"),
        ("SSLSessionCacheTimeout", "300"), ("SSLPassPhraseDialog", "builtin"),
        ("SSLStaplingCache", "shmcb:x"), ("SSLProxyEngine", "off"),
        ("SSLProxyProtocol", "all"), ("SSLProxyCipherSuite", "HIGH"),
        ("SSLProxyVerify", "none"), ("SSLProxyVerifyDepth", "1"),
        ("SSLProxyCACertificateFile", "x"), ("SSLProxyCACertificatePath", "x"),
        ("SSLProxyCheckPeerExpire", "on"), ("SSLProxyCheckPeerCN", "on"),
        ("SSLProxyCheckPeerName", "on")]),
    *((name, f"{AUTOINDEX}{name} {args}\n",
       lambda c: not any("autoindex" in w for w in c.warnings)) for name, args in [
        # icons: accepted silently, cgihttpd's listing draws none
        ("AddIcon", "/icons/x.gif .x"), ("AddIconByType", "/icons/t.gif text/*"),
        ("AddIconByEncoding", "/icons/c.gif x-gzip"), ("AddAlt", "X .x"),
        ("AddAltByType", "T text/*"), ("AddAltByEncoding", "C x-gzip"),
        ("DefaultIcon", "/icons/unknown.gif")]),
]


@pytest.mark.parametrize(("name", "text", "check"), CASES, ids=[c[0] for c in CASES])
def test_directive(tmp_path: Path, name: str, text: str, check: Check) -> None:
    (tmp_path / "mime.types").write_text("# comment\na/x x1 X2\nb/y y\n\n")
    (tmp_path / "list").write_text("# proxies\n10.0.0.0/8 # the LAN\n192.0.2.9\n")
    c = load(tmp_path, text.replace("{tmp}", str(tmp_path)))
    result = check(c)
    if isinstance(result, bool):
        assert result, f"{name}: {c}"
    else:
        assert result


def test_every_table_directive_is_covered() -> None:
    covered = {name.lower() for name, _, _ in CASES}
    assert set(DIRECTIVES) - covered == set()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<Directory /tmp>\nDocumentRoot /tmp\n</Directory>\n",
         "F:2: DocumentRoot not allowed in <Directory> context"),
        ("<Location />\nServerName y\n</Location>\n",
         "F:2: ServerName not allowed in <Location> context"),
        ("Require all granted\n", "F:1: Require not allowed here"),
        ("<VirtualHost *>\nRequire all granted\n</VirtualHost>\n",
         "F:2: Require not allowed in <VirtualHost> context"),
        ("<Directory /tmp>\n<Directory /a>\n</Directory>\n</Directory>\n",
         "F:2: <Directory not allowed in <Directory> context"),
        ("<VirtualHost *:80>\n<VirtualHost *:81>\n</VirtualHost>\n</VirtualHost>\n",
         "F:2: <VirtualHost> cannot occur within <VirtualHost> section"),
        ("<VirtualHost *:80>\nListen 81\n</VirtualHost>\n",
         "F:2: Listen cannot occur within <VirtualHost> section"),
        ("<VirtualHost *:80>\nUser x\n</VirtualHost>\n",
         "F:2: User cannot occur within <VirtualHost> section"),
        ("<VirtualHost *:80>\nServerTokens Prod\n</VirtualHost>\n",
         "F:2: ServerTokens cannot occur within <VirtualHost> section"),
        ("<VirtualHost *:80>\nPidFile x\n</VirtualHost>\n",
         "F:2: PidFile cannot occur within <VirtualHost> section"),
        ("<VirtualHost *:80>\nGracefulShutdownTimeout 5\n</VirtualHost>\n",
         "F:2: GracefulShutdownTimeout cannot occur within <VirtualHost> section"),
        ("GracefulShutdownTimeout\n", "F:1: GracefulShutdownTimeout takes one argument, "
         "Maximum time in seconds to wait for child processes to complete transactions "
         "during shutdown"),
        ("Foo bar\n", f"F:1: Invalid command 'Foo', {INVALID}"),
        # MPM directives read before the MPM is loaded are checked against it (as Apache)
        ("ThreadsPerChild 5\nStartServers 2\nLoadModule mpm_prefork_module x.so\n",
         f"F:1: Invalid command 'ThreadsPerChild', {INVALID}"),
        ("<Foo bar>\n</Foo>\n", f"F:1: Invalid command '<Foo', {INVALID}"),
        ("ServerName a b\n",
         "F:1: ServerName takes one argument, The hostname and port of the server"),
        ('ServerName ""\n',
         "F:1: ServerName takes one argument, The hostname and port of the server"),
        ("Listen\n", "F:1: Listen requires 1 or 2 arguments."),
        ("KeepAlive maybe\n", "F:1: KeepAlive must be On or Off"),
        ("CGIQueueMemory 1.5M\n", "F:1: CGIQueueMemory must be a number of bytes, with K, "
         "M or G for KiB, MiB or GiB"),
        ("CGIQueueTimeout soon\n", "F:1: CGIQueueTimeout has wrong format"),
        ("DirectorySlash maybe\n", "F:1: DirectorySlash must be On or Off"),
        ("AddHandler cgi-script\n", "F:1: AddHandler requires at least two arguments, a "
                                    "handler name followed by one or more file extensions"),
        ("<Directory>\n</Directory>\n", "F:1: <Directory> directive requires additional "
                                        "arguments"),
        ("<Directory /x>\nRequire foo\n</Directory>\n", "F:2: Unknown Authz provider: foo"),
        ("ServerAlias x\n", "F:1: ServerAlias only used in <VirtualHost>"),
        ("ErrorDocument 999 /x\n", "F:1: Unsupported HTTP response code 999"),
        ("ServerSignature maybe\n", "F:1: ServerSignature: use one of: off | on | email"),
        ("TraceEnable maybe\n", "F:1: TraceEnable must be one of 'on', 'off', or 'extended'"),
        ("<DirectoryMatch (>\n</DirectoryMatch>\n",
         "F:1: Regular expression could not be compiled."),
        ("CGIVar FOO current-uri\n", 'F:1: Unrecognized CGI variable: "FOO"'),
        *((REQTIMEOUT + f"RequestReadTimeout {arg}\n", "F:2: " + msg) for arg, msg in [
            # mod_reqtimeout set_reqtimeouts / set_reqtimeout_param, as apache2 -t says
            ("header=10-5,MinRate=1", "RequestReadTimeout: header=10-5,MinRate=1: Maximum "
                                      "timeout must be larger than initial timeout"),
            ("header=10-20", "RequestReadTimeout: header=10-20: Must set MinRate option if "
                             "using timeout range"),
            ("header=abc", "RequestReadTimeout: header=abc: Value 'abc' not numerical"),
            ("header=10x", "RequestReadTimeout: header=10x: Cannot parse 'x'"),
            ("foo=1", "RequestReadTimeout: foo=1: Unknown RequestReadTimeout parameter"),
            ("header", "Invalid RequestReadTimeout parameter. Parameter must be in the form "
                       "'key=value'"),
            ("body=5,minrate=0", "RequestReadTimeout: body=5,minrate=0: Minimum data rate "
                                 "must be larger than 0"),
            ("header=5-9,MinRate=-2", "RequestReadTimeout: header=5-9,MinRate=-2: Value "
                                      "must be non-negative"),
        ]),
        *((AUTOINDEX + f"{line}\n", "F:2: " + msg) for line, msg in [
            # mod_autoindex add_opts and friends, as apache2 -t says
            ("IndexOptions Foo", "Invalid directory indexing option"),
            ("IndexOptions +None", "Cannot combine '+' or '-' with 'None' keyword"),
            ("IndexOptions None FancyIndexing",
             "Cannot combine other IndexOptions keywords with 'None'"),
            ("IndexOptions NameWidth=3", "NameWidth value must be greater than 5"),
            ("IndexOptions -NameWidth=5", "Cannot combine '-' with NameWidth=n"),
            ("IndexOptions NameWidth", "NameWidth with no value may only appear as "
                                       "'-NameWidth'"),
            ("IndexOptions DescriptionWidth=5",
             "DescriptionWidth value must be greater than 12"),
            ("FancyIndexing on", "The FancyIndexing directive is no longer supported. Use "
                                 "IndexOptions FancyIndexing."),
            ("IndexIgnoreReset maybe", "IndexIgnoreReset must be On or Off"),
            ("HeaderName", "HeaderName takes one argument, a filename"),
            ("AddIcon x", "AddIcon requires at least two arguments, an icon URL followed by "
                          "one or more filenames"),
        ]),
        ("<Location /x>\n<Files a>\n</Files>\n</Location>\n",
         "F:2: <Files> cannot occur within <Location> section"),
        ("CGIWarmPreload json ../x\n",
         "F:1: CGIWarmPreload: '../x' is not a Python module name"),
        ("LogLevel loud\n", "F:1: LogLevel requires level keyword: one of emerg/alert/crit/"
                            "error/warn/notice/info/debug/trace1/trace2/trace3/trace4/trace5/"
                            "trace6/trace7/trace8"),
        ("DocumentRoot /no/such/dir\n",
         "F:1: DocumentRoot '/no/such/dir' is not a directory, or is not readable"),
    ],
)
def test_errors_with_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    assert message in errors(tmp_path, text)


def test_all_errors_are_reported_in_file_order(tmp_path: Path) -> None:
    errs = errors(tmp_path, "Foo\nServerName a b\n<Directory /x>\nDocumentRoot /x\n"
                            "</Directory>\nBar\n")
    assert [e.split(":")[1] for e in errs] == ["1", "2", "4", "6"]


def test_require_local_is_enforced_unevaluable_providers_refuse_to_start(
        tmp_path: Path) -> None:
    c = load(tmp_path, "LoadModule authz_host_module x.so\n"
                       "<Location /status>\nRequire local\n</Location>\n")
    assert require_of(c.main.sections[0].conf) == "local"
    text = errors(tmp_path, "LoadModule authz_host_module x.so\n"
                            "<Directory /x>\nRequire forward-dns a.example\n</Directory>\n")
    assert text == ["F:3: Require forward-dns a.example: authorization by 'forward-dns' is "
                    "not supported by cgihttpd yet; refusing to start rather than serve "
                    "unprotected"]


REFUSE = "is not supported by cgihttpd yet; refusing to start rather than serve unprotected"


@pytest.mark.parametrize(
    ("modules", "body", "line", "start"),
    [
        (["authn_core_module"], "<Directory /x>\nAuthType Digest\n</Directory>\n", 2,
         "AuthType Digest: authentication by 'Digest'"),
        (["authn_core_module"], "<Directory /x>\nAuthType form\n</Directory>\n", 2,
         "AuthType form: authentication by 'form'"),
        (["auth_basic_module", "authn_dbm_module"],
         "<Directory /x>\nAuthBasicProvider dbm\n</Directory>\n", 2,
         "AuthBasicProvider dbm: authentication by the 'dbm' provider"),
        (["auth_basic_module"], "<Directory /x>\nAuthBasicFake alice\n</Directory>\n", 2,
         "AuthBasicFake: authentication"),
        (["authz_dbm_module"], "<Location /x>\nAuthDBMGroupFile /g\n</Location>\n", 2,
         "AuthDBMGroupFile: authorization"),
        (["authz_owner_module"], "<Directory /x>\nRequire file-owner\n</Directory>\n", 2,
         "Require file-owner: authorization by 'file-owner'"),
        (["authz_host_module"], "<Directory /x>\nRequire forward-dns a.example\n"
                                "</Directory>\n", 2, "Require forward-dns a.example: "
                                                     "authorization by 'forward-dns'"),
        ([], "<Directory /x>\nRequire expr %{TIME_HOUR} -gt 5\n</Directory>\n", 2,
         "Require expr %{TIME_HOUR} -gt 5: this expression (variable %{TIME_HOUR})"),
        (["authz_user_module"], "<Directory /x>\nRequire user %{HTTP_HOST}\n</Directory>\n",
         2, "Require user %{HTTP_HOST}: an expression in 'Require user'"),
        # an unimplemented section would ignore what it holds: a protection in it refuses
        ([], "<Directory /x>\n<If \"true\">\nRequire all denied\n</If>\n</Directory>\n",
         3, "Require: authorization"),
    ],
)
def test_protections_not_enforced_refuse_to_start(tmp_path: Path, modules: list[str],
                                                  body: str, line: int, start: str) -> None:
    """Issue 9: a protection cgihttpd cannot enforce is a start-up error with its
    file and line, never a warning and an unprotected page."""
    loads = "".join(f"LoadModule {m} x.so\n" for m in modules)
    found = errors(tmp_path, loads + body)
    at = len(modules) + line
    assert found[0].startswith(f"F:{at}: {start} "), found
    assert found[0].endswith(REFUSE), found


AUTH_MODULES = ("auth_basic_module", "authn_core_module", "authn_file_module",
                "authz_user_module", "authz_groupfile_module")


def test_basic_authentication_loads(tmp_path: Path) -> None:
    loads = "".join(f"LoadModule {m} x.so\n" for m in AUTH_MODULES)
    c = load(tmp_path, loads + "ServerRoot /srv/root\n"
             "<Directory /x>\nAuthType Basic\nAuthName \"say \\\"hi\\\"\"\n"
             "AuthBasicProvider file\nAuthUserFile conf/users\nAuthGroupFile /etc/groups\n"
             "AuthBasicAuthoritative Off\nRequire group admins staff\n</Directory>\n"
             "<Directory /x/y>\nAuthType None\nRequire user alice\n</Directory>\n"
             "<Directory /x/z>\nRequire valid-user\nCGIPassAuth On\n</Directory>\n")
    outer, inner, other = (s.conf for s in c.main.sections)
    assert (outer.auth_type, outer.auth_basic_providers, outer.auth_basic_authoritative) == (
        "Basic", ("file",), False)
    # the word is 'say "hi"'; ap_escape_quotes escapes its quotes for the header
    assert outer.auth_name == 'say \\"hi\\"'
    assert outer.auth_user_file == "/srv/root/conf/users"  # ServerRoot-relative
    assert outer.auth_group_file == "/etc/groups"
    assert require_of(outer) == "group admins staff"
    merged = outer.merge(inner)
    assert merged.effective_auth_type is None and merged.auth_name == outer.auth_name
    assert require_of(merged) == "user alice"
    merged = outer.merge(other)
    assert (require_of(merged), merged.auth_type) == ("valid-user", "Basic")
    assert merged.cgi_pass_auth is True
    assert c.warnings == () or not any("auth" in w for w in c.warnings), c.warnings


def test_auth_directive_errors_are_apaches(tmp_path: Path) -> None:
    loads = "".join(f"LoadModule {m} x.so\n" for m in AUTH_MODULES)
    found = errors(tmp_path, loads + "<Directory /x>\nAuthBasicProvider nosuch\n"
                   "AuthType\nAuthName a b\n</Directory>\n")
    at = len(AUTH_MODULES)
    assert found == [
        f"F:{at + 2}: Unknown Authn provider: nosuch",
        f"F:{at + 3}: AuthType takes one argument, an HTTP authorization type (e.g., "
        '"Basic")',
        f"F:{at + 4}: AuthName takes one argument, the authentication realm (e.g. "
        '"Members Only")',
    ]
    # without mod_authn_file loaded the file provider is unknown
    found = errors(tmp_path, "LoadModule auth_basic_module x.so\n<Directory /x>\n"
                   "AuthBasicProvider file\n</Directory>\n")
    assert found == ["F:3: Unknown Authn provider: file"]


def test_allowoverride_outside_directory_is_useless(tmp_path: Path) -> None:
    c = load(tmp_path, "<Location /a>\nAllowOverride None\n</Location>\n")
    # core.c AH00114
    assert any("Useless use of AllowOverride" in w for w in c.warnings)


def test_messages_name_the_directive_as_apache_defines_it(tmp_path: Path) -> None:
    assert errors(tmp_path, "<directory /tmp>\ndocumentroot /tmp\n</directory>\n"
                            "servername a b\n") == [
        "F:2: DocumentRoot not allowed in <Directory> context",
        "F:4: ServerName takes one argument, The hostname and port of the server"]


@pytest.mark.parametrize(
    ("text", "header", "body"),
    [
        # without mod_reqtimeout Apache reads under Timeout alone
        ("Timeout 30\n", ReadTimeout(30.0, 30.0, 0), ReadTimeout(30.0, 30.0, 0)),
        ("", ReadTimeout(60.0, 60.0, 0), ReadTimeout(60.0, 60.0, 0)),
        # loaded: its defaults, header=20-40,MinRate=500 body=20,MinRate=500
        (REQTIMEOUT, ReadTimeout(20.0, 40.0, 500), ReadTimeout(20.0, math.inf, 500)),
        # Debian's reqtimeout.conf spelled out gives the same
        (REQTIMEOUT + "RequestReadTimeout header=20-40,MinRate=500 body=20,MinRate=500\n",
         ReadTimeout(20.0, 40.0, 500), ReadTimeout(20.0, math.inf, 500)),
        # each stage given replaces that stage only; a later directive wins
        (REQTIMEOUT + "RequestReadTimeout header=7\nRequestReadTimeout header=8\n",
         ReadTimeout(8.0, 8.0, 0), ReadTimeout(20.0, math.inf, 500)),
        (REQTIMEOUT + "RequestReadTimeout body=10,MinRate=1000\n",
         ReadTimeout(20.0, 40.0, 500), ReadTimeout(10.0, math.inf, 1000)),
    ],
)
def test_request_read_timeout(tmp_path: Path, text: str, header: ReadTimeout,
                              body: ReadTimeout) -> None:
    c = load(tmp_path, text)
    assert (c.header_timeout, c.body_timeout) == (header, body)
    assert not any("reqtimeout" in w for w in c.warnings)


def test_request_read_timeout_in_a_vhost_is_server_wide(tmp_path: Path) -> None:
    c = load(tmp_path, REQTIMEOUT + "<VirtualHost *>\nRequestReadTimeout header=3\n"
                                    "</VirtualHost>\n")
    assert c.header_timeout == ReadTimeout(3.0, 3.0, 0)
    assert any("RequestReadTimeout header= is applied server-wide" in w for w in c.warnings)


def test_request_read_timeout_body_in_a_vhost_is_the_vhosts(tmp_path: Path) -> None:
    c = load(tmp_path, REQTIMEOUT + "RequestReadTimeout body=7\n<VirtualHost *>\n"
                                    "RequestReadTimeout body=3,MinRate=100\n</VirtualHost>\n")
    assert c.body_timeout == ReadTimeout(7.0, 7.0, 0)
    assert c.main.body_timeout is None
    assert c.vhosts[0].body_timeout == ReadTimeout(3.0, math.inf, 100)
    assert not any("RequestReadTimeout" in w for w in c.warnings)


def test_limit_request_body_is_per_directory(tmp_path: Path) -> None:
    """core.c: LimitRequestBody is RSRC_CONF|OR_ALL, a per-directory setting: in a
    section or a vhost it is that section's or vhost's, not the server's."""
    c = load(tmp_path, "<Directory /srv/small>\nLimitRequestBody 1000\n</Directory>\n"
                       "<Location /up>\nLimitRequestBody 2000\n</Location>\n"
                       "<VirtualHost *>\nLimitRequestBody 3000\n</VirtualHost>\n")
    assert c.limits.request_body == 0
    assert c.main.base.limit_request_body is None
    assert [s.conf.limit_request_body for s in c.main.sections] == [1000, 2000]
    assert c.vhosts[0].base.limit_request_body == 3000
    assert not any("LimitRequestBody" in w for w in c.warnings)


def test_the_cgi_queue_waits_as_long_as_timeout_unless_told(tmp_path: Path) -> None:
    assert load(tmp_path, "Timeout 42\n").cgi_queue_timeout == 42.0
    assert load(tmp_path, "").cgi_queue_timeout == 60.0  # Timeout's default


@pytest.mark.parametrize(("word", "value"), [("0", 0), ("30", 30), ("x", 0), ("2x", 2),
                                             ("1.5", 1), ("-1", -1)])
def test_graceful_shutdown_timeout_is_atoi_with_a_warning(tmp_path: Path, word: str,
                                                          value: int) -> None:
    """mpm_common.c reads it with atoi(): apache2 2.4.71 -t says "Syntax OK" to each of
    these words; what is not a plain number is read as Apache reads it, and said."""
    c = load(tmp_path, f"Timeout 9\nGracefulShutdownTimeout {word}\n")
    assert c.graceful_shutdown_timeout == value
    said = [w for w in c.warnings if "GracefulShutdownTimeout" in w]
    if word.isdigit():
        assert said == []
    else:
        line = PRELUDE_LINES + 2
        assert said == [f"{tmp_path / 'httpd.conf'}:{line}: GracefulShutdownTimeout "
                        f"{word!r} is not a number of seconds: read as {value}, as "
                        "Apache's atoi() does"]


def test_graceful_stop_timeout_for_uvicorn() -> None:
    from cgihttpd.server import graceful_stop_timeout

    base = ServerConfig.__new__(ServerConfig)
    for value, seconds in [(0, None), (2, 2.0), (-1, 0.0)]:
        object.__setattr__(base, "graceful_shutdown_timeout", value)
        assert graceful_stop_timeout(base) == seconds
