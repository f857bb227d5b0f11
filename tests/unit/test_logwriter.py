"""LogSet: the log files of a configuration, opened at start, shared, one line a write."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from cgihttpd.config.errors import ConfigError
from cgihttpd.config.model import DirConf, Limits, LogTarget, ServerConfig, Source, VirtualHost
from cgihttpd.logs.access import LogRecord
from cgihttpd.logs.writer import LogSet

COMMON = '%h %l %u %t "%r" %>s %b'


def vhost(name: str, error_log: str, logs: tuple[LogTarget, ...], *, main: bool = False,
          level: str = "warn", line: int = 1) -> VirtualHost:
    return VirtualHost(
        addresses=() if main else (),
        server_name=name, server_aliases=(), server_admin="", document_root="/srv",
        error_log=error_log, log_level=level, custom_logs=logs, aliases=(), base=DirConf(),
        sections=(), timeout=60, keepalive=True, keepalive_timeout=5,
        max_keepalive_requests=100, server_signature="off", cgi_script_timeout=None,
        script_log=None, source=Source("/etc/httpd.conf", line), is_main=main,
    )


def config(main: VirtualHost, *vhosts: VirtualHost, root: str = "/") -> ServerConfig:
    return ServerConfig(
        server_root=root, files=(), listens=(), main=main, vhosts=vhosts, limits=Limits(),
        server_tokens="Full", user=None, group=None, pid_file=None, modules=frozenset(),
        mime_types=(),
    )


def target(path: str, fmt: str = COMMON, condition: str | None = None,
           line: int = 7) -> LogTarget:
    return LogTarget(path, fmt, "common", condition, Source("/etc/httpd.conf", line))


def rec(**kw: object) -> LogRecord:
    base: dict[str, object] = dict(
        remote_addr="127.0.0.1", remote_port=1, local_addr="127.0.0.1", local_port=80,
        request_line="GET / HTTP/1.1", method="GET", raw_uri="/", path="/", query="",
        protocol="HTTP/1.1", start_time=time.time(), status=200, body_bytes=5,
    )
    base.update(kw)
    return LogRecord(**base)  # type: ignore[arg-type]


def test_files_are_created_at_open_and_shared(tmp_path: Path) -> None:
    shared = str(tmp_path / "access.log")
    main = vhost("main", str(tmp_path / "error.log"), (target(shared),), main=True)
    a = vhost("a", str(tmp_path / "a-error.log"), (target(shared),))
    b = vhost("b", str(tmp_path / "a-error.log"), (target(str(tmp_path / "b.log")),))
    logs = LogSet.open(config(main, a, b))
    try:
        for name in ("error.log", "a-error.log", "access.log", "b.log"):
            assert (tmp_path / name).exists(), name
        assert logs.errorlog_for(a).stream is logs.errorlog_for(b).stream
        logs.access(a, rec(path="/a", request_line="GET /a HTTP/1.1"))
        logs.access(main, rec(request_line="GET /m HTTP/1.1"))
        logs.access(b, rec(request_line="GET /b HTTP/1.1"))
        # written through at once: no buffering to wait for
        lines = (tmp_path / "access.log").read_text().splitlines()
        assert [line.split('"')[1] for line in lines] == ["GET /a HTTP/1.1", "GET /m HTTP/1.1"]
        assert '"GET /b HTTP/1.1" 200 5' in (tmp_path / "b.log").read_text()
        logs.errorlog_for(a).log("error", "core", "boom")
        assert "[core:error]" in (tmp_path / "a-error.log").read_text()
        assert (tmp_path / "error.log").read_text() == ""
    finally:
        logs.close()


def test_append_not_truncate(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("old line\n")
    main = vhost("main", str(tmp_path / "e.log"), (target(str(log)),), main=True)
    logs = LogSet.open(config(main))
    logs.access(main, rec())
    logs.close()
    assert log.read_text().startswith("old line\n") and len(log.read_text().splitlines()) == 2


def test_relative_paths_resolve_against_server_root(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    main = vhost("main", "logs/error_log", (target("logs/access_log"),), main=True)
    logs = LogSet.open(config(main, root=str(tmp_path)))
    logs.close()
    assert (tmp_path / "logs" / "error_log").exists()
    assert (tmp_path / "logs" / "access_log").exists()


def test_missing_directory_for_custom_log_names_the_directive(tmp_path: Path) -> None:
    main = vhost("main", str(tmp_path / "e.log"),
                 (target(str(tmp_path / "nodir" / "access.log"), line=17),), main=True)
    with pytest.raises(ConfigError) as info:
        LogSet.open(config(main))
    err = info.value
    assert err.source == Source("/etc/httpd.conf", 17)
    # Apache: AH02297: Cannot access directory '/x/nodir/' for log file '/x/nodir/access.log'
    # defined at /etc/httpd.conf:17
    assert str(err) == (
        f"/etc/httpd.conf:17: Cannot access directory '{tmp_path}/nodir/' for log file "
        f"'{tmp_path}/nodir/access.log' defined at /etc/httpd.conf:17: No such file or directory"
        f" (create it: mkdir -p {tmp_path}/nodir)"  # ours: what to run
    )


def test_missing_directory_for_error_log(tmp_path: Path) -> None:
    main = vhost("main", str(tmp_path / "e.log"), (), main=True)
    v = vhost("v", str(tmp_path / "nodir" / "error.log"), (), line=30)
    with pytest.raises(ConfigError, match="Cannot access directory .* for error log of vhost "
                                          "defined at /etc/httpd.conf:30"):
        LogSet.open(config(main, v))
    with pytest.raises(ConfigError, match="for main error log"):
        LogSet.open(config(replace(main, error_log=str(tmp_path / "x" / "e.log"))))


def test_env_conditions(tmp_path: Path) -> None:
    yes = str(tmp_path / "yes.log")
    no = str(tmp_path / "no.log")
    main = vhost("main", str(tmp_path / "e.log"),
                 (target(yes, condition="env=dolog"), target(no, condition="env=!dolog")),
                 main=True)
    logs = LogSet.open(config(main))
    logs.access(main, rec(env={"dolog": "1"}, request_line="GET /one HTTP/1.1"))
    logs.access(main, rec(request_line="GET /two HTTP/1.1"))
    logs.close()
    assert "/one" in Path(yes).read_text() and "/two" not in Path(yes).read_text()
    assert "/two" in Path(no).read_text() and "/one" not in Path(no).read_text()


def test_dev_stdout_and_stderr_are_the_process_streams(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    main = vhost("main", "/dev/stderr", (target("/dev/stdout"),), main=True)
    logs = LogSet.open(config(main))
    logs.access(main, rec())
    logs.errorlog_for(main).log("error", "core", "to stderr")
    logs.close()
    out, err = capfdbinary.readouterr()
    assert b'"GET / HTTP/1.1" 200 5\n' in out
    assert b"[core:error]" in err
    # closing the LogSet must not close the process's own streams
    assert not sys.stdout.closed


def test_piped_log_through_the_shell(tmp_path: Path) -> None:
    out = tmp_path / "piped.log"
    main = vhost("main", str(tmp_path / "e.log"), (target(f"|$cat >> {out}"),), main=True)
    logs = LogSet.open(config(main))
    logs.access(main, rec())
    logs.close()  # EOF to the pipe, waits for cat
    assert '"GET / HTTP/1.1" 200 5' in out.read_text()


@pytest.mark.parametrize("prefix", ["|", "||"])
def test_piped_log_without_shell(tmp_path: Path, prefix: str) -> None:
    out = tmp_path / "piped.log"
    script = f"import sys; open({str(out)!r}, 'ab').write(sys.stdin.buffer.read())"
    cmd = f"{prefix}{sys.executable} -c \"{script}\""
    main = vhost("main", str(tmp_path / "e.log"), (target(cmd),), main=True)
    logs = LogSet.open(config(main))
    logs.access(main, rec())
    logs.close()
    assert '"GET / HTTP/1.1" 200 5' in out.read_text()


def test_piped_log_that_cannot_start(tmp_path: Path) -> None:
    main = vhost("main", str(tmp_path / "e.log"),
                 (target("|/nonexistent/rotatelogs x", line=12),), main=True)
    with pytest.raises(ConfigError, match="httpd.conf:12: Couldn't start piped log process"):
        LogSet.open(config(main))


def test_write_error_does_not_raise(tmp_path: Path) -> None:
    main = vhost("main", str(tmp_path / "e.log"), (target("/dev/full"),), main=True)
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    logs = LogSet.open(config(main))
    logs.access(main, rec())  # ENOSPC: reported on stderr, not raised
    logs.close()


def test_bad_format_is_a_config_error(tmp_path: Path) -> None:
    main = vhost("main", str(tmp_path / "e.log"), (target(str(tmp_path / "a"), "%Z", line=9),),
                 main=True)
    with pytest.raises(ConfigError, match="httpd.conf:9: Unrecognized LogFormat directive %Z"):
        LogSet.open(config(main))


def test_mkdir_command_per_system() -> None:
    from cgihttpd.logs.writer import mkdir_command

    assert mkdir_command("/srv/my site/logs", False) == "mkdir -p '/srv/my site/logs'"
    assert mkdir_command("D:/Projects/python/Server-213/cgi/logs", True) == \
        'mkdir "D:\\Projects\\python\\Server-213\\cgi\\logs"'


def test_dev_mode_creates_missing_log_folders(tmp_path: Path) -> None:
    from cgihttpd.logs.writer import create_log_directories

    main = vhost("main", str(tmp_path / "a" / "b" / "e.log"),
                 (target(str(tmp_path / "c" / "access.log"), line=3),
                  target(str(tmp_path / "access.log"), line=4)), main=True)
    made = create_log_directories(config(main))
    assert made == [f"cgihttpd: created the missing log folder {tmp_path / d} (dev mode; "
                    "Apache would refuse to start)" for d in ("a/b", "c")]
    assert (tmp_path / "a" / "b").is_dir() and (tmp_path / "c").is_dir()
    assert create_log_directories(config(main)) == []
