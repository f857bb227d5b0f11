"""What the real-programs tests share with their fixtures (``conftest``): ``Served``, one
running server of the pair."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Served:
    impl: str  # "cgihttpd" | "apache"
    port: int
    root: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def error_log(self) -> str:
        p = self.root / f"{self.impl}-error.log"
        return p.read_text(errors="replace") if p.exists() else ""


_MODULES = ("mpm_event", "authz_core", "mime", "alias", "cgid")


def server_conf(*modules: str) -> str:
    """The head every real program's config shares (the server, its logs, Debian's
    modules: mpm_event, authz_core, mime, alias, cgid and ``modules``), up to and with
    DocumentRoot; ``{root}``, ``{port}`` and ``{impl}`` are filled in by the fixtures."""
    loads = "".join(f"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so\n"
                    for m in (*_MODULES, *modules))
    return ("ServerRoot {root}\nListen 127.0.0.1:{port}\nPidFile {root}/{impl}.pid\n"
            "Mutex file:{root}\nErrorLog {root}/{impl}-error.log\nLogLevel warn\n"
            + loads +
            "ScriptSock {root}/{impl}-cgid.sock\nTypesConfig /etc/mime.types\n"
            "CustomLog {root}/{impl}-access.log common\n"
            'LogFormat "%h %l %u %t \\"%r\\" %>s %b" common\n'
            "ServerName localhost\nDocumentRoot {root}/htdocs\n")
