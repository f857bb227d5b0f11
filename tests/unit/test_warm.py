"""Warm Python against cold: the same script through ``WarmLauncher`` and
``SubprocessLauncher`` (run as a server that ignores no signal runs it,
``ReferenceLauncher``) must see the same process, however the suite was started.

A probe script dumps what a fork could leak or get wrong (environment, cwd, argv,
``__main__``, ``sys.path``, fds, threads, signal dispositions and mask, session, stdio
encodings and buffering, locale, umask) as JSON; it runs cold and warm and the dumps are
compared whole, except the documented differences (``KNOWN_DIFFERENCES``). Other tests
aim at one reset each (random state, module state, exit status, tracebacks, restarts).
Every wait has a deadline; real processes, no timing thresholds.
"""

from __future__ import annotations

import array
import asyncio
import json
import marshal
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from launch_helpers import ReferenceLauncher, launch

from cgihttpd.cgi.runner import Launcher, LaunchSpec
from cgihttpd.warm import launcher as warm_launcher
from cgihttpd.warm.launcher import ZYGOTE_PATH, WarmLauncher, plan_warm

pytestmark = pytest.mark.skipif(not hasattr(os, "fork") or not os.path.isdir("/proc/self/fd"),
                                reason="warm Python needs fork; the probe reads /proc")

DEADLINE = 30.0
PY = sys.executable
SYSTEM_PY = "/usr/bin/python3"
#: keys of the probe that legitimately differ between two runs of the same script
PER_RUN = {"pid", "random", "uuid4", "mktemp", "named_tmp", "urandom"}
#: keys that differ between warm and cold by design (docs/design.md §8)
KNOWN_DIFFERENCES = {
    "hash_x",  # the hash secret is the zygote's: one per zygote, not one per request
    "modules",  # the zygote's own imports (marshal, select, socket...) stay imported
}

PROBE = textwrap.dedent('''\
    import sys
    _main_keys = sorted(globals())
    import json, os, signal, threading, io, locale, time, random, uuid, tempfile, atexit

    def stream(s):
        buf = getattr(s, "buffer", None)
        raw = getattr(buf, "raw", buf)
        return {"encoding": s.encoding, "errors": s.errors,
                "line_buffering": s.line_buffering, "write_through": s.write_through,
                "buffer": type(buf).__name__, "raw_name": getattr(raw, "name", None),
                "mode": getattr(s, "mode", None), "fileno": s.fileno(),
                # what io caches when a stream is made (the zygote makes them ahead)
                "seekable": [s.seekable(), buf.seekable(), raw.seekable()],
                "isatty": s.isatty(), "blksize": getattr(raw, "_blksize", None),
                "chunk": getattr(s, "_CHUNK_SIZE", None),
                "is_dunder": s is getattr(sys, "__%s__" % ("stdin" if s.fileno() == 0 else
                                                          "stdout" if s.fileno() == 1 else
                                                          "stderr"))}

    sigs = {}
    for name in ("SIGINT", "SIGTERM", "SIGPIPE", "SIGCHLD", "SIGHUP", "SIGQUIT", "SIGUSR1",
                 "SIGUSR2", "SIGALRM", "SIGXFSZ", "SIGTSTP", "SIGTTOU", "SIGWINCH"):
        sigs[name] = repr(signal.getsignal(getattr(signal, name)))
    fds = sorted(int(n) for n in os.listdir("/proc/self/fd"))
    mask = os.umask(0o22)
    os.umask(mask)
    main = sys.modules["__main__"]
    data = {
        "env": dict(os.environ),
        "cwd": os.getcwd(),
        "argv": sys.argv,
        "orig_argv": getattr(sys, "orig_argv", None),
        "file": __file__,
        "name": __name__,
        "main_is_script": main.__dict__ is globals(),
        "main_keys": _main_keys,
        "main_loader": type(main.__loader__).__name__,
        "main_spec": repr(main.__spec__),
        "sys_path": sys.path,
        "executable": sys.executable,
        "flags": list(sys.flags),
        "threads": threading.active_count(),
        "tasks": len(os.listdir("/proc/self/task")),
        "fds": fds,
        "signals": sigs,
        "sigmask": sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),
        "own_session": os.getsid(0) == os.getpid() and os.getpgrp() == os.getpid(),
        "stdin": stream(sys.stdin), "stdout": stream(sys.stdout), "stderr": stream(sys.stderr),
        "fsencoding": [sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()],
        "locale": locale.setlocale(locale.LC_CTYPE),
        "preferred": locale.getpreferredencoding(False),
        "tzname": list(time.tzname),
        "umask": mask,
        "stdin_data": sys.stdin.read(),
        "pid": os.getpid(),
        "random": random.random(),
        "uuid4": str(uuid.uuid4()),
        "mktemp": tempfile.mktemp(),
        "urandom": os.urandom(8).hex(),
        "hash_x": hash("x"),
        "modules": sorted(sys.modules),
    }
    with tempfile.NamedTemporaryFile() as f:
        data["named_tmp"] = f.name
    print(json.dumps(data))
    ''')


