"""The answer to a script's header block (``plan_reply``) and the response head built
from its fields."""

from __future__ import annotations

from cgihttpd.cgi.parser import Headers
from cgihttpd.cgi.reply import (
    MAX_INTERNAL_REDIRECTS,
    ReplyPlan,
    file_content_type,
    plan_reply,
    redirect_depth,
    response_headers,
    with_default_charset,
)
from cgihttpd.config.model import DirConf

TYPES = ((".py", "text/x-python"), (".html", "text/html"))


def test_file_type_like_mod_mime() -> None:
    assert file_content_type("/x/a.py", DirConf(), TYPES) == "text/x-python"
    assert file_content_type("/x/a.cgi", DirConf(), TYPES) is None
    assert file_content_type("/x/a.html.py", DirConf(), TYPES) == "text/x-python"
    assert file_content_type("/x/a.py", DirConf(add_types=((".py", "text/plain"),)),
                             TYPES) == "text/plain"
    assert file_content_type("/x/a.py", DirConf(force_type="a/b"), TYPES) == "a/b"


def test_default_charset() -> None:
    assert with_default_charset("text/html", None) == "text/html"
    assert with_default_charset("text/html", "On") == "text/html; charset=iso-8859-1"
    assert with_default_charset("text/plain", "utf-8") == "text/plain; charset=utf-8"
    assert with_default_charset("text/html; charset=koi8-r", "utf-8") == \
        "text/html; charset=koi8-r"
    assert with_default_charset("image/png", "utf-8") == "image/png"


def test_response_headers() -> None:
    fields = [("Content-Length", "abc"), ("X-A", "1")]
    assert response_headers(fields, 200, nph=False, default_type="text/x-python",
                            default_charset=None) == [
        (b"X-A", b"1"), (b"Content-Type", b"text/x-python")]
    assert response_headers([("Content-Length", "3")], 304, nph=False,
                            default_type="text/x-python", default_charset=None) == [
        (b"Content-Length", b"3")]
    assert response_headers([], 200, nph=True, default_type="text/x-python",
                            default_charset=None) == []


# --- plan_reply: the answer to a header block ----------------------------------------

NOW = 1_800_000_000.0
LAST_MODIFIED = "Thu, 01 Jan 2026 00:00:00 GMT"


def block(*fields: tuple[str, str], status: int | None = None,
          reason: str | None = None) -> Headers:
    """A header block as the parser gives it."""
    got = {k.lower(): v for k, v in fields}
    return Headers(status=status, reason=reason, headers=fields,
                   location=got.get("location"), content_type=got.get("content-type"))


def plan(event: Headers, *, nph: bool = False, method: str = "GET",
         request: dict[str, str] | None = None, can_redirect: bool = True,
         inherited_env: dict[str, str] | None = None) -> ReplyPlan:
    fields = {k.lower(): v for k, v in (request or {}).items()}
    return plan_reply(event, nph=nph, method=method, header=fields.get, request_time=NOW,
                      can_redirect=can_redirect, inherited_env=inherited_env or {})


def test_plain_output_is_streamed_with_the_scripts_fields() -> None:
    event = block(("Content-Type", "text/plain"), ("Set-Cookie", "a=1"))
    assert plan(event) == ReplyPlan("stream", 200, event.headers)
    assert plan(block(status=201, reason="Made It")) == \
        ReplyPlan("stream", 201, (), "Made It")


def test_head_streams_without_a_body() -> None:
    assert plan(block(("Content-Type", "text/plain")), method="HEAD") == \
        ReplyPlan("stream", 200, (("Content-Type", "text/plain"),), send_body=False)


def test_local_location_is_an_internal_redirect() -> None:
    event = block(("Location", "/other?x=1"), ("Set-Cookie", "s=1"))
    assert plan(event) == ReplyPlan("local-redirect", 200, location="/other?x=1")
    # an explicit "Status: 200" is the same (cgi_common.h: status 200 with a Location)
    assert plan(block(("Location", "/o"), status=200)).kind == "local-redirect"
    # HEAD and POST too: the redirect is served as a GET
    assert plan(event, method="HEAD").kind == "local-redirect"
    assert plan(event, method="POST").kind == "local-redirect"


