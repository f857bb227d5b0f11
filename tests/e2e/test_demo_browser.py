"""The built-in demo site in a real browser: headless Chromium (Debian's, installed by
scripts/install-test-deps) driven by playwright against the real server process in
zero-config mode. What a learner of the course does by hand: open the pages, submit
the GET and POST forms (in Russian, as the course's readers would), keep a cookie,
upload a file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support import ServerProcess

CHROMIUM = "/usr/bin/chromium"
# The flags the machine notes require for Chromium on this closed network, as root.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with ServerProcess(["-l", "127.0.0.1:0"]) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    assert os.access(CHROMIUM, os.X_OK), (
        f"{CHROMIUM} is missing: scripts/install-test-deps installs Debian's chromium")
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
    context = browser.new_context()
    context.set_default_timeout(15_000)
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()


def test_hello_world_and_hello_cgi(server: ServerProcess, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/")
    assert page.locator("h1").first.inner_text() == "Hello, World"
    page.goto(server.url + "/index.py")
    assert page.locator("h1").inner_text() == "Hello, CGI"


def test_get_form(server: ServerProcess, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/get.py")
    page.fill("input[name=name]", "Аня")
    page.fill("input[name=message]", "a&b <c>")
    page.click("button[type=submit]")
    page.wait_for_url("**/get.py?*")
    assert "name=%D0%90%D0%BD%D1%8F" in page.url
    cells = page.locator("table td").all_inner_texts()
    assert cells == ["name", "Аня", "message", "a&b <c>"]


def test_post_form(server: ServerProcess, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/post.py")
    page.fill("input[name=name]", "Привет")
    page.fill("textarea[name=message]", "line one\nline two")
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.click("button[type=submit]")
    assert info.value.status == 200
    page.wait_for_selector("table")
    cells = page.locator("table td").all_inner_texts()
    assert cells[:2] == ["name", "Привет"]
    # the textarea's newline survives the form encoding and the script's echo
    raw = page.locator("table td").nth(3).text_content()
    assert cells[2] == "message" and raw == "line one\nline two"


def test_cookie_is_kept(server: ServerProcess, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(server.url + "/cookies.py")
    first = page.locator("p").first.inner_text()
    page.reload()
    second = page.locator("p").first.inner_text()
    assert first.endswith(": 1") and second.endswith(": 2"), (first, second)
    names = [c["name"] for c in page.context.cookies()]
    assert "visits" in names


def test_upload(server: ServerProcess, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = bytes(range(256)) * 1000 + b"\r\n--not-a-boundary\r\n"
    f = tmp_path / "blob.bin"
    f.write_bytes(data)
    page.goto(server.url + "/upload.py")
    page.set_input_files("input[name=file]", str(f))
    page.fill("input[name=comment]", "свой файл")
    page.click("button[type=submit]")
    page.wait_for_selector("table")
    text = page.locator("table").inner_text()
    assert "blob.bin" in text
    assert str(len(data)) in text
    assert hashlib.sha256(data).hexdigest() in text
    assert "свой файл" in text
