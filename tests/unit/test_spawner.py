"""Cold scripts started by exec from a zygote (the spawner, or a warm zygote already up)
must be the same process that ``SubprocessLauncher`` starts from a server that ignores
no signal (``ReferenceLauncher``, however the suite was started: nohup ignores three):
environment, cwd, argv, stdio pipes, exit status, process group, descriptors, signal
dispositions and mask. And a spawner that dies is replaced. Every run has a deadline.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from launch_helpers import ReferenceLauncher, launch

from cgihttpd.cgi.runner import LaunchSpec
from cgihttpd.warm.launcher import SPAWNER_KEY, ZYGOTE_PATH, WarmLauncher

DEADLINE = 20.0
SYSTEM_PY = "/usr/bin/python3"

#: What the shell script reports about itself: its parent's argv, its process group,
#: the signals it ignores and blocks (hex masks), its open fds, cwd, argv, environment
#: names, stdin.
PROBE = r"""#!/bin/sh
echo "$PPID $(tr '\0' ' ' < /proc/$PPID/cmdline)"
cut -d' ' -f5 /proc/$$/stat
echo $$
grep -E '^Sig(Ign|Blk):' /proc/$$/status | tr -d '\t'
ls /proc/$$/fd > fds.$$  # no pipe: a pipeline's own fds would race with ls
sort -n fds.$$ | tr '\n' ' '; echo; rm -f fds.$$
pwd
echo "$@"
env | sed 's/=.*//' | sort | tr '\n' ' '; echo
cat
"""


@pytest.fixture
def warm() -> Iterator[WarmLauncher]:
    launcher = WarmLauncher()
    yield launcher
    launcher.close()


def probe_spec(tmp_path: Path, notes: list[str] | None = None) -> LaunchSpec:
    path = tmp_path / "probe.sh"
    path.write_text(PROBE)
    path.chmod(0o755)
    return LaunchSpec(("/bin/sh", str(path)), ("one", "two"),
                      {"PATH": "/usr/bin:/bin", "ONLY_THIS": "1"}, str(tmp_path),
                      notify=None if notes is None else (lambda lvl, msg: notes.append(msg)))


def report(out: bytes) -> dict[str, str]:
    lines = out.decode().split("\n")
    keys = ("parent", "pgid", "pid", "sigblk", "sigign", "fds", "cwd", "args", "env", "stdin")
    return dict(zip(keys, (line.strip() for line in lines), strict=False))


#: glibc's posix_spawn sets its two internal signals (32 SIGCANCEL, 33 SIGSETXID) to
#: SIG_IGN in the child before exec (spawni.c), so they stay ignored in the program;
#: glibc installs its own handlers for them when a program uses them, and no program
#: can catch them otherwise (signal.valid_signals() leaves them out).
GLIBC_INTERNAL = (1 << 31) | (1 << 32)


def ignored(line: str) -> int:
    return int(line.split(":")[1], 16) & ~GLIBC_INTERNAL


def same_process(got: dict[str, str], ref: dict[str, str]) -> None:
    for key in ("sigblk", "fds", "cwd", "args", "env", "stdin"):
        assert got[key] == ref[key], key
    assert ignored(got["sigign"]) == ignored(ref["sigign"]) == 0
    assert got["pgid"] == got["pid"]  # its own process group (and session)


def test_a_cold_script_comes_from_the_spawner_as_if_from_the_server(
        tmp_path: Path, warm: WarmLauncher) -> None:
    spec = probe_spec(tmp_path)
    rc, out, err = launch(warm, spec, b"body\n")
    ref_rc, ref_out, _ = launch(ReferenceLauncher(), spec, b"body\n")
    got, ref = report(out), report(ref_out)
    assert rc == ref_rc == 0, err
    assert got["parent"].split()[1:5] == [sys.executable, "-I", "-S", ZYGOTE_PATH]
    assert ref["parent"] != got["parent"]  # the reference really came from here
    same_process(got, ref)
    assert got["sigblk"] == "SigBlk:0000000000000000"
    assert got["args"] == "one two" and got["stdin"] == "body"
    assert got["env"].split() == ["ONLY_THIS", "PATH", "PWD"]  # sh adds PWD itself


@pytest.mark.skipif(not os.path.exists(SYSTEM_PY), reason="needs Debian's python3")
def test_a_warm_zygote_already_up_spawns_too_and_leaks_nothing(
        tmp_path: Path, warm: WarmLauncher) -> None:
    """Its preloads may ignore signals; the spawned program still starts clean."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "ignores_hup.py").write_text("import signal\nsignal.signal(signal.SIGHUP, "
                                        "signal.SIG_IGN)\n")
    py = tmp_path / "w.py"
    py.write_text("print('warm')\n")
    warm_spec = LaunchSpec((SYSTEM_PY, str(py)), (), {"PATH": "/usr/bin:/bin",
                                                      "PYTHONPATH": str(lib)},
                           str(tmp_path), warm=True, preload=("ignores_hup",))
    spec = probe_spec(tmp_path)

    async def both() -> tuple[bytes, bytes]:
        proc = await warm.start(warm_spec)
        proc.stdin.close()
        assert await proc.stdout.read() == b"warm\n"
        await proc.wait()
        sh = await warm.start(spec)
        sh.stdin.close()
        out = await sh.stdout.read()
        await sh.wait()
        return out, b""

    out, _ = asyncio.run(asyncio.wait_for(both(), DEADLINE))
    got = report(out)
    ref = report(launch(ReferenceLauncher(), spec)[1])
    parent = got["parent"].split()
    assert parent[1:3] == [SYSTEM_PY, ZYGOTE_PATH]  # the warm zygote, no spawner started
    same_process(got, ref)


