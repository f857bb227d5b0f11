"""What the README's "Operations" section ships: the systemd unit (checked with
systemd-analyze verify, and the Type=notify protocol it relies on spoken by the real
server), and the container recipe (its files exist, its configuration passes -t)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import ServerProcess

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX only")

ROOT = Path(__file__).resolve().parents[2]
CONTRIB = ROOT / "contrib"
WAIT = 15.0


def installed_command() -> str:
    """This environment's ``cgihttpd`` console script (the unit names
    /usr/local/bin/cgihttpd, which a test machine may not have)."""
    found = Path(sys.executable).with_name("cgihttpd")
    return str(found) if found.exists() else shutil.which("cgihttpd") or "/bin/true"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="no systemd-analyze (Debian's systemd package: "
                    "scripts/install-test-deps)")
def test_the_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    text = (CONTRIB / "cgihttpd.service").read_text()
    assert "Type=notify" in text and "ExecReload=/bin/kill -USR1 $MAINPID" in text
    unit = tmp_path / "cgihttpd.service"
    unit.write_text(text.replace("/usr/local/bin/cgihttpd", installed_command()))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "cgihttpd.service" not in r.stderr, r.stderr
    # the check can fail: a unit with a typo does
    unit.write_text(text.replace("Type=notify", "Type=notfy").replace(
        "/usr/local/bin/cgihttpd", installed_command()))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                       text=True, timeout=60)
    assert "Failed to parse service type" in r.stderr, r.stderr


def _receive(sock: socket.socket, want: str, deadline: float = WAIT) -> list[str]:
    got: list[str] = []
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        sock.settimeout(max(end - time.monotonic(), 0.01))
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            break
        if want in got[-1]:
            return got
    raise AssertionError(f"no {want!r} in {got} (waited {deadline} s)")


def test_type_notify_ready_reloading_stopping(tmp_path: Path) -> None:
    """Under a NOTIFY_SOCKET as systemd gives one (here a path; the abstract
    namespace is in the unit tests): READY=1 once serving, RELOADING=1 then READY=1
    around a graceful reload, STOPPING=1 on SIGTERM."""
    (tmp_path / "www").mkdir()
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        with ServerProcess([str(tmp_path / "www"), "-l", "127.0.0.1:0"],
                           env={"NOTIFY_SOCKET": path}) as srv:
            assert _receive(sock, "READY=1")[-1] == "READY=1"
            srv.proc.send_signal(signal.SIGUSR1)
            got = _receive(sock, "READY=1")
            assert re.fullmatch(r"RELOADING=1\nMONOTONIC_USEC=\d+", got[0]), got
            assert got[-1] == "READY=1"
            srv.proc.send_signal(signal.SIGTERM)
            # sent at once: a signal that lands during a tick is not lost either
            assert _receive(sock, "STOPPING=1")[-1] == "STOPPING=1"
            assert srv.wait_exit(WAIT) == 0


def test_the_container_recipe_holds_together(tmp_path: Path) -> None:
    """Every file the Containerfile copies exists, its command is the foreground
    ``-k start``, and the configuration it installs passes ``cgihttpd -t`` (with
    DocumentRoot pointed at a folder that exists here)."""
    recipe = (CONTRIB / "Containerfile").read_text()
    for line in recipe.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source
    assert '"-k", "start", "-DFOREGROUND"' in recipe
    conf = tmp_path / "httpd.conf"
    conf.write_text((CONTRIB / "container-httpd.conf").read_text()
                    .replace("/srv/www", str(tmp_path)))
    r = subprocess.run([sys.executable, "-m", "cgihttpd", "-t", "-f", str(conf)],
                       capture_output=True, text=True, timeout=WAIT,
                       env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert (r.returncode, r.stderr) == (0, "Syntax OK\n")