#: A script that prints its parent's command line (NUL-separated)
PARENT = "import os\nprint(open('/proc/%d/cmdline' % os.getppid()).read())\n"


def forked_warm(out: bytes) -> bool:
    """Whether PARENT ran in a child forked from a warm zygote (not from the spawner,
    `python -I -S zygote.py`, nor from the server)."""
    argv = out.decode().rstrip("\n").split("\0")
    return len(argv) > 1 and argv[1] == ZYGOTE_PATH


@pytest.fixture
def warm() -> Iterator[WarmLauncher]:
    launcher = WarmLauncher()
    yield launcher
    launcher.close()


@pytest.fixture(params=["file", "text"])
def given(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """How the zygote reaches its interpreter: zygote.py's path, or (where the server's
    user cannot read the checkout, under User/Group) its text with -c."""
    if request.param == "text":
        source = Path(ZYGOTE_PATH).read_text(encoding="utf-8")
        monkeypatch.setattr(warm_launcher, "zygote_program", lambda: ["-c", source])
    return str(request.param)


def spec_for(script: Path, interp: str = PY, *, flags: tuple[str, ...] = (),
             env: dict[str, str] | None = None, preload: tuple[str, ...] = (),
             args: tuple[str, ...] = (), notes: list[str] | None = None) -> LaunchSpec:
    base = {"PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": "GET", "QUERY_STRING": "a=1", "SCRIPT_NAME": "/" + script.name}
    return LaunchSpec((interp, *flags, str(script)), args, {**base, **(env or {})},
                      str(script.parent), warm=True, preload=preload,
                      notify=(lambda level, msg: notes.append(f"{level}: {msg}"))
                      if notes is not None else None)


def write(tmp: Path, name: str, text: str, interp: str = PY) -> Path:
    p = tmp / name
    p.write_text(f"#!{interp}\n" + text)
    return p


def probe(launcher: Launcher, spec: LaunchSpec) -> dict[str, object]:
    rc, out, err = launch(launcher, spec, b"body bytes\n")
    assert rc == 0, err.decode()
    data: dict[str, object] = json.loads(out)
    return data


def differences(cold: dict[str, object], warm: dict[str, object]) -> dict[str, object]:
    return {k: (cold.get(k), warm.get(k)) for k in cold.keys() | warm.keys()
            if k not in PER_RUN | KNOWN_DIFFERENCES and cold.get(k) != warm.get(k)}


INTERPRETERS = [PY] + ([SYSTEM_PY] if os.path.exists(SYSTEM_PY)
                       and os.path.realpath(SYSTEM_PY) != os.path.realpath(PY) else [])


@pytest.mark.parametrize("interp", INTERPRETERS)
@pytest.mark.parametrize(("flags", "env"), [
    ((), {}),
    ((), {"LANG": "C.UTF-8"}),
    ((), {"PYTHONIOENCODING": "latin-1:replace", "TZ": "UTC"}),
    (("-u",), {}),
    (("-I",), {}),
    (("-OB",), {"PYTHONDONTWRITEBYTECODE": "1"}),
    (("-s",), {"LC_ALL": "C"}),
])
def test_probe_warm_equals_cold(tmp_path: Path, given: str, warm: WarmLauncher, interp: str,
                                flags: tuple[str, ...], env: dict[str, str]) -> None:
    script = write(tmp_path, "probe.py", PROBE, interp)
    spec = spec_for(script, interp, flags=flags, env=env, preload=("json", "random"),
                    args=("word",))
    cold = probe(ReferenceLauncher(), spec)
    hot = probe(warm, spec)
    assert differences(cold, hot) == {}
    # what the comparison rests on, said plainly
    assert hot["fds"] == [0, 1, 2, 3]  # 3: the listing's own directory fd
    assert hot["threads"] == 1 and hot["tasks"] == 1
    assert hot["main_is_script"] and hot["name"] == "__main__" and hot["file"] == str(script)
    assert hot["argv"] == [str(script), "word"]
    assert hot["cwd"] == str(tmp_path)
    assert hot["own_session"] is True
    assert hot["stdin_data"] == "body bytes\n"


def _other_pythons() -> list[str]:
    """CPython 3.8+ interpreters installed by pyenv here, one per minor version: the
    zygote must run under each (the script's Python need not be ours)."""
    import glob
    import re

    found: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3.*"))):
        m = re.search(r"/bin/python(3\.(\d+))$", path)
        if m and int(m.group(2)) >= 8 and os.path.realpath(path) != os.path.realpath(PY):
            found.setdefault(m.group(1), path)
    return list(found.values())


@pytest.mark.parametrize("interp", _other_pythons())
@pytest.mark.parametrize(("flags", "env"), [((), {}), (("-u",), {"LANG": "C.UTF-8"}),
                                            (("-I",), {})])
def test_probe_warm_equals_cold_on_other_pythons(tmp_path: Path, given: str,
                                                 warm: WarmLauncher, interp: str,
                                                 flags: tuple[str, ...],
                                                 env: dict[str, str]) -> None:
    script = write(tmp_path, "probe.py", PROBE, interp)
    spec = spec_for(script, interp, flags=flags, env=env, preload=("json",), args=("w",))
    cold = probe(ReferenceLauncher(), spec)
    hot = probe(warm, spec)
    assert differences(cold, hot) == {}
    assert hot["pid"] != cold["pid"] and hot["fds"] == [0, 1, 2, 3]


def test_zygote_environment_does_not_leak(tmp_path: Path, warm: WarmLauncher,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("H7_SERVER_ONLY", "must-not-leak")
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "h7_sets_env.py").write_text("import os\nos.environ['H7_FROM_ZYGOTE'] = 'leak'\n")
    script = write(tmp_path, "env.py", "import os, json\nprint(json.dumps(dict(os.environ)))\n")
    spec = spec_for(script, env={"ONLY_THIS": "yes", "PYTHONPATH": str(lib)},
                    preload=("h7_sets_env",))
    _, cold, _ = launch(ReferenceLauncher(), spec)
    _, hot, _ = launch(warm, spec)
    assert "H7_SERVER_ONLY" not in json.loads(hot)
    assert "H7_FROM_ZYGOTE" not in json.loads(hot)  # set in the zygote by a preload
    assert json.loads(hot) == json.loads(cold)
    assert json.loads(hot)["ONLY_THIS"] == "yes"


ENV_VIEWS = """\
import json, os, subprocess
os.environ["SET_BY_SCRIPT"] = "1"
c_env = subprocess.run(["/usr/bin/env", "-0"], capture_output=True, check=True).stdout
print(json.dumps({
    "environ": list(os.environ.items()),
    "environb": [[k.decode(), v.decode()] for k, v in os.environb.items()],
    "c": [kv.decode() for kv in c_env.split(b"\\0") if kv],
}))
"""


def test_each_request_sees_exactly_its_environment(tmp_path: Path, warm: WarmLauncher) -> None:
    """os.environ, os.environb (one dict) and the C environment a subprocess inherits
    are the request's, in its order, after an earlier request with other variables,
    as in a cold run."""
    script = write(tmp_path, "env.py", ENV_VIEWS)
    first = spec_for(script, env={"FIRST_ONLY": "a", "BOTH": "first"})
    second = spec_for(script, env={"BOTH": "second", "SECOND_ONLY": "b"})
    for spec in (first, second, first):
        _, cold, err = launch(ReferenceLauncher(), spec)
        assert cold, err.decode()
        _, hot, err = launch(warm, spec)
        assert json.loads(hot) == json.loads(cold), err.decode()
    views = json.loads(hot)
    assert "FIRST_ONLY=a" in views["c"] and "SECOND_ONLY=b" not in views["c"]
    assert ["SET_BY_SCRIPT", "1"] in views["environb"]


def test_random_uuid_and_tempfile_names_differ_between_requests(
        tmp_path: Path, warm: WarmLauncher) -> None:
    # preloaded, so that their state exists in the zygote before the fork
    spec = spec_for(write(tmp_path, "probe.py", PROBE),
                    preload=("random", "uuid", "tempfile"))
    first, second = probe(warm, spec), probe(warm, spec)
    for key in ("random", "uuid4", "mktemp", "named_tmp", "urandom", "pid"):
        assert first[key] != second[key], key


def test_module_state_of_an_earlier_request_is_not_seen(tmp_path: Path,
                                                        warm: WarmLauncher) -> None:
    script = write(tmp_path, "mutate.py", textwrap.dedent("""\
        import json, sys
        print(getattr(json, "H7_MARK", "clean"))
        json.H7_MARK = "dirty"
        json.dumps = None
        sys.path.append("/h7-added")
        import os
        os.environ["H7_SET_BY_SCRIPT"] = "1"
        """))
    spec = spec_for(script, preload=("json",))
    outs = [launch(warm, spec)[1] for _ in range(3)]
    assert outs == [b"clean\n"] * 3


@pytest.mark.parametrize("body,rc_expected", [
    ("import atexit, sys\natexit.register(lambda: print('atexit ran'))\n"
     "print('body')\nsys.exit(3)\n", 3),
    ("import sys\nsys.exit('a message')\n", 1),
    ("import atexit\natexit.register(print, 'bye')\n"
     "def f():\n    raise ValueError('boom')\nf()\n", 1),
    ("x = (\n", 1),  # SyntaxError
    ("raise KeyboardInterrupt\n", -signal.SIGINT),
    ("import os\nos.kill(os.getpid(), 9)\n", -9),
    ("f = open('left-open.txt', 'w')\nf.write('flushed at exit')\n", 0),
    ("import threading, time\n"
     "threading.Thread(target=lambda: (time.sleep(0.2), print('thread done'))).start()\n", 0),
    ("# -*- coding: latin-1 -*-\nprint(ascii('\xe9'))\n", 0),
])
def test_exit_status_output_and_tracebacks_as_cold(tmp_path: Path, warm: WarmLauncher,
                                                   body: str, rc_expected: int) -> None:
    script = tmp_path / "s.py"
    script.write_bytes(f"#!{PY}\n".encode() + body.encode("latin-1"))
    spec = spec_for(script)
    results = []
    for launcher in (ReferenceLauncher(), warm):
        left = tmp_path / "left-open.txt"
        left.unlink(missing_ok=True)
        rc, out, err = launch(launcher, spec)
        results.append((rc, out, err, left.read_bytes() if left.exists() else None))
    assert results[0][0] == rc_expected
    assert results[1] == results[0]


def test_an_edited_script_is_picked_up(tmp_path: Path, warm: WarmLauncher) -> None:
    script = write(tmp_path, "v.py", "print('one')\n")
    spec = spec_for(script)
    assert launch(warm, spec)[1] == b"one\n"
    script.write_text(f"#!{PY}\nprint('two')\n")  # same size: the mtime tells
    st = script.stat()
    os.utime(script, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert launch(warm, spec)[1] == b"two\n"
    script.unlink()
    rc, out, err = launch(warm, spec)
    assert rc == 2 and b"can't open file" in err and b"No such file" in err


def test_a_killed_child_leaves_the_zygote_serving(tmp_path: Path, warm: WarmLauncher) -> None:
    slow = write(tmp_path, "slow.py", "import time\nprint('up', flush=True)\ntime.sleep(60)\n")
    fast = write(tmp_path, "fast.py", "print('fast')\n")

    async def main() -> tuple[int, bytes]:
        proc = await warm.start(spec_for(slow))
        assert await proc.stdout.read(100, DEADLINE) == b"up\n"
        proc.kill()
        rc = await asyncio.wait_for(proc.wait(), DEADLINE)
        nxt = await warm.start(spec_for(fast))
        nxt.stdin.close()
        out = await asyncio.wait_for(nxt.stdout.read(), DEADLINE)
        await asyncio.wait_for(nxt.wait(), DEADLINE)
        return rc, out

    rc, out = asyncio.run(main())
    assert rc == -signal.SIGTERM
    assert out == b"fast\n"


def test_the_process_list_names_the_running_script(tmp_path: Path,
                                                   warm: WarmLauncher) -> None:
    """ps/top/pgrep show the script's name (comm, 15 bytes), not the zygote's."""
    slow = write(tmp_path, "a-long-script-name.py",
                 "import time\nprint('up', flush=True)\ntime.sleep(60)\n")

    async def main() -> str:
        proc = await warm.start(spec_for(slow))
        try:
            assert await proc.stdout.read(100, DEADLINE) == b"up\n"
            with open(f"/proc/{proc.pid}/comm", encoding="utf-8") as f:
                return f.read()
        finally:
            proc.kill()
            await asyncio.wait_for(proc.wait(), DEADLINE)

    assert asyncio.run(main()) == "a-long-script-n\n"


def test_a_dead_zygote_is_restarted_with_a_log_line(tmp_path: Path, warm: WarmLauncher) -> None:
    script = write(tmp_path, "pid.py", "import os\nprint(os.getppid())\n")
    notes: list[str] = []

    async def main() -> tuple[int, int]:
        async def ppid() -> int:
            proc = await warm.start(spec_for(script, notes=notes))
            proc.stdin.close()
            out = await asyncio.wait_for(proc.stdout.read(), DEADLINE)
            await asyncio.wait_for(proc.wait(), DEADLINE)
            return int(out)

        first = await ppid()
        os.kill(first, signal.SIGKILL)  # the zygote: the child's parent, started by this test
        for _ in range(int(DEADLINE / 0.05)):
            if any("restarts" in n for n in notes):
                break
            await asyncio.sleep(0.05)
        return first, await ppid()

    first, second = asyncio.run(main())
    assert first != second
    assert any("was killed by signal 9" in n and "restarts" in n for n in notes), notes


def test_children_started_together_hold_only_their_own_fds(tmp_path: Path,
                                                          warm: WarmLauncher) -> None:
    """Requests sent at once reach the zygote together and are forked one after
    another: each child has its stdio alone open, none of another request's pipes (which
    would keep that request's output open until this child ends)."""
    script = write(tmp_path, "fds.py", "import os\nprint(sorted(os.listdir('/proc/self/fd')))\n")
    spec = spec_for(script)
    launch(warm, spec)  # the zygote started

    async def main() -> list[bytes]:
        async def one() -> bytes:
            proc = await warm.start(spec)
            proc.stdin.close()
            out = await asyncio.wait_for(proc.stdout.read(), DEADLINE)
            await asyncio.wait_for(proc.wait(), DEADLINE)
            return out

        return list(await asyncio.gather(*(one() for _ in range(8))))

    outs = asyncio.run(main())
    _, cold, _ = launch(ReferenceLauncher(), spec)
    assert cold == b"['0', '1', '2', '3']\n"
    assert outs == [cold] * 8


def _frame(sock: socket.socket, msg: tuple[object, ...], fds: list[int]) -> None:
    payload = marshal.dumps(msg, 4)
    sock.sendmsg([len(payload).to_bytes(4, "big") + payload],
                 [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])


def _replies(sock: socket.socket, count: int) -> list[tuple[object, ...]]:
    buf, got = b"", []
    while len(got) < count:
        chunk = sock.recv(1 << 16)
        assert chunk, got
        buf += chunk
        while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[:4], "big"):
            size = int.from_bytes(buf[:4], "big")
            got.append(marshal.loads(buf[4:4 + size]))
            buf = buf[4 + size:]
    return got


def test_a_batch_of_a_run_and_a_spawn_keeps_each_cwd(tmp_path: Path) -> None:
    """Two requests waiting together reach the zygote as one batch (it is stopped
    while they are sent): a warm run in one directory, then a program spawned in
    another (a warm zygote spawns when no spawner runs). Each runs in its own cwd, and
    each child holds only its own pipes (both outputs end)."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    py = write(tmp_path / "a", "cwd.py", "import os\nprint(os.getcwd())\n")
    ours, theirs = socket.socketpair()
    config = marshal.dumps({"preload": [], "env": {}}, 4).hex()
    zygote = subprocess.Popen([PY, ZYGOTE_PATH, str(theirs.fileno()), config],
                              pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
                              cwd="/", start_new_session=True)
    theirs.close()
    ours.settimeout(DEADLINE)
    outs = []
    try:
        assert _replies(ours, 1)[0][0] == "ready"
        os.kill(zygote.pid, signal.SIGSTOP)
        env = b"PATH\0/usr/bin:/bin"
        for msg in (("run", 1, bytes(py), [PY.encode(), bytes(py)], env,
                     os.fsencode(py.parent), [PY.encode(), bytes(py)]),
                    ("spawn", 2, b"/bin/sh", [b"/bin/sh", b"-c", b"pwd"], env,
                     os.fsencode(tmp_path / "b"), None)):
            in_r, in_w = os.pipe()
            out_r, out_w = os.pipe()
            os.close(in_w)
            _frame(ours, msg, [in_r, out_w, out_w])
            os.close(in_r)
            os.close(out_w)
            outs.append(out_r)
        os.kill(zygote.pid, signal.SIGCONT)
        kinds = [reply[0] for reply in _replies(ours, 4)]
        assert sorted(kinds) == ["exit", "exit", "started", "started"], kinds
        got = []
        for fd in outs:
            with os.fdopen(fd, "rb") as f:
                got.append(f.read())
    finally:
        ours.close()
        zygote.wait(DEADLINE)
    assert got == [f"{tmp_path / 'a'}\n".encode(), f"{tmp_path / 'b'}\n".encode()]


def test_a_preload_that_starts_a_thread_makes_its_scripts_run_cold(
        tmp_path: Path, warm: WarmLauncher) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "h7_threaded.py").write_text(
        "import threading, time\nthreading.Thread(target=time.sleep, args=(60,), daemon=True)"
        ".start()\n")
    script = write(tmp_path, "t.py", PARENT)
    notes: list[str] = []
    spec = spec_for(script, env={"PYTHONPATH": str(lib)}, preload=("h7_threaded",), notes=notes)
    rc, out, _ = launch(warm, spec)
    assert rc == 0 and not forked_warm(out)
    assert any("threads" in n and "cold" in n for n in notes), notes


def test_a_missing_preload_is_logged_and_the_rest_runs_warm(tmp_path: Path,
                                                            warm: WarmLauncher) -> None:
    script = write(tmp_path, "t.py", PARENT)
    notes: list[str] = []
    rc, out, _ = launch(warm, spec_for(script, preload=("no_such_module_h7",), notes=notes))
    assert rc == 0 and forked_warm(out)
    assert any("preload no_such_module_h7 failed" in n for n in notes), notes


@pytest.mark.parametrize(("argv", "warm_ok"), [
    ((PY, "/s.py"), True),
    ((PY, "-u", "/s.py"), True),
    ((PY, "-OO", "/s.py"), True),
    ((PY, "-W ignore", "/s.py"), False),
    ((PY, "-X utf8", "/s.py"), False),
    (("/bin/sh", "/s.py"), False),
    (("/s.cgi",), False),
    (("/usr/bin/env", "python3", "/s.py"), os.path.exists("/usr/bin/python3")),
    (("/usr/bin/env", "perl", "/s.py"), False),
    (("python3", "/s.py"), False),  # not an absolute path
])
def test_what_runs_warm(argv: tuple[str, ...], warm_ok: bool) -> None:
    spec = LaunchSpec(argv, (), {"PATH": "/usr/bin:/bin"}, "/", warm=True)
    assert (plan_warm(spec) is not None) is warm_ok


def test_cgiwarmpython_off_runs_cold(tmp_path: Path, warm: WarmLauncher) -> None:
    script = write(tmp_path, "t.py", PARENT)
    spec = spec_for(script)
    cold_spec = LaunchSpec(spec.argv, spec.extra_args, spec.env, spec.cwd, warm=False)
    assert not forked_warm(launch(warm, cold_spec)[1])
    assert forked_warm(launch(warm, spec)[1])