def test_exec_errors_are_oserrors_with_their_errno(tmp_path: Path, warm: WarmLauncher) -> None:
    missing = LaunchSpec((str(tmp_path / "nope"),), (), {}, str(tmp_path))
    bad_cwd = LaunchSpec(("/bin/true",), (), {}, str(tmp_path / "no-such-dir"))
    for spec in (missing, bad_cwd):
        with pytest.raises(OSError) as info:
            launch(warm, spec)
        assert info.value.errno == errno.ENOENT
    # and the spawner still serves
    assert launch(warm, probe_spec(tmp_path))[0] == 0


def test_a_dead_spawner_is_replaced(tmp_path: Path, warm: WarmLauncher) -> None:
    notes: list[str] = []
    spec = probe_spec(tmp_path, notes)

    async def twice() -> tuple[str, str]:
        first = report(await run(spec))["parent"]
        spawner = warm._pools[asyncio.get_running_loop()][SPAWNER_KEY]
        os.kill(spawner.pid, signal.SIGKILL)
        for _ in range(200):  # the control socket closes: the zygote is seen dead
            if spawner.dead:
                break
            await asyncio.sleep(0.01)
        second = report(await run(spec))["parent"]
        return first, second

    async def run(s: LaunchSpec) -> bytes:
        proc = await warm.start(s)
        proc.stdin.close()
        out = await proc.stdout.read()
        assert await proc.wait() == 0
        return out

    first, second = asyncio.run(asyncio.wait_for(twice(), DEADLINE))
    assert ZYGOTE_PATH in first and ZYGOTE_PATH in second and first != second
    assert any("the script spawner" in n and "restart" in n for n in notes), notes


def test_without_the_spawner_the_server_starts_it(tmp_path: Path) -> None:
    launcher = WarmLauncher(spawner=False)
    try:
        got = report(launch(launcher, probe_spec(tmp_path))[1])
    finally:
        launcher.close()
    own = Path("/proc/self/cmdline").read_text().replace("\0", " ").strip()
    assert got["parent"] == f"{os.getpid()} {own}"
