"""Dev mode end to end: each mistake of the course's first scripts, explained in the
500 page a learner's browser shows (CGIDevMode On), and in production (the same config
without it) Apache's page with the explanation in the error log.

The real ``python -m cgihttpd`` process on a config file; every wait has a deadline;
only processes started here are signalled.
"""

from __future__ import annotations

import html
import http.client
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX scripts")

PY = sys.executable
PY313 = next((str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.13*/bin/python3"))),
             None)
TIMEOUT = 2  # CGIDScriptTimeout below
DEADLINE = 20.0
BOM = "\ufeff"

SCRIPTS: dict[str, str] = {
    "noblank.py": f"#!{PY}\nprint('Content-Type: text/html')\nprint('<h1>Hi</h1>')\n",
    "bodyfirst.py": f"#!{PY}\nprint('<h1>Hello</h1>')\nprint('Content-Type: text/html')\n"
                    "print()\n",
    "syntax.py": f"#!{PY}\nprint('Content-Type: text/html')\nprint(\n"
                 "print('<p>x</p>')\nif True\n    pass\n",
    "before.py": f"#!{PY}\ntotal = 10\ncount = 0\naverage = total / count\n"
                 "print('Content-Type: text/html\\n')\n",
    "after.py": f"#!{PY}\nimport sys\nprint('Content-Type: text/html\\n')\n"
                "print('<html><body><p>started</p>', flush=True)\n"
                "print(undefined_name)\n",
    "after_text.py": f"#!{PY}\nprint('Content-Type: text/plain\\n', flush=True)\n"
                     "print('started', flush=True)\nraise SystemExit('boom')\n",
    "bom.py": BOM + f"#!{PY}\nprint('Content-Type: text/html\\n')\nprint('<p>ok</p>')\n",
    "noshebang.py": "print('Content-Type: text/html\\n')\nprint('<p>x</p>')\n",
    "importcgi.py": f"#!{PY313}\nimport cgi\nform = cgi.FieldStorage()\n"
                    "print('Content-Type: text/html\\n')\n",
    "cyrillic.py": f"#!{PY}\nprint('Content-Type: text/html\\n')\n"
                   "print('<p>\u041f\u0440\u0438\u0432\u0435\u0442</p>')\n",
    "loop.py": f"#!{PY}\nwhile True:\n    pass\n",
    "exit3.py": f"#!{PY}\nimport sys\nsys.exit(3)\n",
    "ok.py": f"#!{PY}\nprint('Content-Type: text/html; charset=utf-8\\n')\n"
             "print('<p>fine</p>')\n",
}

CONF = """\
ServerRoot {root}
Listen 127.0.0.1:1
ErrorLog {root}/error.log
LogLevel warn
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
ServerName localhost
DocumentRoot {root}/docs
CGIDScriptTimeout {timeout}
<Directory />
  Require all granted
</Directory>
<Directory {root}/docs>
  Options +ExecCGI
  AddHandler cgi-script .py
</Directory>
<Directory {root}/docs/noexec>
  Options -ExecCGI
</Directory>
<Directory {root}/docs/text>
  RemoveHandler .py
</Directory>
"""


def make_site(root: Path, dev: bool) -> Path:
    docs = root / "docs"
    for sub in ("noexec", "text"):
        (docs / sub).mkdir(parents=True)
    for name, text in SCRIPTS.items():
        (docs / name).write_text(text, encoding="utf-8")
    for sub in ("noexec", "text"):
        (docs / sub / "hello.py").write_text(SCRIPTS["ok.py"])
    (root / "httpd.conf").write_text(CONF.format(root=root, timeout=TIMEOUT)
                                     + ("CGIDevMode On\n" if dev else ""))
    return root


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = make_site(tmp_path_factory.mktemp("dev"), True)
    with ServerProcess(["-f", str(root / "httpd.conf"), "-l", "127.0.0.1:0"]) as srv:
        yield srv


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Path]]:
    root = make_site(tmp_path_factory.mktemp("prod"), False)
    with ServerProcess(["-f", str(root / "httpd.conf"), "-l", "127.0.0.1:0"]) as srv:
        yield srv, root


