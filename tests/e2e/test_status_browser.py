"""The status page in a real browser: headless Chromium (Debian's, through playwright)
opens ``/server-status`` on the real server with Debian's status.conf; the page renders
Apache's head and the live charts, and its numbers move under a bounded load between
two reads: requests counted, a running script listed with its age, a failed script
listed, per-vhost counts. A screenshot is taken beside the test; the committed one in
tests/screenshots/ is rewritten only with CGIHTTPD_SCREENSHOTS=1.
"""

from __future__ import annotations

import os
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_demo_browser import CHROMIUM, CHROMIUM_ARGS

from support import ServerProcess

pytestmark = pytest.mark.slow
KEPT = Path(__file__).resolve().parents[1] / "screenshots"
STATUS_CONF = Path(__file__).parents[1] / "fixtures/debian-apache2/mods-available/status.conf"
LOAD = 40  # requests between the two reads

#: waits (bounded) until the test creates its flag file, so it is running when looked at
WAITING = """#!/usr/bin/python3
import os, sys, time
flag = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "go")
end = time.monotonic() + 20
while not os.path.exists(flag) and time.monotonic() < end:
    time.sleep(0.05)
print("Content-Type: text/plain")
print()
print("done")
"""
FAILING = "#!/usr/bin/python3\nraise SystemExit(3)\n"

CONF = """LoadModule authz_core_module x.so
LoadModule authz_host_module x.so
LoadModule mime_module x.so
LoadModule cgi_module x.so
LoadModule status_module x.so
Listen 127.0.0.1:80
ServerName status.test
DocumentRoot {www}
ErrorLog {root}/error.log
<Directory {www}>
    Require all granted
    Options +ExecCGI
    AddHandler cgi-script .py
</Directory>
Include {status}
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("status")
    www = root / "www"
    www.mkdir()
    (www / "index.html").write_text("hello\n")
    (www / "wait.py").write_text(WAITING)
    (www / "fail.py").write_text(FAILING)
    (root / "httpd.conf").write_text(CONF.format(www=www, root=root, status=STATUS_CONF))
    return root


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[ServerProcess]:
    with ServerProcess(["-f", str(site / "httpd.conf"), "-l", "127.0.0.1:0"]) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    assert os.access(CHROMIUM, os.X_OK), f"{CHROMIUM} is missing (scripts/install-test-deps)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True,
                               timeout=30_000)
        try:
            yield b
        finally:
            b.close()


def fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310 - loopback only
            r.read()
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def number(page, selector: str) -> float:  # type: ignore[no-untyped-def]
    return float(page.text_content(selector) or "0")


def test_the_page_renders_and_its_numbers_move(server: ServerProcess, site: Path,
                                               browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    waiter = threading.Thread(target=fetch, args=(server.url + "/wait.py",), daemon=True)
    try:
        page.goto(server.url + "/server-status")
        assert page.title() == "Apache Status"
        assert "Apache Server Status for" in (page.text_content("h1") or "")
        page.wait_for_function("Number(document.body.dataset.polls || 0) >= 1")
        first = number(page, "#accesses")

        # a bounded load: static requests, one failing script, one script held running
        for _ in range(LOAD):
            assert fetch(server.url + "/index.html") == 200
        assert fetch(server.url + "/fail.py") == 500
        waiter.start()
        page.wait_for_function(f"Number(document.getElementById('accesses').textContent) "
                               f">= {first + LOAD}")
        page.wait_for_function("document.getElementById('running').textContent === '1'")
        assert "wait.py" in (page.text_content("#scripts") or "")
        page.wait_for_function("document.getElementById('failures').textContent"
                               ".includes('fail.py')")
        assert "status.test" in (page.text_content("#vhosts") or "")
        assert number(page, "#script-failures") >= 1
        assert page.locator("#rps-line").get_attribute("points")
        # a few more updates, so the screenshot's charts have lines to show
        polls = int(page.get_attribute("body", "data-polls") or "0")
        page.wait_for_function(f"Number(document.body.dataset.polls) >= {polls + 3}")
        where = KEPT if os.environ.get("CGIHTTPD_SCREENSHOTS") == "1" else tmp_path
        where.mkdir(exist_ok=True)
        page.screenshot(path=str(where / "status-page.png"), full_page=True)
        assert (where / "status-page.png").stat().st_size > 0
    finally:
        (site / "www" / "go").write_text("")  # lets the held script finish
        if waiter.is_alive():
            waiter.join(timeout=30)
        context.close()
