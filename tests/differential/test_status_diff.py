"""mod_status on Apache and on cgihttpd from the same config (diffsupport), with
Debian's status.conf as shipped: ``/server-status?auto`` has the same field names in the
same order (values are each server's own), with and without ExtendedStatus; the same
Content-Type and Refresh header; and a graceful reload keeps the counters and
RestartTime while counting a generation, on both."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from diffsupport import Server, config_head, serving, site_dirs

pytestmark = pytest.mark.differential

STATUS_CONF = Path(__file__).parents[1] / "fixtures/debian-apache2/mods-available/status.conf"
WAIT = 15.0


def config(site: Path, extended: str = "") -> str:
    return (config_head("authz_core", "authz_host", "status") + f"DocumentRoot {site}\n"
            f"<Directory {site}>\n  Require all granted\n</Directory>\n"
            f"Include {STATUS_CONF}\n{extended}")


def auto(server: Server) -> tuple[str, list[tuple[str, str]]]:
    r = server.request("GET", "/server-status?auto")
    assert r.status == 200, (server.impl, r.status)
    assert r.header("Content-Type") == "text/plain; charset=ISO-8859-1"
    host, *rest = r.body.decode("latin-1").splitlines()
    return host, [(n, v.strip()) for n, _, v in (line.partition(":") for line in rest)]


#: printed only when a value allows it at that instant (mod_status: CPULoad once some
#: CPU time is used; ReqPerSec/BytesPerSec once the uptime is a second or more;
#: BytesPerReq/DurationPerReq once the scoreboard has counted a request, which Apache's
#: worker does after its log line): a timing, not a field of the format
TIMED = frozenset({"CPULoad", "ReqPerSec", "BytesPerSec", "BytesPerReq", "DurationPerReq"})


def names(fields: list[tuple[str, str]]) -> list[str]:
    return [n for n, _ in fields if n not in TIMED]


@pytest.mark.parametrize("extended", ["", "ExtendedStatus Off\n"])
def test_auto_fields_and_order(tmp_path: Path, extended: str) -> None:
    root = tmp_path / "root"
    site = site_dirs(root, {"index.html": "hello\n"})
    with serving(root, config(site, extended)) as pair:
        seen = {}
        for server in pair.both():
            assert server.request("GET", "/index.html").status == 200
            seen[server.impl] = auto(server)
        (a_host, a_fields), (o_host, o_fields) = seen["apache"], seen["cgihttpd"]
        assert a_host == o_host == "127.0.0.1"
        assert names(o_fields) == names(a_fields)
        assert ("Total Accesses" in names(a_fields)) == (extended == "")
        for server in pair.both():
            r = server.request("GET", "/server-status?refresh=5")
            assert (r.status, r.header("Refresh")) == (200, "5")
            assert b"<title>Apache Status</title>" in r.body


def test_graceful_keeps_the_counters(tmp_path: Path) -> None:
    root = tmp_path / "root"
    site = site_dirs(root, {"index.html": "hello\n"})
    with serving(root, config(site)) as pair:
        before = {}
        for server in pair.both():
            for _ in range(4):
                assert server.request("GET", "/index.html").status == 200
            before[server.impl] = dict(auto(server)[1])
            server.proc.send_signal(signal.SIGUSR1)
        for server in pair.both():
            end = time.monotonic() + WAIT
            while True:
                after = dict(auto(server)[1])
                if after["ParentServerConfigGeneration"] == "2" or time.monotonic() > end:
                    break
                time.sleep(0.1)
            old = before[server.impl]
            assert after["ParentServerConfigGeneration"] == "2", server.impl
            assert after["ParentServerMPMGeneration"] == "1", server.impl
            assert after["RestartTime"] == old["RestartTime"], server.impl
            assert int(after["Total Accesses"]) >= int(old["Total Accesses"]) + 1, server.impl