def get(server: ServerProcess, path: str,
        headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=DEADLINE)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")  # a cut-off body raises here
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def words(page: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities decoded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def dev_page(server: ServerProcess, path: str, status: int = 500) -> str:
    code, headers, body = get(server, path)
    assert code == status, body
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert "What to change:" in words(body)
    return words(body)


CASES = [
    # (script, words the page must show)
    ("noblank.py", ["There is no empty line between the headers and the body",
                    "Add print() after the last header (before line 2)", "<h1>Hi</h1> ← here",
                    f"Run with {PY}", "exit status 0"]),
    ("bodyfirst.py", ["printed its body before its headers", "<h1>Hello</h1> ← here"]),
    ("syntax.py", ["syntax error", "SyntaxError", "line 3", "print("]),
    ("before.py", ["raised an exception before it printed its headers",
                   "ZeroDivisionError: division by zero", "line 4",
                   "average = total / count", "exit status 1"]),
    ("noshebang.py", ["has no #! line", "#!/usr/bin/env python3"]),
    ("loop.py", [f"printed nothing for {TIMEOUT} seconds", "loop that never ends",
                 "stopped by the server"]),
    ("exit3.py", ["ended with exit status 3 without printing anything",
                  "exit status 3"]),
]


@pytest.mark.parametrize(("script", "expected"), CASES, ids=[c[0] for c in CASES])
def test_dev_page_explains(dev: ServerProcess, script: str, expected: list[str]) -> None:
    text = dev_page(dev, "/" + script, 504 if script == "loop.py" else 500)
    assert f"Script {dev_root(dev)}/docs/{script}" in text
    for needle in expected:
        assert needle in text, (needle, text)


def dev_root(server: ServerProcess) -> str:
    return str(Path(server.args[server.args.index("-f") + 1]).parent)


@pytest.mark.skipif(PY313 is None, reason="no Python 3.13 to run the script with")
def test_import_cgi_on_313_points_to_the_helper(dev: ServerProcess) -> None:
    text = dev_page(dev, "/importcgi.py")
    assert "The module 'cgi' does not exist in this Python" in text
    assert "from cgihttpd_script import cgi_compat as cgi" in text
    assert f"Run with {PY313}" in text


def test_exception_after_headers_ends_the_html_page(dev: ServerProcess) -> None:
    code, headers, body = get(dev, "/after.py")  # http.client reads it whole: framed
    assert code == 200
    text = words(body)
    assert "started" in text
    assert "failed after it had printed its headers" in text
    assert "NameError: name 'undefined_name' is not defined" in text
    assert "print(undefined_name)" in text


def test_exception_after_text_headers_still_cuts(dev: ServerProcess) -> None:
    """Only an HTML body gets the explanation; other types are cut off as before."""
    with pytest.raises(http.client.IncompleteRead):
        get(dev, "/after_text.py")


def test_bom_runs_with_a_note(dev: ServerProcess) -> None:
    code, _, body = get(dev, "/bom.py")
    assert code == 200
    assert "byte order mark" in words(body)
    assert "<p>ok</p>" in body


def test_non_ascii_without_charset_is_explained(dev: ServerProcess) -> None:
    code, headers, body = get(dev, "/cyrillic.py")
    assert code == 200
    assert "charset=utf-8" in words(body) and "non-ASCII" in words(body)
    # a page that names its charset gets no note
    assert "cgihttpd-dev" not in get(dev, "/ok.py")[2]


def test_missing_script(dev: ServerProcess) -> None:
    text = dev_page(dev, "/nope.py", 404)
    assert "There is no script at this address" in text and "/nope.py" in text


def test_execcgi_off(dev: ServerProcess) -> None:
    text = dev_page(dev, "/noexec/hello.py", 403)
    assert "Options +ExecCGI" in text


def test_served_as_text_explained_to_a_browser(dev: ServerProcess) -> None:
    code, _, body = get(dev, "/text/hello.py", {"Accept": "text/html,*/*"})
    assert code == 200
    text = words(body)
    assert "sent to the browser as text instead of being run" in text
    assert "AddHandler cgi-script .py" in text
    assert "print('<p>fine</p>')" in text
    # a program (no text/html in Accept) still gets the file
    assert get(dev, "/text/hello.py")[2] == SCRIPTS["ok.py"]


def test_script_output_is_escaped(dev: ServerProcess) -> None:
    _, _, body = get(dev, "/bodyfirst.py")
    assert "<h1>Hello</h1>" not in body
    assert "&lt;h1&gt;Hello&lt;/h1&gt;" in body


def test_production_keeps_apaches_page_and_logs_the_details(
        prod: tuple[ServerProcess, Path]) -> None:
    server, root = prod
    code, _, body = get(server, "/before.py")
    assert code == 500
    assert "Internal Server Error" in body and "What to change" not in body
    with pytest.raises(http.client.IncompleteRead):  # cut off, as Apache does
        get(server, "/after.py")
    log = root / "error.log"
    end = time.monotonic() + DEADLINE
    text = ""
    while time.monotonic() < end:
        text = log.read_text() if log.exists() else ""
        if "ZeroDivisionError" in text and "exit status 1" in text:
            break
        time.sleep(0.05)
    assert "raised an exception before it printed its headers" in text
    assert f"(run with {PY}; exit status 1)" in text
    assert os.path.exists(log)


def test_config_edits_are_picked_up_without_a_restart(tmp_path: Path) -> None:
    root = make_site(tmp_path, True)
    conf = root / "httpd.conf"
    with ServerProcess(["-f", str(conf), "-l", "127.0.0.1:0"]) as srv:
        assert get(srv, "/noexec/hello.py")[0] == 403
        # a broken edit: the running configuration stays, stderr says why
        conf.write_text(conf.read_text() + "NoSuchDirective x\n")
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end and not any(
                "does not load" in line for line in srv.stderr_lines):
            assert get(srv, "/noexec/hello.py")[0] == 403
            time.sleep(0.1)
        assert any("Invalid command 'NoSuchDirective'" in x for x in srv.stderr_lines)
        # fixed: ExecCGI allowed where it was not
        conf.write_text(conf.read_text().replace("NoSuchDirective x\n", "").replace(
            "  Options -ExecCGI\n", "  Options +ExecCGI\n"))
        status = 0
        while time.monotonic() < end and status != 200:
            status, _, body = get(srv, "/noexec/hello.py")
            time.sleep(0.1)
        assert status == 200 and "<p>fine</p>" in body
        assert any("configuration reloaded" in x for x in srv.stderr_lines)
