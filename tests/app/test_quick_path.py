"""The quick path (``App.quick``, offered by the protocol as Apache's quick_handler):
a static answer served once from memory is replayed for the same request head while
the filesystem answers its resolution's questions alike. Over a real socket to the
real protocol and App in-process: the replayed responses and access-log lines are
those of the ASGI way, a changed, removed or protected file is seen at once, and
whatever reads the request (conditions, ranges, SetEnvIf, Header, a Require that
looks at the client) never gets a replay."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from cgihttpd.app import App
from cgihttpd.config.loader import load_config
from cgihttpd.http.protocol import CgiHttpProtocol
from cgihttpd.reload import Generation
from cgihttpd.server import http_settings
from cgihttpd.static import files

#: every field a log line can take from a static request, to compare both ways
RICH = ('%h %a %{c}a %A %l %u "%r" %>s %s %b %B o=%O %I k=%k %m %U %q %H %v %p %f '
        '%{User-Agent}i "%{Content-Type}o" %{ETag}o %{LANG_OF}e %X')

CONF = """ServerName quick.test
ServerRoot {root}
LoadModule authz_core_module x.so
LoadModule authz_host_module x.so
LoadModule setenvif_module x.so
LoadModule headers_module x.so
LoadModule log_config_module x.so
LoadModule mime_module x.so
LoadModule env_module x.so
LoadModule cgid_module x.so
TypesConfig /etc/mime.types
DocumentRoot {www}
ErrorLog {root}/error.log
LogFormat "{rich}" rich
CustomLog {root}/access.log rich env=!dontlog
<Directory {www}>
    AllowOverride All
    Require all granted
    SetEnv LANG_OF en
</Directory>
<Directory {www}/env>
    SetEnvIf User-Agent ^bot dontlog
</Directory>
<Directory {www}/hdr>
    Header set X-Seen "%D"
</Directory>
<Directory {www}/cgi>
    Options +ExecCGI
    AddHandler cgi-script .py
</Directory>
<Directory {www}/ip>
    <RequireAll>
        Require all granted
        Require not ip 10.9.9.9
    </RequireAll>
