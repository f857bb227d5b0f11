"""Fixtures of the differential group: Debian's apache2 and cgihttpd on the same config
(see diffsupport for the config, the site and how the servers are started/stopped)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import APACHE, Pair, _start, _stop, build_site


def _require_apache() -> None:
    if not os.access(APACHE, os.X_OK):
        pytest.skip(f"{APACHE} is not installed (scripts/install-test-deps installs it)")


@pytest.fixture(scope="session")
def diff_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="cgihttpd-diff-", dir="/tmp"))
    os.chmod(root, 0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pair(diff_root: Path) -> Iterator[Pair]:
    """Apache and cgihttpd running the same config on two free ports."""
    _require_apache()
    conf = build_site(diff_root)
    check = subprocess.run([APACHE, "-t", "-f", str(conf)], capture_output=True, text=True,
                           env=dict(os.environ, PORT="1", ROOT=str(diff_root), IMPL="apache"),
                           timeout=30)
    assert check.returncode == 0, f"apache2 -t refused the shared config:\n{check.stderr}"
    apache = _start("apache", [APACHE, "-f", str(conf), "-DFOREGROUND"], diff_root)
    # DIFF_SELFTEST=1 puts a second Apache in cgihttpd's place: every case must then
    # pass, which shows the harness and its normalisation compare what they should.
    if os.environ.get("DIFF_SELFTEST") == "1":
        ours_argv = [APACHE, "-f", str(conf), "-DFOREGROUND"]
        ours_impl = "apache2nd"
    else:
        ours_argv = [sys.executable, "-m", "cgihttpd", "-f", str(conf), "-DFOREGROUND"]
        ours_impl = "cgihttpd"
    try:
        ours = _start(ours_impl, ours_argv, diff_root)
    except BaseException:
        _stop(apache)
        raise
    try:
        yield Pair(apache, ours, diff_root, conf)
    finally:
        _stop(ours)
        _stop(apache)