def test_internal_redirects_stop_at_limit_internal_recursion() -> None:
    def chain(n: int) -> dict[str, str]:
        return {"REDIRECT_" * i + "STATUS": "200" for i in range(1, n + 1)}

    event = block(("Location", "/self"))
    assert redirect_depth(chain(MAX_INTERNAL_REDIRECTS - 1)) == MAX_INTERNAL_REDIRECTS - 1
    assert plan(event, inherited_env=chain(MAX_INTERNAL_REDIRECTS - 1)).kind == \
        "local-redirect"
    assert plan(event, inherited_env=chain(MAX_INTERNAL_REDIRECTS)) == \
        ReplyPlan("redirect-limit", 500)
    # a gap in the chain ends the count
    assert redirect_depth({"REDIRECT_STATUS": "200", "REDIRECT_REDIRECT_REDIRECT_STATUS": "1"}) == 1


def test_absolute_location_is_a_302_keeping_the_scripts_other_fields() -> None:
    event = block(("Location", "http://example.com/x"), ("Content-Type", "text/html"),
                  ("Set-Cookie", "s=1"), ("Content-Length", "5"), ("X-A", "1"))
    assert plan(event) == ReplyPlan("client-redirect", 302, (
        ("Location", "http://example.com/x"), ("Set-Cookie", "s=1"), ("X-A", "1")))
    # a local one too when no internal redirect can be served, and an empty one
    assert plan(block(("Location", "/p")), can_redirect=False) == \
        ReplyPlan("client-redirect", 302, (("Location", "/p"),))
    assert plan(block(("Location", ""))).headers == (("Location", ""),)


def test_location_with_another_status_is_the_scripts_response() -> None:
    event = block(("Location", "/new"), ("Content-Type", "text/plain"), status=301,
                  reason="Moved")
    assert plan(event) == ReplyPlan("stream", 301, event.headers, "Moved")
    assert plan(block(("Location", "http://e.com/"), status=302)).kind == "stream"


def test_nph_output_is_never_redirected_nor_conditional() -> None:
    event = block(("Location", "/x"), ("ETag", '"abc"'), status=200)
    assert plan(event, nph=True) == ReplyPlan("stream", 200, event.headers)
    assert plan(block(("ETag", '"abc"')), nph=True,
                request={"If-None-Match": '"abc"'}).kind == "stream"
    assert plan(event, nph=True, method="HEAD").send_body is False


def test_the_scripts_validators_meet_the_requests_conditions() -> None:
    event = block(("ETag", '"abc"'), ("Last-Modified", LAST_MODIFIED),
                  ("Content-Type", "text/plain"), ("Content-Length", "4"), ("X-A", "1"))
    not_modified = ReplyPlan("not-modified", 304, (
        ("ETag", '"abc"'), ("Last-Modified", LAST_MODIFIED), ("X-A", "1")))
    assert plan(event, request={"If-None-Match": '"abc"'}) == not_modified
    assert plan(event, method="HEAD", request={"If-None-Match": 'W/"abc"'}) == not_modified
    assert plan(event, request={"If-Modified-Since": LAST_MODIFIED}) == not_modified
    assert plan(event, request={"If-Match": '"zzz"'}) == ReplyPlan("precondition-failed", 412)
    assert plan(event, request={"If-Unmodified-Since": "Wed, 31 Dec 2025 00:00:00 GMT"}) \
        .kind == "precondition-failed"
    for request in ({"If-None-Match": '"other"'}, {"If-Match": '"abc"'}, {}):
        assert plan(event, request=request).kind == "stream", request


def test_conditions_only_for_get_and_head_without_a_status() -> None:
    event = block(("ETag", '"abc"'))
    match = {"If-None-Match": '"abc"'}
    assert plan(event, method="POST", request=match).kind == "stream"
    assert plan(block(("ETag", '"abc"'), status=200), request=match).kind == "stream"
    assert plan(block(), request={"If-Match": '"abc"'}).kind == "precondition-failed"
