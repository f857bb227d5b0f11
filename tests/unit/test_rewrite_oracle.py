"""mod_rewrite's start-up verdicts against Debian's ``apache2 -t`` on the same files:
the first error's line and message, and the lines both accept (test_config_oracle's
way, with mod_rewrite loaded)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from cgihttpd.config.errors import ConfigErrors
from cgihttpd.config.loader import load_config
from unit.test_config_oracle import APACHE, HEAD, MODULES, apache_first_error

pytestmark = pytest.mark.differential

REWRITE = f"LoadModule rewrite_module {MODULES}/mod_rewrite.so\n"

BROKEN = [
    "RewriteRule ^a",
    "RewriteRule ^a b L",
    "RewriteRule ^a b [L",
    "RewriteRule ^a b [X]",
    "RewriteRule ^a b [R=299]",
    "RewriteRule ^(a b",
    "RewriteRule",
    "RewriteCond %{HTTP_HOST}",
    "RewriteCond %{HTTP_HOST} ^a [L]",
    "RewriteCond %{HTTP_HOST} (",
    "RewriteBase /x",
    "<Directory /tmp>\nRewriteBase x\n</Directory>",
    "RewriteOptions Nope",
    "RewriteEngine maybe",
    "<Directory /tmp>\nRewriteMap m txt:/x\n</Directory>",
]

ACCEPTED = [
    "RewriteEngine On\nRewriteCond %{REQUEST_FILENAME} !-f\n"
    "RewriteCond %{REQUEST_FILENAME} !-d\nRewriteRule ^(.*)$ index.py [QSA,L]",
    "RewriteRule ^/old/(.*)$ /new/$1 [R=301,L,NE,QSD]",
    "RewriteRule ^/x - [F]\nRewriteRule ^/y - [G]\nRewriteRule ^/z - [R=404]",
    "RewriteCond %{HTTP:X-A} =1 [OR,NC]\nRewriteCond %{TIME_HOUR} <12\n"
    "RewriteRule ^/a /b [E=A:1,E=!B,S=1,C,END,PT,NS,DPI,T=text/plain,H=none]",
    "RewriteRule \"^/a b\" '/c d' [B,BNP,QSL,UnsafeAllow3F,N=5]",
    "<Directory /tmp>\nRewriteEngine On\nRewriteBase /app/\n"
    "RewriteOptions Inherit AllowNoSlash\nRewriteRule ^x$ y\n</Directory>",
    "RewriteCond %{REMOTE_PORT} -lt1024\nRewriteCond %{REMOTE_PORT} !-ne80\nRewriteRule ^ -",
]


def _write(tmp_path: Path, snippet: str) -> Path:
    conf = tmp_path / "httpd.conf"
    conf.write_text(HEAD.format(tmp=tmp_path, mods=MODULES) + REWRITE + snippet + "\n")
    return conf


@pytest.mark.parametrize("snippet", BROKEN)
def test_first_error_matches_apache(tmp_path: Path, snippet: str) -> None:
    conf = _write(tmp_path, snippet)
    line, message = apache_first_error(conf)
    with pytest.raises(ConfigErrors) as info:
        load_config(str(conf), environ={})
    first = info.value.errors[0]
    assert first.source is not None
    assert (first.source.line, first.message.strip()) == (line, message)


@pytest.mark.parametrize("snippet", ACCEPTED)
def test_accepted_like_apache(tmp_path: Path, snippet: str) -> None:
    conf = _write(tmp_path, snippet)
    out = subprocess.run([APACHE, "-t", "-f", str(conf)], capture_output=True, text=True,
                         timeout=30, env={"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C"})
    assert out.returncode == 0, out.stderr
    load_config(str(conf), environ={})
