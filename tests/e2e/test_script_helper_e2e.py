"""The script helper (helper/, ``cgihttpd_script``) in real scripts run by the server:
forms and uploads, JSON, cookies, a redirect, a header with a line break refused, an
old ``cgi.FieldStorage`` script on Python 3.13 (where ``cgi`` is gone), the traceback
hook. The scripts find the helper through the config's ``SetEnv PYTHONPATH``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX scripts")

PY = sys.executable
PY313 = next((str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.13*/bin/python3"))),
             None)
HELPER = Path(__file__).resolve().parents[2] / "helper" / "src"
DEADLINE = 20.0
BOUNDARY = "----e2eb0undary"

SCRIPTS = {
    "form.py": f"""#!{PY}
import hashlib, json
from cgihttpd_script import FormError, Limits, Request, Response
req = Request(limits=Limits(part=100_000, total=200_000))
try:
    form = req.form
except FormError as exc:
    Response(exc.status, "Refused", content_type="text/plain").send(str(exc))
    raise SystemExit
out = {{"fields": form.to_dict(), "colors": form.getlist("color"),
       "query": req.query.to_dict(),
       "files": [[f.name, f.filename, f.size, hashlib.sha256(f.read()).hexdigest()]
                 for f in form.files()]}}
Response(content_type="application/json").send(json.dumps(out))
""",
    "echojson.py": f"""#!{PY}
import json
from cgihttpd_script import Request, Response
req = Request()
Response(content_type="application/json").send(json.dumps({{"got": req.json(),
                                                          "cookies": req.cookies}}))
""",
    "cookie.py": f"""#!{PY}
from cgihttpd_script import Request, Response
r = Response(content_type="text/plain")
r.set_cookie("visits", str(int(Request().cookies.get("visits", "0")) + 1))
r.send("ok")
""",
    "redirect.py": f"""#!{PY}
from cgihttpd_script import redirect
redirect("/form.py?from=redirect")
""",
    "inject.py": f"""#!{PY}
from cgihttpd_script import HeaderError, Request, Response
r = Response(content_type="text/plain")
try:
    r.header("X-Name", Request().query.get("name"))
except HeaderError:
    r.send("refused")
else:
    r.send("accepted")
""",
    "oldcgi.py": f"""#!{PY313}
from cgihttpd_script import cgi_compat as cgi
form = cgi.FieldStorage()
print("Content-Type: text/plain")
print()
print(form.getvalue("name"), form.getfirst("tag"), form.getlist("tag"))
""",
    "hook_before.py": f"""#!{PY}
from cgihttpd_script import enable
enable()
items = []
print(items[3])
""",
    "hook_after.py": f"""#!{PY}
from cgihttpd_script import enable
enable()
print("Content-Type: text/html")
print()
print("<p>begun</p>")
raise KeyError("missing")
""",
}

CONF = """\
ServerRoot {root}
Listen 127.0.0.1:1
ErrorLog {root}/error.log
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
LoadModule env_module /usr/lib/apache2/modules/mod_env.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
ServerName localhost
DocumentRoot {root}/docs
<Directory {root}/docs>
  Options +ExecCGI
  AddHandler cgi-script .py
  Require all granted
  SetEnv PYTHONPATH {helper}
</Directory>
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("helper")
    (root / "docs").mkdir()
    for name, text in SCRIPTS.items():
        (root / "docs" / name).write_text(text)
    (root / "httpd.conf").write_text(CONF.format(root=root, helper=HELPER))
    with ServerProcess(["-f", str(root / "httpd.conf"), "-l", "127.0.0.1:0"]) as srv:
        yield srv


def request(server: ServerProcess, path: str, method: str = "GET", body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=DEADLINE)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def multipart(fields: list[tuple[str, str | None, bytes]]) -> bytes:
    out = b""
    for name, filename, data in fields:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{BOUNDARY}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def test_get_and_urlencoded_post(server: ServerProcess) -> None:
    status, _, body = request(server, "/form.py?name=%D0%98%D0%B2%D0%B0%D0%BD&color=red")
    assert status == 200
    assert json.loads(body)["fields"] == {"name": "Иван", "color": "red"}
    status, _, body = request(server, "/form.py?page=2", "POST", b"color=red&color=blue",
                              {"Content-Type": "application/x-www-form-urlencoded"})
    got = json.loads(body)
    assert got["colors"] == ["red", "blue"] and got["query"] == {"page": "2"}


def test_multipart_upload_and_its_limit(server: ServerProcess) -> None:
    data = bytes(range(256)) * 200  # 51200 bytes
    body = multipart([("title", None, "Кот".encode()), ("photo", "cat.bin", data)])
    ctype = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    status, _, out = request(server, "/form.py", "POST", body, ctype)
    assert status == 200, out
    got = json.loads(out)
    assert got["fields"] == {"title": "Кот"}
    assert got["files"] == [["photo", "cat.bin", len(data), hashlib.sha256(data).hexdigest()]]
    big = multipart([("photo", "big.bin", b"x" * 150_000)])  # over part=100_000
    status, _, out = request(server, "/form.py", "POST", big, ctype)
    assert status == 413 and b"over 100000 bytes" in out


def test_json_and_cookies(server: ServerProcess) -> None:
    status, _, out = request(server, "/echojson.py", "POST", b'{"a": [1, 2]}',
                             {"Content-Type": "application/json", "Cookie": "sid=xyz"})
    assert json.loads(out) == {"got": {"a": [1, 2]}, "cookies": {"sid": "xyz"}}
    status, headers, _ = request(server, "/cookie.py", headers={"Cookie": "visits=4"})
    assert headers["set-cookie"].startswith("visits=5; HttpOnly; Path=/")


def test_redirect(server: ServerProcess) -> None:
    status, headers, _ = request(server, "/redirect.py")
    assert status == 303 and headers["location"] == "/form.py?from=redirect"


def test_header_with_a_line_break_is_refused(server: ServerProcess) -> None:
    assert request(server, "/inject.py?name=a%0d%0aSet-Cookie:%20x=1")[2] == b"refused"
    assert request(server, "/inject.py?name=plain")[2] == b"accepted"


@pytest.mark.skipif(PY313 is None, reason="no Python 3.13 here")
def test_old_fieldstorage_script_runs_on_313(server: ServerProcess) -> None:
    status, _, out = request(server, "/oldcgi.py?name=Ann&tag=a&tag=b")
    assert status == 200, out
    assert out == b"Ann a ['a', 'b']\n"


def test_traceback_hook(server: ServerProcess) -> None:
    status, _, out = request(server, "/hook_before.py")
    assert status == 500
    assert b"IndexError: list index out of range" in out and b"print(items[3])" in out
    # after the headers: the traceback ends the page, and the page is whole
    status, _, out = request(server, "/hook_after.py")
    assert status == 200
    assert out.startswith(b"<p>begun</p>") and b"KeyError: &#x27;missing&#x27;" in out
