"""Fixtures of the differential group: Debian's apache2 and cgihttpd on the same config
(see diffsupport for the config, the site and how the servers are started/stopped)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import APACHE, Pair, build_course_site, build_site, start_pair, stop_pair


def _require_apache() -> None:
    if not os.access(APACHE, os.X_OK):
        # a missing oracle must fail the run, not shrink it: make test installs apache2
        pytest.fail(f"{APACHE} is not installed (scripts/install-test-deps installs it)")


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
    root = diff_root / "static"
    root.mkdir()
    os.chmod(root, 0o755)
    started = start_pair(root, build_site(root))
    try:
        yield started
    finally:
        stop_pair(started)


@pytest.fixture(scope="session")
def course_pair(diff_root: Path) -> Iterator[Pair]:
    """The course's virtual host (paths and port adapted) serving the built-in demo site,
    on Apache and on cgihttpd."""
    _require_apache()
    root = diff_root / "course"
    root.mkdir()
    os.chmod(root, 0o755)
    started = start_pair(root, build_course_site(root))
    try:
        yield started
    finally:
        stop_pair(started)
