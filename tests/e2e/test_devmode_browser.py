"""Dev-mode pages in a real browser (headless Chromium, as test_demo_browser.py): what a
learner sees for a script that fails, read from the rendered page. Each page's
screenshot is taken; the committed ones in tests/screenshots/ are rewritten only with
CGIHTTPD_SCREENSHOTS=1 (they show the run's temporary paths, so each run differs).
Also the demo's page written with the script helper (helper/, installed by
``make test``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_demo_browser import CHROMIUM, CHROMIUM_ARGS
from test_devmode import make_site

from support import ServerProcess

pytestmark = pytest.mark.slow
KEPT = Path(__file__).resolve().parents[1] / "screenshots"


def shot(page, name: str, tmp: Path) -> None:  # type: ignore[no-untyped-def]
    """Screenshot ``page``: into tests/screenshots/ when asked, else beside the test."""
    where = KEPT if os.environ.get("CGIHTTPD_SCREENSHOTS") == "1" else tmp
    where.mkdir(exist_ok=True)
    page.screenshot(path=str(where / f"{name}.png"))
    assert (where / f"{name}.png").stat().st_size > 0


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = make_site(tmp_path_factory.mktemp("devb"), True)
    with ServerProcess(["-f", str(root / "httpd.conf"), "-l", "127.0.0.1:0"]) as srv:
        yield srv


@pytest.fixture(scope="module")
def demo() -> Iterator[ServerProcess]:
    with ServerProcess(["-l", "127.0.0.1:0"]) as srv:
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


@pytest.fixture()
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 900, "height": 700})
    context.set_default_timeout(15_000)
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()


PAGES = [
    # (script, screenshot name, what the rendered page says)
    ("/before.py", "exception-before-headers",
     ["The script raised an exception before it printed its headers",
      "ZeroDivisionError: division by zero", "average = total / count"]),
    ("/bodyfirst.py", "body-before-headers",
     ["The script printed its body before its headers", "<h1>Hello</h1> ← here"]),
    ("/noblank.py", "no-blank-line",
     ["There is no empty line between the headers and the body"]),
    ("/syntax.py", "syntax-error", ["The script has a syntax error", "SyntaxError"]),
    ("/after.py", "exception-after-headers",
     ["started", "The script failed after it had printed its headers",
      "NameError: name 'undefined_name' is not defined"]),
    ("/text/hello.py", "served-as-text",
     ["This script was sent to the browser as text instead of being run",
      "AddHandler cgi-script .py"]),
]


@pytest.mark.parametrize(("path", "name", "expected"), PAGES, ids=[p[1] for p in PAGES])
def test_dev_page_in_the_browser(dev: ServerProcess, page, path: str, name: str,  # type: ignore[no-untyped-def]
                                 expected: list[str], tmp_path: Path) -> None:
    response = page.goto(dev.url + path)
    assert response is not None
    text = page.locator("body").inner_text()
    for needle in expected:
        assert needle in text, (needle, text)
    # the explanation is a visible block, not hidden markup
    assert page.locator("#cgihttpd-dev .advice, #cgihttpd-dev h2").first.is_visible()
    shot(page, f"devmode-{name}", tmp_path)


def test_demo_helper_form(demo: ServerProcess, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(demo.url + "/helper.py")
    assert page.locator("h1").inner_text() == "Hello, stranger!"
    page.fill("input[name=name]", "Аня <b>")
    page.check("input[value=blue]")
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.click("button")
    assert info.value.status == 200
    page.wait_for_selector("h1")
    assert page.locator("h1").inner_text() == "Hello, Аня <b>!"
    assert page.locator("p").first.inner_text() == "Colors: blue"
    shot(page, "demo-helper-form", tmp_path)
