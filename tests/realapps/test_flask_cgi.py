"""A Flask application deployed the way shared hosts deploy one: Flask's deployment
docs, "CGI" — an ``app.cgi`` that runs ``wsgiref.handlers.CGIHandler().run(app)`` —
dropped in the document root beside ``AddHandler cgi-script .cgi`` and
``Options +ExecCGI``, driven by a real HTTP client (httpx, with its cookie jar), on
cgihttpd and on Apache with the same config; every answer is checked against the same
exact expectations on both.

The script runs on Debian's /usr/bin/python3 with Debian's Flask (python3-flask,
installed by scripts/install-test-deps): Apache's CGI children may run as another
user, who cannot read a pyenv under /root. Where Debian's Flask is missing, the test
venv's copy is put on ``sys.path`` when that user can read it.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from realsupport import Served, server_conf

from support import readable_by_all

SCRIPT_PYTHON = "/usr/bin/python3"
DEADLINE = 30.0


def _world_readable(path: Path) -> bool:
    """Whether every directory down to ``path`` lets "others" in (a server child running
    as another user must be able to import from it)."""
    for part in [path, *path.parents]:
        if not part.stat().st_mode & stat.S_IXOTH:
            return False
    return True


def _flask_path() -> str | None:
    """``""`` when Debian's python3 imports Flask by itself, a directory to put on
    ``sys.path`` when the test venv's Flask serves, ``None`` when neither can."""
    if not os.access(SCRIPT_PYTHON, os.X_OK):
        return None
    r = subprocess.run([SCRIPT_PYTHON, "-c", "import flask"], capture_output=True,
                       timeout=DEADLINE, env={"PATH": "/usr/bin:/bin"})
    if r.returncode == 0:
        return ""
    try:
        import flask
    except ImportError:
        return None
    site = Path(flask.__file__).resolve().parent.parent
    return str(site) if _world_readable(site) else None


FLASK_PATH = _flask_path()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(FLASK_PATH is None,
                       reason="no Flask for Debian's python3 (python3-flask: "
                              "scripts/install-test-deps)"),
]

CONF = server_conf() + """\
<Directory />
    Require all denied
</Directory>

# A shared host's public_html: .cgi files are scripts.
<Directory {root}/htdocs>
    Options +ExecCGI
    AddHandler cgi-script .cgi
    Require all granted
</Directory>
"""

# Flask's docs, "CGI": the app module and the CGIHandler launcher.
APP_PY = '''\
import hashlib

from flask import (Flask, jsonify, make_response, redirect, request, session,
                   url_for)

app = Flask(__name__)
app.secret_key = "realapps-test-secret"


@app.route("/hello/<name>")
def hello(name):
    return f"Hello, {name}!"


@app.route("/search")
def search():
    return jsonify(q=request.args.get("q"), tags=request.args.getlist("tag"))


@app.route("/form", methods=["GET", "POST"])
def form():
    if request.method == "GET":
        return '<form method="post"><input name="who"></form>'
    return jsonify(who=request.form["who"], note=request.form.get("note"),
                   content_type=request.mimetype)


@app.route("/upload", methods=["POST"])
def upload():
    f = request.files["file"]
    data = f.read()
    return jsonify(filename=f.filename, size=len(data),
                   sha256=hashlib.sha256(data).hexdigest(),
                   label=request.form.get("label"))


@app.route("/go")
def go():
    return redirect(url_for("hello", name="redirected"))


@app.route("/cookie/set")
def cookie_set():
    resp = make_response("set")
    resp.set_cookie("flavour", request.args.get("v", "oat"))
    session["visits"] = session.get("visits", 0) + 1
    return resp


@app.route("/cookie/get")
def cookie_get():
    session["visits"] = session.get("visits", 0) + 1
    return jsonify(flavour=request.cookies.get("flavour"), visits=session["visits"])


@app.route("/urls")
def urls():
    return jsonify(script_root=request.script_root, path=request.path,
                   hello=url_for("hello", name="x y"),
                   external=url_for("hello", name="x", _external=True),
                   search=url_for("search", q="a&b"))
'''

APP_CGI = '''\
#!{python}
import sys
sys.path.insert(0, {approot!r})
{extra}
from wsgiref.handlers import CGIHandler
from app import app

CGIHandler().run(app)
'''

Start = Callable[[Path, str], Served]


