"""Helpers for the configuration tests: load a config written to a temp dir."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from cgihttpd.config.errors import ConfigErrors
from cgihttpd.config.loader import load_config
from cgihttpd.config.model import ServerConfig

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "conf"

#: what most tests need loaded, as a stock httpd.conf would
PRELUDE = """ServerName test.example
LoadModule mime_module modules/mod_mime.so
LoadModule dir_module modules/mod_dir.so
LoadModule alias_module modules/mod_alias.so
LoadModule authz_core_module modules/mod_authz_core.so
LoadModule env_module modules/mod_env.so
LoadModule cgi_module modules/mod_cgi.so
"""
PRELUDE_LINES = PRELUDE.count("\n")


def write(tmp: Path, text: str, name: str = "httpd.conf") -> Path:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def load(tmp: Path, text: str, *, prelude: bool = True, defines: Iterable[str] = (),
         environ: Mapping[str, str] | None = None) -> ServerConfig:
    path = write(tmp, (PRELUDE if prelude else "") + text)
    return load_config(str(path), defines=defines, environ=environ or {})


def errors(tmp: Path, text: str, *, prelude: bool = True,
           environ: Mapping[str, str] | None = None) -> list[str]:
    """The errors of loading ``text``, as -t prints them, with line numbers counted
    from the first line of ``text`` (the prelude removed) and the file as "F"."""
    path = write(tmp, (PRELUDE if prelude else "") + text)
    with pytest.raises(ConfigErrors) as info:
        load_config(str(path), environ=environ or {})
    out = []
    shift = PRELUDE_LINES if prelude else 0
    for e in info.value.errors:
        if e.source is not None and e.source.file == str(path):
            out.append(f"F:{e.source.line - shift}: {e.message}")
        else:
            out.append(str(e))
    return out
