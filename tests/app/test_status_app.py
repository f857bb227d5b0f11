"""mod_status through the App: Debian's status.conf as shipped (``SetHandler
server-status`` in ``<Location /server-status>``, ``Require local``, ExtendedStatus On)
answers ``?auto``, the page and ``?json``; a client that is not local is refused; the
counters move with requests and survive a graceful reload, not a restart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cgihttpd.app import App
from cgihttpd.config.loader import load_config
from cgihttpd.reload import carry_status

DEBIAN_STATUS_CONF = Path(__file__).parents[1] / "fixtures/debian-apache2/mods-available/status.conf"

CONF = """ServerName test.example
ServerRoot {root}
LoadModule authz_core_module x.so
LoadModule authz_host_module x.so
{status}
DocumentRoot {www}
ErrorLog {root}/error.log
<Directory {www}>
    Require all granted
</Directory>
{extra}
"""


def build(tmp_path: Path, *, status: bool = True, extra: str = "") -> App:
    www = tmp_path / "www"
    www.mkdir(exist_ok=True)
    (www / "a.txt").write_text("hello\n")
    conf = tmp_path / "httpd.conf"
    load = (f"LoadModule status_module x.so\nInclude {DEBIAN_STATUS_CONF}" if status else "")
    conf.write_text(CONF.format(root=tmp_path, www=www, status=load, extra=extra))
    return App.build(load_config(str(conf), environ={}))


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = build(tmp_path)
    yield built
    built.close()


def get(app: App, path: str, client: str = "127.0.0.1") -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(client, 40000))
        async with httpx.AsyncClient(transport=transport,
                                     base_url="http://test.example") as c:
            return await c.get(path)
    return asyncio.run(go())


def auto(app: App) -> dict[str, str]:
    r = get(app, "/server-status?auto")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; charset=ISO-8859-1"
    lines = r.text.splitlines()
    assert lines[0] == "test.example"
    return dict(line.split(": ", 1) for line in lines[1:] if ": " in line)


def test_debian_status_conf_serves_auto_and_counts(app: App) -> None:
    assert DEBIAN_STATUS_CONF.exists()
    before = auto(app)
    assert before["ServerMPM"] == "event"
    assert before["BusyWorkers"] == "1"  # this request
    for _ in range(3):
        assert get(app, "/a.txt").status_code == 200
    after = auto(app)
    # the status request before counts too, as Apache's does once logged
    assert int(after["Total Accesses"]) == int(before["Total Accesses"]) + 4
    assert after["Scoreboard"].startswith("W_")


def test_require_local_refuses_another_address(app: App, tmp_path: Path) -> None:
    assert get(app, "/server-status?auto", client="192.0.2.7").status_code == 403
    assert "AH01630" in (tmp_path / "error.log").read_text()
    assert get(app, "/server-status?auto", client="::1").status_code == 200


def test_page_json_and_refresh(app: App) -> None:
    get(app, "/a.txt")
    page = get(app, "/server-status?refresh=3")
    assert page.headers["refresh"] == "3"
    assert "<h1>Apache Server Status for test.example (via test.example)</h1>" in page.text
    data = json.loads(get(app, "/server-status?json").text)
    assert data["vhosts"] == {"test.example": 2}
    assert set(data["latency_ms"]) == {"p50", "p90", "p99"}


def test_extended_status_off_leaves_the_totals_out(tmp_path: Path) -> None:
    built = build(tmp_path, extra="ExtendedStatus Off")
    try:
        fields = auto(built)
    finally:
        built.close()
    assert "Total Accesses" not in fields and "BusyWorkers" in fields


def test_without_mod_status_the_url_is_a_404(tmp_path: Path) -> None:
    built = build(tmp_path, status=False, extra="<Location /server-status>\n"
                  "SetHandler server-status\n</Location>")
    try:
        assert get(built, "/server-status?auto").status_code == 404
    finally:
        built.close()


def test_counters_survive_a_graceful_reload_not_a_restart(tmp_path: Path) -> None:
    old = build(tmp_path)
    get(old, "/a.txt")
    new = build(tmp_path)
    carry_status(old, new, graceful=True)
    fields = auto(new)
    assert fields["Total Accesses"] == "1"
    assert fields["ParentServerConfigGeneration"] == "2"
    again = build(tmp_path)
    carry_status(new, again, graceful=False)
    fields = auto(again)
    assert fields["Total Accesses"] == "0"
    assert fields["ParentServerMPMGeneration"] == "2"
    for built in (old, new, again):
        built.close()
