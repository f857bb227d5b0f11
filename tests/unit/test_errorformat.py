"""ErrorLogFormat: parsing (``config.errorformat``, Apache's messages) and rendering
(``logs.errorformat``) with log.c's field rules, checked on apache2 2.4.71."""

from __future__ import annotations

import pytest

from cgihttpd.config.errorformat import ErrorFormatError, parse_error_log_format
from cgihttpd.logs.errorformat import ErrorInfo, format_error_message

INFO = ErrorInfo(when=0.0, level="info", module="core", pid=7, tid=9, message="boom\n",
                 client=("127.0.0.1", 5000), local=("127.0.0.2", 80), server_name="srv",
                 headers=(("referer", "http://r/"), ("x-a", "1"), ("x-a", "2")),
                 env={"tagged": "yes"}, host="vh")


def render(fmt: str, info: ErrorInfo = INFO) -> str | None:
    return format_error_message(parse_error_log_format(fmt), info)


@pytest.mark.parametrize(("fmt", "line"), [
    ("[%m:%l] [pid %P:tid %T] [client %a] %M", "[core:info] [pid 7:tid 9] "
                                              "[client 127.0.0.1:5000] boom\\n"),
    ("%A %v %V %{tagged}e %{x-a}i %%", "127.0.0.2:80 srv vh yes 1, 2 %"),
    # an empty item drops its field: from the last separator to the next
    ("%M% ,\\ referer\\ %{Referer}i% ;\\ none\\ %{X-None}i.", "boom\\n, referer http://r/"),
    ("[%-{X-None}i] [%{X-None}i] [%v]", "[-] [srv]"),
    ("a\\tb\\ c %7{x-a}i %6{x-a}i", "a\tb c 1, 2"),
])
def test_render(fmt: str, line: str) -> None:
    assert render(fmt) == line


def test_a_required_item_drops_the_line_and_startup_has_no_client() -> None:
    assert render("%+{X-None}i %M") is None
    bare = ErrorInfo(when=0.0, level="warn", module="mime", pid=1, tid=None, message="m")
    # (Apache's start-up lines: "AH...: [localhost] [-] message" for such a format)
    assert render("x: [client\\ %a] [%a] [%v] %M", bare) == "x: m"


@pytest.mark.parametrize(("fmt", "message"), [
    ("%Q", "Unrecognized error log format directive %Q"),
    ("%{x", "Ran off end of error log format parsing args to some directive"),
])
def test_refusals(fmt: str, message: str) -> None:
    with pytest.raises(ErrorFormatError, match=message):
        parse_error_log_format(fmt)
