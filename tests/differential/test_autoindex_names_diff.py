"""mod_autoindex HeaderName and ReadmeName on Apache and cgihttpd, one config and one
tree: an HTML header and a text readme in a plain listing, a text header and an HTML
readme in a FancyIndexing table, a header named by an absolute URL with a readme that
does not exist, and a header the directory denies; entries a ``<Files>`` or
``<FilesMatch>`` denies left out of the listing (mod_autoindex's subrequest per entry),
or listed with ``IndexOptions ShowForbidden``; the listings compared byte for byte."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from diffsupport import Pair, config_head, serving, site_dirs, wait_for_lines

pytestmark = pytest.mark.differential

CONFIG = config_head("authz_core", "mime", "dir", "autoindex") + r"""
TypesConfig /etc/mime.types
DocumentRoot "${ROOT}/site"
<Directory />
    Require all denied
</Directory>
<Directory "${ROOT}/site">
    Require all granted
    Options +Indexes
</Directory>
<Directory "${ROOT}/site/ix1">
    HeaderName HEADER.html
    ReadmeName README.txt
</Directory>
<Directory "${ROOT}/site/ix2">
    HeaderName HEADER.txt
    ReadmeName README.html
    IndexOptions FancyIndexing HTMLTable
</Directory>
<Directory "${ROOT}/site/ix3">
    HeaderName /ix1/HEADER.html
    ReadmeName missing.txt
</Directory>
<Directory "${ROOT}/site/ix4">
    HeaderName secret.html
</Directory>
<Directory "${ROOT}/site/ix5">
    IndexOptions ShowForbidden
</Directory>
<Files "secret.html">
    Require all denied
</Files>
<FilesMatch "^\.ht">
    Require all denied
</FilesMatch>
"""

FILES = {
    "ix1/HEADER.html": "<p>Head &amp; html</p>\n",
    "ix1/README.txt": "Read <me> & plain\n",
    "ix1/f.txt": "x\n",
    "ix2/HEADER.txt": "plain <head>\n",
    "ix2/README.html": "<b>readme</b>\n",
    "ix2/g.txt": "y\n",
    "ix3/z.txt": "z\n",
    "ix4/secret.html": "<p>secret</p>\n",
    "ix4/w.txt": "w\n",
    "ix4/.htpasswd": "u:x\n",
    "ix5/secret.html": "<p>secret</p>\n",
    "ix5/v.txt": "v\n",
}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("autoindex-names")
    site = site_dirs(root, FILES)
    for rel in FILES:
        os.utime(site / rel, (1_700_000_000, 1_700_000_000))
    with serving(root, CONFIG) as started:
        yield started


@pytest.mark.parametrize("target", ["/ix1/", "/ix2/", "/ix3/", "/ix4/", "/ix5/"])
def test_listing_includes_the_files(pair: Pair, target: str) -> None:
    a = pair.apache.request("GET", target)
    o = pair.ours.request("GET", target)
    assert a.status == 200
    assert (o.status, o.body) == (a.status, a.body)
    assert o.header("Content-Type") == a.header("Content-Type")


def test_a_denied_header_is_not_included(pair: Pair) -> None:
    for server in pair.both():
        body = server.request("GET", "/ix4/").body
        assert b"<h1>Index of /ix4</h1>" in body and b"secret</p>" not in body
        assert b"secret.html" not in body and b".htpasswd" not in body


def test_show_forbidden_lists_a_denied_entry(pair: Pair) -> None:
    for server in pair.both():
        assert b"secret.html" in server.request("GET", "/ix5/").body


def test_a_denied_entry_is_logged_as_its_subrequest(pair: Pair) -> None:
    # mod_authz_core logs the entry's refused subrequest as it logs a request's
    for server in pair.both():
        server.request("GET", "/ix4/")
    for server in pair.both():
        log = wait_for_lines(server.log("error"), 1)
        denied = [x for x in log if x.endswith(f"{server.root}/site/ix4/.htpasswd")]
        assert denied and "AH01630: client denied by server configuration" in denied[-1], (
            server.impl, log[-5:])
