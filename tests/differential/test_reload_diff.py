"""Reloads on Apache and on cgihttpd from the same config (diffsupport): USR1 applies
a changed configuration on the same port, says so in the error log in the same words,
and starts the piped loggers again; a log moved away is replaced by a new file."""

from __future__ import annotations

import functools
import re
import signal
from pathlib import Path

import pytest
from diffsupport import Server, config_head, serving, site_dirs

from support import wait_for

pytestmark = pytest.mark.differential

WAIT = 15.0
_wait = functools.partial(wait_for, deadline=WAIT)
PIPE = "#!/bin/sh\necho started >> \"$1\"\nexec cat >> \"$2\"\n"
ERROR_LINE = re.compile(r"^\[[^]]+\] \[([\w-]+:\w+)\] \[pid \d+(?::tid \d+)?\] (AH\d+): (.*)$")


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _reload_lines(server: Server) -> list[tuple[str, str, str]]:
    """(module:level, AH number, text) of the lifecycle lines in the error log from the
    reload on (Apache also says AH00489 at start; cgihttpd does not), the server's own
    name cut from AH00489."""
    out: list[tuple[str, str, str]] = []
    for line in _text(server.log("error")).splitlines():
        if not out and "AH00493" not in line:
            continue
        m = ERROR_LINE.match(line)
        if m and m.group(2) in ("AH00493", "AH00494", "AH00489"):
            text = m.group(3)
            if m.group(2) == "AH00489":
                text = text.split(" configured", 1)[1]
            out.append((m.group(1), m.group(2), text))
    return out


def test_graceful_applies_the_change_and_restarts_piped_logs(tmp_path: Path) -> None:
    root = tmp_path / "root"
    site = site_dirs(root, {"index.html": "hello\n"})
    (root / "pipe.sh").write_text(PIPE)
    # LogLevel crit: the reload's notices are written whatever the level (Apache's rule)
    config = (config_head("authz_core", "alias", log_level="crit") + f"DocumentRoot {site}\n"
              'CustomLog "|${ROOT}/pipe.sh ${ROOT}/logs/${IMPL}-pipes.log '
              '${ROOT}/logs/${IMPL}-piped.log" "%>s %U"\n'
              'CustomLog "${ROOT}/logs/${IMPL}-access.log" "%>s %U"\n'
              f"<Directory {site}>\n  Require all granted\n</Directory>\n")
    with serving(root, config, executable=lambda name: name == "pipe.sh") as pair:
        started: dict[str, int] = {}
        for server in pair.both():
            assert server.request("GET", "/new").status == 404
            _wait(lambda s=server: "404 /new" in _text(s.log("piped")), f"{server.impl}'s logger",
                  seen=lambda s=server: _text(s.log("pipes")))
            # Apache may also start (and kill) a logger in its first configuration pass,
            # when the timing lets it: count from here, once the live one has written
            started[server.impl] = _text(server.log("pipes")).count("started")
        assert started["cgihttpd"] == 1
        conf = pair.conf
        conf.write_text(conf.read_text() + f"Alias /new {site}/index.html\n")
        for server in pair.both():
            server.log("access").rename(root / "logs" / f"{server.impl}-access.log.1")
            server.proc.send_signal(signal.SIGUSR1)
        for server in pair.both():
            _wait(lambda s=server: len(_reload_lines(s)) >= 2, f"{server.impl}'s reload")
            _wait(lambda s=server: _text(s.log("pipes")).count("started") > started[s.impl],
                  f"{server.impl}'s logger started again",
                  seen=lambda s=server: _text(s.log("pipes")))
            if server.impl == "cgihttpd":
                # ours switches before it says it resumed: the next request sees the change
                assert server.request("GET", "/new").status == 200
            else:
                # Apache's old children may still accept a connection after AH00489
                _wait(lambda s=server: s.request("GET", "/new").status == 200, "apache's change")
            assert server.proc.poll() is None
            _wait(lambda s=server: "200 /new" in _text(s.log("access")), "the new log")
            _wait(lambda s=server: "200 /new" in _text(s.log("piped")), "the piped log")
            assert "404" not in _text(server.log("access"))
            moved = _text(root / "logs" / f"{server.impl}-access.log.1").splitlines()
            # what the old generation logged stays in the moved file, nothing else does
            assert moved[:1] == ["404 /new"] and set(moved) == {"404 /new"}, moved
            if server.impl == "cgihttpd":
                assert moved == ["404 /new"], moved
        apache, ours = pair.both()
        assert _reload_lines(ours)[:2] == _reload_lines(apache)[:2] == [
            ("mpm_event:notice", "AH00493", "SIGUSR1 received.  Doing graceful restart"),
            ("mpm_event:notice", "AH00489", " -- resuming normal operations")]