def make_site(root: Path) -> None:
    os.chmod(root, 0o755)
    htdocs = root / "htdocs"
    htdocs.mkdir()
    approot = root / "approot"  # the app's module, outside the document root
    approot.mkdir()
    (approot / "app.py").write_text(APP_PY)
    extra = f"sys.path.insert(1, {FLASK_PATH!r})" if FLASK_PATH else ""
    cgi = htdocs / "app.cgi"
    cgi.write_text(APP_CGI.format(python=SCRIPT_PYTHON, approot=str(approot),
                                  extra=extra))
    readable_by_all(root)
    os.chmod(cgi, 0o755)


@pytest.fixture(scope="module", params=[
    "cgihttpd", pytest.param("apache", marks=pytest.mark.differential)])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
           cgihttpd_on: Start, apache_on: Start) -> Served:
    root = tmp_path_factory.mktemp(f"flask-{request.param}")
    make_site(root)
    start = cgihttpd_on if request.param == "cgihttpd" else apache_on
    return start(root, CONF)


@pytest.fixture()
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url(""), timeout=DEADLINE) as c:
        yield c


def test_a_route_under_path_info(served: Served, client: httpx.Client) -> None:
    r = client.get("/app.cgi/hello/world")
    assert (r.status_code, r.text) == (200, "Hello, world!"), served.error_log()
    assert r.headers["content-type"] == "text/html; charset=utf-8"


def test_an_encoded_path_info(served: Served, client: httpx.Client) -> None:
    r = client.get("/app.cgi/hello/J%C3%BCrgen%20K")
    assert (r.status_code, r.text) == (200, "Hello, J\u00fcrgen K!"), served.error_log()


def test_a_query_string(served: Served, client: httpx.Client) -> None:
    r = client.get("/app.cgi/search", params=[("q", "a b&c"), ("tag", "x"), ("tag", "y")])
    assert r.status_code == 200, served.error_log()
    assert r.json() == {"q": "a b&c", "tags": ["x", "y"]}


def test_a_form_post(served: Served, client: httpx.Client) -> None:
    r = client.post("/app.cgi/form", data={"who": "Zoë & co", "note": "a=b"})
    assert r.status_code == 200, served.error_log()
    assert r.json() == {"who": "Zoë & co", "note": "a=b",
                        "content_type": "application/x-www-form-urlencoded"}


def test_a_multipart_upload_checked_by_sha256(served: Served, client: httpx.Client) -> None:
    data = os.urandom(300_000)
    r = client.post("/app.cgi/upload", data={"label": "blob"},
                    files={"file": ("blob.bin", data, "application/octet-stream")})
    assert r.status_code == 200, served.error_log()
    assert r.json() == {"filename": "blob.bin", "size": len(data),
                        "sha256": hashlib.sha256(data).hexdigest(), "label": "blob"}


def test_a_redirect_to_url_for(served: Served, client: httpx.Client) -> None:
    r = client.get("/app.cgi/go")
    assert r.status_code == 302, served.error_log()
    # Werkzeug sends the Location as url_for built it, under SCRIPT_NAME.
    assert r.headers["location"] == "/app.cgi/hello/redirected"
    followed = client.get("/app.cgi/go", follow_redirects=True)
    assert (followed.status_code, followed.text) == (200, "Hello, redirected!")


def test_a_cookie_set_and_read_back(served: Served, client: httpx.Client) -> None:
    r = client.get("/app.cgi/cookie/set", params={"v": "rye"})
    assert (r.status_code, r.text) == (200, "set"), served.error_log()
    # One Set-Cookie for the cookie, one for Flask's signed session: both reach the
    # client as separate header lines.
    set_cookies = r.headers.get_list("set-cookie")
    assert len(set_cookies) == 2, set_cookies
    assert any(c.startswith("flavour=rye; Path=/") for c in set_cookies), set_cookies
    r = client.get("/app.cgi/cookie/get")
    assert r.json() == {"flavour": "rye", "visits": 2}


def test_a_404_from_flask(served: Served, client: httpx.Client) -> None:
    r = client.get("/app.cgi/no/such/route")
    assert r.status_code == 404, served.error_log()
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>404 Not Found</title>" in r.text


def test_url_for_builds_urls_with_script_name(served: Served,
                                              client: httpx.Client) -> None:
    r = client.get("/app.cgi/urls")
    assert r.status_code == 200, served.error_log()
    assert r.json() == {
        "script_root": "/app.cgi", "path": "/urls",
        "hello": "/app.cgi/hello/x%20y",
        "external": f"http://127.0.0.1:{served.port}/app.cgi/hello/x",
        "search": "/app.cgi/search?q=a%26b",
    }
