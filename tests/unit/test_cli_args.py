"""Every flag of the command line, parsed into one Options value (table-driven)."""

from __future__ import annotations

import pytest

from cgihttpd.cli import Options, UsageError, parse_args, parse_listen
from cgihttpd.config.model import Address

CASES: list[tuple[list[str], Options]] = [
    ([], Options()),
    (["site"], Options(docroot="site")),
    (["-f", "httpd.conf"], Options(conf="httpd.conf")),
    (["-f", "c", "-D", "A", "-DFOREGROUND"], Options(conf="c", defines=("A", "FOREGROUND"))),
    (["-l", "127.0.0.1:8080"], Options(listens=(Address("127.0.0.1", 8080),))),
    (["--listen", "127.0.0.1:0", "-l", "[::1]:81"],
     Options(listens=(Address("127.0.0.1", 0), Address("[::1]", 81)))),
    (["-t", "-f", "c"], Options(conf="c", check=True)),
    (["-S", "-f", "c"], Options(conf="c", dump=True)),
    (["-t", "-D", "DUMP_VHOSTS", "-f", "c"],
     Options(conf="c", defines=("DUMP_VHOSTS",), dump=True)),
    (["-d", "/etc/apache2", "-f", "apache2.conf"],
     Options(conf="apache2.conf", server_root="/etc/apache2")),
    (["-v"], Options(version=True)),
    (["-X", "--workers", "4"], Options(workers=1, single=True)),
    (["-k", "graceful", "-f", "c"], Options(conf="c", verb="graceful")),
    (["-d", "/srv", "-f", "c", "-C", "Define A", "-C", "Listen 81", "-c", "LogLevel info"],
     Options(conf="c", server_root="/srv", before=("Define A", "Listen 81"),
             after=("LogLevel info",))),
    (["-k", "start", "-DFOREGROUND"], Options(verb="start", defines=("FOREGROUND",))),
    (["--workers", "3"], Options(workers=3)),
    (["--workers", "auto"], Options(workers=0)),
    (["--app", "m:app"], Options(app="m:app")),
    (["--dev", "-f", "c"], Options(conf="c", dev=True)),
    (["dir", "-l", "8080"], Options(docroot="dir", listens=(Address("*", 8080),))),
]


@pytest.mark.parametrize(("argv", "expected"), CASES, ids=[" ".join(c[0]) or "-" for c in CASES])
def test_parse_args(argv: list[str], expected: Options) -> None:
    assert parse_args(argv) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("127.0.0.1:8080", Address("127.0.0.1", 8080)),
    ("localhost:0", Address("localhost", 0)),
    ("*:80", Address("*", 80)),
    ("8080", Address("*", 8080)),
    ("[::1]:8080", Address("[::1]", 8080)),
])
def test_parse_listen(text: str, expected: Address) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["host:", "host:x", "::1:80", "[::1]80", "1:70000"])
def test_parse_listen_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_listen(text)


def test_unknown_verb_exits_2() -> None:
    with pytest.raises(SystemExit) as exc:
        parse_args(["-k", "reload"])
    assert exc.value.code == 2


@pytest.mark.parametrize("argv", [["dir", "-f", "c"], ["--workers", "0"], ["-d", "/x"],
                                  ["-C", "Listen 80"]])
def test_usage_errors(argv: list[str]) -> None:
    with pytest.raises(UsageError):
        parse_args(argv)


def test_unknown_flag_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_args(["--nope"])
    assert exc.value.code == 2


def test_dev_mode_defaults(tmp_path: object) -> None:
    """On for a folder, off for -f CONF unless --dev or CGIDevMode On."""
    import pathlib

    from cgihttpd.cli import build_config

    root = pathlib.Path(str(tmp_path))
    assert build_config(Options(docroot=str(root))).dev_mode
    conf = root / "httpd.conf"
    conf.write_text(f"Listen 127.0.0.1:8080\nDocumentRoot {root}\n")
    assert not build_config(Options(conf=str(conf))).dev_mode
    assert build_config(Options(conf=str(conf), dev=True)).dev_mode
    conf.write_text(f"Listen 127.0.0.1:8080\nDocumentRoot {root}\nCGIDevMode On\n")
    assert build_config(Options(conf=str(conf))).dev_mode
