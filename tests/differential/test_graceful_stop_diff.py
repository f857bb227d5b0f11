"""A graceful stop (WINCH) under GracefulShutdownTimeout on Apache and on cgihttpd from
the same config (diffsupport): a CGI script that would sleep 60 s is still running when
the signal comes; both servers exit 0 well before it ends, the client gets no answer
(the connection closes without a status line), both logs say AH00492.

What differs, by design (docs/design.md §9): Apache 2.4.71 (mpm_event + mod_cgid)
kills its children after the timeout (AH00045/AH00046, some seconds later) and leaves
the script running, reparented to init; cgihttpd kills the script's process group
and logs the cut in a line of its own. With several workers each of cgihttpd's
logs AH00492 (Apache's one parent logs it once)."""

from __future__ import annotations

import contextlib
import functools
import os
import re
import signal
from pathlib import Path

import pytest
from diffsupport import Server, config_head, serving, site_dirs

import support
from support import get_in_background, running

pytestmark = pytest.mark.differential

WAIT = 40.0  # Apache's own exit takes ~12 s here: 2 s, then it reclaims its children
wait_for = functools.partial(support.wait_for, deadline=WAIT)
ERROR_LINE = re.compile(r"^\[[^]]+\] \[([\w-]+:\w+)\] \[pid \d+(?::tid \d+)?\] (AH\d+): (.*)$")
# The script writes its pid to pids/PORT (atomically) and becomes `sleep 60`.
SCRIPT = ("#!/bin/sh\necho $$ > {pids}/$SERVER_PORT.tmp\n"
          "mv {pids}/$SERVER_PORT.tmp {pids}/$SERVER_PORT\nexec sleep 60\n")


def _stop_lines(server: Server) -> set[tuple[str, str, str]]:
    """The distinct AH00492 lines: (module:level, AH number, text)."""
    text = server.log("error").read_text(errors="replace")
    return {(m.group(1), m.group(2), m.group(3)) for line in text.splitlines()
            if (m := ERROR_LINE.match(line)) and m.group(2) == "AH00492"}


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_graceful_stop_timeout_cuts_the_running_script(tmp_path: Path) -> None:
    root = tmp_path / "root"
    pids = root / "pids"
    site = site_dirs(root, {"cgi/sleep.sh": SCRIPT.format(pids=pids)})
    pids.mkdir()
    config = (config_head("authz_core", "alias", "cgid") + f"DocumentRoot {site}\n"
              f'ScriptAlias /cgi/ "{site}/cgi/"\nGracefulShutdownTimeout 2\n')
    left: list[int] = []
    try:
        with serving(root, config, lambda name: name.endswith(".sh")) as pair:
            os.chmod(pids, 0o777)
            outcomes: dict[str, list[object]] = {}
            threads = []
            for server in pair.both():
                thread, outcomes[server.impl] = get_in_background(
                    "127.0.0.1", server.port, "/cgi/sleep.sh")
                threads.append(thread)
            for server in pair.both():
                wait_for((pids / str(server.port)).exists, f"{server.impl}'s script")
            scripts = {s.impl: int((pids / str(s.port)).read_text()) for s in pair.both()}
            left.extend(scripts.values())
            assert all(running(pid) for pid in scripts.values())
            for server in pair.both():
                server.proc.send_signal(signal.SIGWINCH)
            codes = {s.impl: s.proc.wait(timeout=WAIT) for s in pair.both()}
            for thread in threads:
                thread.join(WAIT)
            assert codes == {"apache": 0, pair.ours.impl: 0}
            kinds = {impl: type(out[0]).__name__ if out and isinstance(
                out[0], Exception) else repr(out) for impl, out in outcomes.items()}
            assert kinds == {"apache": "RemoteDisconnected",
                             pair.ours.impl: "RemoteDisconnected"}, outcomes
            assert _stop_lines(pair.ours) == _stop_lines(pair.apache) == {
                ("mpm_event:notice", "AH00492", "caught SIGWINCH, shutting down gracefully")}
            # cgihttpd leaves no script behind (Apache's is left running: see above)
            if pair.ours.impl == "cgihttpd":
                wait_for(lambda: not running(scripts["cgihttpd"]), "cgihttpd's script's end",
                         deadline=5)
    finally:
        for pid in left:  # Apache's orphan, which this test started; by its pid
            if running(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
