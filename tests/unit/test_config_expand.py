"""Read-time expansion: Include globs, <IfModule>, <IfDefine>, Define, ${VAR}."""

from __future__ import annotations

from pathlib import Path

import pytest
from config_helpers import FIXTURES, errors, load, write

from cgihttpd.config.loader import load_config


def ext_types(config: object) -> list[str]:
    return [t for _, t in config.main.base.add_types]  # type: ignore[attr-defined]


def test_include_globs_sorted_dirs_recursive_optional_missing() -> None:
    c = load_config(str(FIXTURES / "includes" / "main.conf"), environ={})
    # conf.d/*.conf sorted (a before b); a dotfile is not matched by "*" (APR_FNM_PERIOD);
    # a directory is included recursively in sorted order.
    assert ext_types(c) == ["text/x-a", "text/x-b", "text/x-sub1", "text/x-sub2"]
    names = [Path(f).name for f in c.files]
    assert names == ["main.conf", "a.conf", "b.conf", "1.conf", "2.conf"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # wording from apache2 -t (2.4.71)
        ("Include none/*.conf",
         "Include/IncludeOptional: Could not open directory {d}/none: No such file or "
         "directory"),
        ("Include nonedir*/x.conf",
         "Include/IncludeOptional: No matches for the wildcard 'nonedir*' in '{d}', failing"),
        ("Include sub/*.conf",
         "Include/IncludeOptional: No matches for the wildcard '*.conf' in '{d}/sub', failing"),
        ("Include nofile.conf",
         "Could not open configuration file {d}/nofile.conf: No such file or directory"),
    ],
)
def test_include_errors(tmp_path: Path, line: str, message: str) -> None:
    (tmp_path / "sub").mkdir()
    assert errors(tmp_path, line + "\n") == [f"F:1: {message.format(d=tmp_path)}"]


@pytest.mark.parametrize("line", ["IncludeOptional none/*.conf",
                                  "IncludeOptional sub/*.conf",
                                  "IncludeOptional nofile.conf"])
def test_include_optional_tolerates_no_match(tmp_path: Path, line: str) -> None:
    (tmp_path / "sub").mkdir()
    load(tmp_path, line + "\n")


def test_include_is_relative_to_server_root_and_keeps_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "root", "\n\nBogus x\n", "extra/x.conf")
    errs = errors(tmp_path, f"ServerRoot {tmp_path}/root\nInclude extra/x.conf\n")
    assert errs == [f"{tmp_path}/root/extra/x.conf:3: Invalid command 'Bogus', perhaps "
                    "misspelled or defined by a module not included in the server "
                    "configuration"]


def test_include_recursion_is_stopped(tmp_path: Path) -> None:
    errs = errors(tmp_path, "Include httpd.conf\n")
    assert any("Exceeded maximum include depth" in e for e in errs)


@pytest.mark.parametrize("spelling", ["mod_mime.c", "mime_module"])
def test_ifmodule_spellings(tmp_path: Path, spelling: str) -> None:
    c = load(tmp_path, f"<IfModule {spelling}>\nAddType a/b .ab\n</IfModule>\n"
                       f"<IfModule !{spelling}>\nBogus\n</IfModule>\n")
    assert ext_types(c) == ["a/b"]


def test_ifmodule_other_spellings_do_not_match(tmp_path: Path) -> None:
    # apache2 -t: <IfModule mime> is false even with mod_mime loaded
    c = load(tmp_path, "<IfModule mime>\nBogus\n</IfModule>\n"
                       "<IfModule Mime_Module>\nBogus\n</IfModule>\n")
    assert ext_types(c) == []


def test_ifmodule_follows_loadmodule_so_far(tmp_path: Path) -> None:
    c = load(tmp_path, "<IfModule setenvif_module>\nBogus\n</IfModule>\n"
                       "LoadModule setenvif_module x.so\n"
                       "<IfModule mod_setenvif.c>\nAddType a/b .ab\n</IfModule>\n")
    assert ext_types(c) == ["a/b"]


def test_directive_of_a_module_not_loaded_is_invalid(tmp_path: Path) -> None:
    # apache2 -t without mod_dir: "Invalid command 'DirectoryIndex', ..."
    errs = errors(tmp_path, "ServerName x\nDirectoryIndex a.html\n", prelude=False)
    assert errs == ["F:2: Invalid command 'DirectoryIndex', perhaps misspelled or defined "
                    "by a module not included in the server configuration"]


def test_ifdefine_define_undefine(tmp_path: Path) -> None:
    c = load(tmp_path,
             "Define ON\nDefine GONE\nUnDefine GONE\n"
             "<IfDefine ON>\nAddType a/on .on\n</IfDefine>\n"
             "<IfDefine !ON>\nBogus\n</IfDefine>\n"
             "<IfDefine GONE>\nBogus\n</IfDefine>\n"
             "<IfDefine CLI>\nAddType a/cli .cli\n</IfDefine>\n",
             defines=["CLI"])
    assert ext_types(c) == ["a/on", "a/cli"]
    assert {"ON", "CLI"} <= c.defines and "GONE" not in c.defines


def test_variables_from_define_then_environment(tmp_path: Path) -> None:
    c = load(tmp_path,
             f"Define ROOT {tmp_path}\nDefine ROOT2 ${{ROOT}}/b\n"
             "DocumentRoot ${ROOT}\nServerAdmin ${ADMIN}\nErrorLog ${ROOT2}/e.log\n",
             environ={"ADMIN": "me@example", "ROOT": "/from/env"})
    # a Define wins over the environment (ap_resolve_env)
    assert c.main.document_root == str(tmp_path)
    assert c.main.server_admin == "me@example"
    assert c.main.error_log == f"{tmp_path}/b/e.log"


def test_variable_substitution_happens_before_word_splitting(tmp_path: Path) -> None:
    c = load(tmp_path, "Define EXTS \".x .y\"\nAddType a/b ${EXTS}\n")
    assert dict(c.main.base.add_types) == {".x": "a/b", ".y": "a/b"}


def test_undefined_variable_is_kept_with_a_warning(tmp_path: Path) -> None:
    c = load(tmp_path, "ServerAdmin ${NOPE}\n")
    assert c.main.server_admin == "${NOPE}"
    # apache2: "AH00111: Config variable ${NOPE} is not defined"
    assert any("Config variable ${NOPE} is not defined" in w for w in c.warnings)


def test_define_rejects_colon(tmp_path: Path) -> None:
    assert errors(tmp_path, "Define a:b\n") == ["F:1: Variable name must not contain ':'"]


def test_loadmodule_twice_warns(tmp_path: Path) -> None:
    c = load(tmp_path, "LoadModule mime_module x.so\n")
    assert any("module mime_module is already loaded, skipping" in w for w in c.warnings)


def test_unknown_module_loads_with_warning_and_its_directives_are_invalid(
        tmp_path: Path) -> None:
    c = load(tmp_path, "LoadModule wsgi_module x.so\n<IfModule wsgi_module>\n"
                       "AddType a/b .ab\n</IfModule>\n")
    assert ext_types(c) == ["a/b"]
    assert any("wsgi_module is not known to cgihttpd" in w for w in c.warnings)
    assert errors(tmp_path, "LoadModule wsgi_module x.so\nWSGIDaemonProcess x\n")[0] \
        .startswith("F:2: Invalid command 'WSGIDaemonProcess'")