</Directory>
"""

PAGE = b"<h1>Hello, CGI</h1>\n"


def _settle(path: Path) -> None:
    """Make ``path`` look written long ago (the plan and the small-file cache keep
    only files not changed within the last seconds)."""
    then = time.time() - 60
    os.utime(path, (then, then))


@pytest.fixture
def quick_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # a file's ctime cannot be set back: let the cache keep a file changed just now
    monkeypatch.setattr(files, "RACY_SECONDS", 0.0)
    files.FILE_CACHE.clear()
    www = tmp_path / "www"
    for sub in ("", "env", "hdr", "ip"):
        (www / sub).mkdir(parents=True, exist_ok=True)
        (www / sub / "index.html").write_bytes(PAGE)
        _settle(www / sub / "index.html")
    # a script that counts its runs and sends the client to /index.html (a local
    # Location: Apache's internal redirect, served by the default handler)
    (www / "cgi").mkdir()
    (www / "cgi" / "go.py").write_text(
        f"#!{sys.executable}\nopen({str(tmp_path / 'runs')!r}, 'a').write('x')\n"
        "print('Location: /index.html')\nprint()\n")
    (www / "cgi" / "go.py").chmod(0o755)
    (tmp_path / "httpd.conf").write_text(CONF.format(root=tmp_path, www=www, rich=RICH.replace('"', '\\"')))
    yield tmp_path
    files.FILE_CACHE.clear()


class Served:
    """The App behind the real protocol on 127.0.0.1, in this thread's own loop; counts
    what its quick handler answered."""

    def __init__(self, root: Path) -> None:
        config = load_config(str(root / "httpd.conf"), environ={})
        self.app = App.build(config)
        self.gen = Generation(0, config, self.app)
        self.quick: list[bool] = []
        real = self.gen.quick
        assert real is not None

        def counted(ask: Any) -> Any:
            reply = real(ask)
            self.quick.append(reply is not None)
            return reply

        self.gen.quick = counted
        self.cls = CgiHttpProtocol.configured(http_settings(config))
        self.root = root
        # one address for all the connections (the server's address is in the key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]

    def talk(self, requests: list[bytes]) -> list[bytes]:
        """Send each request on one connection, each after the previous answer, and
        return the answers (heads with Date masked, and bodies)."""
        return asyncio.run(asyncio.wait_for(self._talk(requests), 20))

    async def _talk(self, requests: list[bytes]) -> list[bytes]:
        loop = asyncio.get_running_loop()
        state = SimpleNamespace(connections=set(), tasks=set(), total_requests=0)
        uv = SimpleNamespace(loaded=True, loaded_app=self.gen, root_path="")
        server = await loop.create_server(lambda: self.cls(uv, state, {}),
                                          sock=self.sock.dup())
        port = self.port
        answers = []
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for req in requests:
                writer.write(req.replace(b"PORT", str(port).encode()))
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: (\d+)", head)
                body = b""
                if length and not req.startswith(b"HEAD") and b" 304 " not in head[:13]:
                    body = await reader.readexactly(int(length.group(1)))
                answers.append(re.sub(rb"Date: [^\r]*", b"Date: -", head) + body)
            writer.close()
        finally:
            server.close()
            for conn in list(state.connections):
                conn.close()
            await server.wait_closed()
        return answers

    def log_lines(self) -> list[str]:
        return (self.root / "access.log").read_text().splitlines()

    def close(self) -> None:
        self.sock.close()
        self.app.close()


@pytest.fixture
def served(quick_site: Path) -> Iterator[Served]:
    s = Served(quick_site)
    yield s
    s.close()


def get(path: str, *extra: str, method: str = "GET", version: str = "1.1") -> bytes:
    fields = "".join(f"{f}\r\n" for f in ("Host: quick.test:PORT", *extra))
    return f"{method} {path} HTTP/{version}\r\n{fields}\r\n".encode()


def test_a_repeated_request_is_replayed_as_the_pipeline_answered_it(served: Served) -> None:
    ua = "User-Agent: curl/8"
    for req in (get("/index.html", ua), get("/index.html?a=1", ua),
                get("/index.html", ua, method="HEAD"),
                get("/index.html", ua, "Connection: keep-alive", version="1.0")):
        first, again, third = served.talk([req, req, req])
        assert re.sub(rb"max=\d+", b"", first) == re.sub(rb"max=\d+", b"", again) == \
            re.sub(rb"max=\d+", b"", third)
        assert first.startswith(b"HTTP/1.1 200 OK\r\n") and (
            req.startswith(b"HEAD") or first.endswith(b"\r\n\r\n" + PAGE))
    # each head: the pipeline once, then the quick path
    assert served.quick == [False, True, True] * 4
    lines = served.log_lines()
    assert len(lines) == 12
    for i in range(0, 12, 3):
        # %O and %k differ: Keep-Alive's max=N counts down, %k counts up
        a, b, c = (re.sub(r"[ok]=\d+", "", line) for line in lines[i:i + 3])
        assert a == b == c
        assert [re.search(r"k=(\d)", line).group(1)  # type: ignore[union-attr]
                for line in lines[i:i + 3]] == ["0", "1", "2"]
    assert lines[0].startswith("127.0.0.1 127.0.0.1 127.0.0.1 127.0.0.1 - - "
                               '"GET /index.html HTTP/1.1" 200 200 20 20 o=')
    assert lines[0].endswith(' curl/8 "text/html" ' + lines[0].split(" ")[-3] + " en +")


def test_keep_alive_and_close_are_the_connection_s(served: Served) -> None:
    req = get("/index.html", "Connection: keep-alive")  # Apache's Keep-Alive goes to these
    first, again = served.talk([req, req])
    left = [int(re.search(rb"Keep-Alive: timeout=5, max=(\d+)\r\n", a).group(1))  # type: ignore[union-attr]
            for a in (first, again)]
    assert left[1] == left[0] - 1
    answers = served.talk([req, get("/index.html", "Connection: close")])
    assert served.quick == [False, True, True, True]
    assert b"Connection: close\r\n" in answers[1] and b"Keep-Alive" not in answers[1]


def test_a_changed_file_is_served_at_once(served: Served, quick_site: Path) -> None:
    page = quick_site / "www" / "index.html"
    req = get("/index.html")
    assert served.talk([req, req])[1].endswith(PAGE)
    page.write_bytes(b"new and longer\n")
    _settle(page)
    answers = served.talk([req, req, req])
    assert [a.endswith(b"new and longer\n") for a in answers] == [True] * 3
    assert served.quick == [False, True, False, True, True]
    page.unlink()
    assert served.talk([req])[0].startswith(b"HTTP/1.1 404 ")
    assert served.quick[-1] is False


def test_a_new_htaccess_is_obeyed(served: Served, quick_site: Path) -> None:
    req = get("/index.html")
    served.talk([req, req])
    assert served.quick == [False, True]
    (quick_site / "www" / ".htaccess").write_text("Require all denied\n")
    assert served.talk([req])[0].startswith(b"HTTP/1.1 403 ")
    assert served.quick[-1] is False


@pytest.mark.parametrize("extra", ["If-None-Match: \"x\"", "Range: bytes=0-3",
                                   "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT"])
def test_conditions_and_ranges_go_the_asgi_way(served: Served, extra: str) -> None:
    plain = get("/index.html")
    answers = served.talk([plain, plain, get("/index.html", extra)])
    assert served.quick == [False, True, False]
    if extra.startswith("Range"):
        assert answers[2].startswith(b"HTTP/1.1 206 ") and answers[2].endswith(b"<h1>")


def test_what_reads_the_request_is_never_replayed(served: Served) -> None:
    # SetEnvIf, a Header with a per-request value, a Require that looks at the client
    reqs = [get(f"/{d}/index.html", "User-Agent: curl") for d in ("env", "hdr", "ip")]
    answers = served.talk(reqs * 3)
    assert all(a.startswith(b"HTTP/1.1 200 OK") for a in answers)
    assert True not in served.quick
    served.talk([get("/env/index.html", "User-Agent: bot/1")])
    assert not any("bot/1" in line for line in served.log_lines())  # env=!dontlog


def test_replayed_requests_are_counted_by_mod_status(served: Served) -> None:
    req = get("/index.html")
    served.talk([req] * 4)
    assert served.quick == [False, True, True, True]
    assert served.app.runtime.status.accesses == 4


def test_a_file_served_by_an_internal_redirect_is_never_replayed_for_the_script(
        served: Served, quick_site: Path) -> None:
    req = get("/cgi/go.py")
    answers = served.talk([req, req, req])
    assert all(a.startswith(b"HTTP/1.1 200 OK") and a.endswith(PAGE) for a in answers)
    assert (quick_site / "runs").read_text() == "xxx"  # the script ran every time
    assert True not in served.quick


def test_an_upgrade_request_goes_the_asgi_way(served: Served) -> None:
    plain = get("/index.html")
    answers = served.talk([plain, plain, get("/index.html", "Upgrade: websocket",
                                               "Connection: Upgrade")])
    # the third is not even offered: llhttp stops after an upgrade request, and the
    # ASGI way answers it as HTTP/1.1 and then closes the connection
    assert served.quick == [False, True]
    assert answers[2] == answers[1]
