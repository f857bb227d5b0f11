"""``--workers auto``, the default: one worker process per core this process may run
on (as nginx's ``worker_processes auto``), at most ``server.AUTO_MAX_WORKERS``; one
process in dev mode, with -X, and under Windows' rules; ``CGIHTTPD_WORKERS`` sets the
default as Debian's envvars set Apache's. Each worker holds its share of
CGIMaxProcesses."""

from __future__ import annotations

import os
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cgihttpd import server
from cgihttpd.cli import UsageError, _workers_from_env
from support import ServerProcess

WAIT = 15.0

CONF = """
ServerRoot "{root}"
LoadModule authz_core_module modules/mod_authz_core.so
Listen 127.0.0.1:8080
ServerName localhost
ErrorLog "{root}/error.log"
DocumentRoot "{root}"
<Directory "{root}">
    Require all granted
</Directory>
"""


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return [int(c) for c in f.read().split()]


def _worker_count(tmp_path: Path, *args: str, env: dict[str, str],
                  expect: int) -> int:
    """How many worker processes the server forks (0: it serves itself), once
    ``expect`` of them are there or WAIT has passed."""
    (tmp_path / "index.html").write_text("hi\n")
    conf = tmp_path / "httpd.conf"
    conf.write_text(CONF.format(root=tmp_path))
    argv = ["-f", str(conf)] if "DIR" not in args else [str(tmp_path)]
    argv += ["-l", "127.0.0.1:0", *(a for a in args if a != "DIR")]
    # the suite's own default (tests/conftest.py) taken away unless the case sets it
    unset = () if "CGIHTTPD_WORKERS" in env else ("env", "-u", "CGIHTTPD_WORKERS")
    with ServerProcess(argv, env=env, wrapper=unset) as proc:
        end = time.monotonic() + WAIT
        while len(_children(proc.proc.pid)) < expect and time.monotonic() < end:
            time.sleep(0.05)
        time.sleep(0.3)  # and no more come
        with urllib.request.urlopen(f"http://127.0.0.1:{proc.port}/index.html",
                                    timeout=WAIT) as resp:
            assert resp.read() == b"hi\n"
        return len(_children(proc.proc.pid))


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="counts children in /proc")


def test_auto_is_the_cores_at_most_the_cap() -> None:
    assert server.auto_workers() == max(1, min(len(os.sched_getaffinity(0)),
                                               server.AUTO_MAX_WORKERS))


def test_environment_default() -> None:
    assert _workers_from_env({}) == 0
    assert _workers_from_env({"CGIHTTPD_WORKERS": "auto"}) == 0
    assert _workers_from_env({"CGIHTTPD_WORKERS": "3"}) == 3
    for bad in ("0", "many"):
        with pytest.raises(UsageError):
            _workers_from_env({"CGIHTTPD_WORKERS": bad})


def test_the_default_is_one_worker_per_core(tmp_path: Path) -> None:
    auto = server.auto_workers()
    expect = auto if auto > 1 else 0  # one worker: the server serves by itself
    assert _worker_count(tmp_path, env={}, expect=expect) == expect


@pytest.mark.parametrize(("args", "env"), [
    (("--workers", "1"), {}),
    (("-X",), {}),
    ((), {"CGIHTTPD_WORKERS": "1"}),
    (("DIR",), {}),  # zero-config: dev mode
    ((), {"CGIHTTPD_PLATFORM": "windows"}),
], ids=["--workers 1", "-X", "env", "dev mode", "windows rules"])
def test_one_process(tmp_path: Path, args: tuple[str, ...], env: dict[str, str]) -> None:
    assert _worker_count(tmp_path, *args, env=env, expect=0) == 0


def test_explicit_count_wins_over_the_environment(tmp_path: Path) -> None:
    assert _worker_count(tmp_path, "--workers", "2",
                         env={"CGIHTTPD_WORKERS": "1"}, expect=2) == 2
