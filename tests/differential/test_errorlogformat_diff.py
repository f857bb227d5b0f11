"""ErrorLogFormat on Apache and cgihttpd, one config: a request's error-log line with
the module and level, the client and local addresses, the server and host names, a
variable, request fields with ``-`` and with the field rules (an empty item drops its
field: ``% ,\\ referer\\ %{Referer}i``), the time forms and ``%%``; and a format
Apache refuses, refused with its message."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from diffsupport import Pair, config_head, serving, site_dirs, wait_for_lines

pytestmark = pytest.mark.differential

FORMAT = (r"[%{u}t] [%t] [%{cu}t] [%{c}t] [%-m:%l] [pid %P] [client\ %a] [%{c}a] [%A] "
          r"[%v] [%V] [%{tagged}e] [%-{X-Nope}i] [%{X-None}i] %M% ,\ referer\ %{Referer}i"
          r"% ;\ xtest\ %{X-Test}i %7{X-Test}i %%")
CONFIG = config_head("authz_core", "mime", "env") + f"""
TypesConfig /etc/mime.types
DocumentRoot "${{ROOT}}/site"
ErrorLogFormat "{FORMAT}"
SetEnv tagged yes
<Directory "${{ROOT}}/site">
    Require all granted
</Directory>
"""


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("errorlogformat")
    site_dirs(root, {"a.html": "a\n"})
    with serving(root, CONFIG) as started:
        yield started


def normalised(line: str) -> str:
    line = re.sub(r"\[\w{3} \w{3} \d\d \d\d:\d\d:\d\d\.\d{6} \d{4}\]", "[U]", line)
    line = re.sub(r"\[\w{3} \w{3} \d\d \d\d:\d\d:\d\d \d{4}\]", "[T]", line)
    line = re.sub(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\]", "[CU]", line)
    line = re.sub(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\]", "[C]", line)
    line = re.sub(r"\[pid \d+\]", "[pid P]", line)
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:N", line)


def test_request_lines(pair: Pair) -> None:
    found = {}
    for server in pair.both():
        server.request("GET", "/missing-1", {"X-Test": "tv"}, host="vh.test")
        server.request("GET", "/missing-2", {"Referer": "http://r/"})
        lines = [x for x in wait_for_lines(server.log("error"), 2) if "missing-" in x]
        found[server.impl] = [normalised(x) for x in lines]
    apache, ours = found[pair.apache.impl], found[pair.ours.impl]
    assert len(apache) == 2
    assert apache[0].startswith("[U] [T] [CU] [C] [core:info] [pid P] [client 127.0.0.1:N]")
    assert "; xtest tv" in apache[0] and ", referer http://r/" in apache[1]
    assert ours == apache


def test_a_bad_format_is_refused(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text(f'ServerName x\nDocumentRoot "{tmp_path}"\nErrorLog /dev/null\n'
                    'ErrorLogFormat "[%Q]"\n')
    ours = subprocess.run([sys.executable, "-m", "cgihttpd", "-t", "-f", str(conf)],
                          capture_output=True, text=True, timeout=60)
    assert ours.returncode != 0
    assert "Unrecognized error log format directive %Q" in ours.stdout + ours.stderr
