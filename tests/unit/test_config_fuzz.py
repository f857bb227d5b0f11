"""Whatever the text, loading gives a ServerConfig or ConfigErrors, never a traceback.

Runs the pure phases (parse_tree, expand with an in-memory filesystem, interpret,
finish without IO) on lines made of real directive names and hostile arguments.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cgihttpd.config import directives as D
from cgihttpd.config.errors import ConfigError
from cgihttpd.config.loader import finish
from cgihttpd.config.model import Source
from cgihttpd.config.modules import BUILTIN_MODULES, IMPLEMENTED_MODULES, REGISTRY
from cgihttpd.config.tree import expand, new_state, parse_tree


class MemoryFS:
    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read_text(self, path: str) -> str:
        if path not in self.files:
            raise FileNotFoundError(2, "No such file or directory")
        return self.files[path]

    def is_dir(self, path: str) -> bool:
        return any(p.startswith(path.rstrip("/") + "/") for p in self.files)

    def exists(self, path: str) -> bool:
        return path in self.files or self.is_dir(path)

    def list_dir(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        names = {p[len(prefix):].split("/")[0] for p in self.files if p.startswith(prefix)}
        if not names:
            raise FileNotFoundError(2, "No such file or directory")
        return sorted(names)


#: modules loaded by every generated config: ours, and a few we only know
LOADED = sorted((IMPLEMENTED_MODULES - BUILTIN_MODULES - {"mpm_prefork_module",
                                                           "mpm_worker_module"})
                | {"headers_module", "setenvif_module", "ssl_module"})
_DEFS = [d for name in LOADED + sorted(BUILTIN_MODULES)
         for d in REGISTRY.modules[name].directives]
# weighted towards the directives cgihttpd implements
NAMES = sorted({d.name for d in _DEFS if not d.name.startswith("<")}
               | {"Include", "IncludeOptional", "Define", "UnDefine", "Bogus"})
OURS = sorted(d.name for d in D.DIRECTIVES.values() if not d.name.startswith("<"))
SECTIONS = sorted({d.name[1:] for d in _DEFS if d.name.startswith("<")})
ARG = st.one_of(
    st.sampled_from(["On", "Off", "all", "granted", "+ExecCGI", "-Indexes", "None", "*:80",
                     "/x", "conf/*.conf", "${V}", "mod_mime.c", "!mime_module", ".py",
                     "cgi-script", "0", "-1", "~", "\"a b\"", "'", "\\", "", "env=x",
                     "text/html", "404", "common", "127.0.0.1:8080", "[::1]", "a:b:c"]),
    st.text(alphabet="ab*?[]/.:${}\"'\\ -+!~%", max_size=6),
)
LINE = st.builds(lambda n, a: " ".join([n, *a]),
                 st.one_of(st.sampled_from(OURS), st.sampled_from(NAMES)),
                 st.lists(ARG, max_size=3))


def block(depth: int) -> st.SearchStrategy[list[str]]:
    if depth == 0:
        return st.lists(LINE, max_size=4)
    section = st.builds(lambda s, a, body: [f"<{s} {a}>", *body, f"</{s}>"],
                        st.sampled_from(SECTIONS), ARG, block(depth - 1))
    return st.lists(st.one_of(LINE.map(lambda x: [x]), section), max_size=4).map(
        lambda parts: [ln for p in parts for ln in p])


@settings(max_examples=300, deadline=None)
@given(block(2), block(1))
def test_loading_never_crashes(main: list[str], included: list[str]) -> None:
    head = [f"LoadModule {m} x.so" for m in LOADED]
    files = {"/c/httpd.conf": "\n".join(head + main) + "\n",
             "/c/conf/a.conf": "\n".join(included) + "\n"}
    fs = MemoryFS(files)
    state = new_state("/c", [], {"V": "v"}, fs, D.DIRECTIVES)
    state.files.append("/c/httpd.conf")
    nodes = expand(parse_tree(files["/c/httpd.conf"], "/c/httpd.conf", state.errors), state)
    draft = D.interpret(nodes, state.server_root, state.loaded_names,
                        Source("/c/httpd.conf", 1))
    errors: list[ConfigError] = state.errors + draft.errors
    for e in errors:
        assert isinstance(e, ConfigError) and e.source is not None
    if not errors:
        finish(draft, files=tuple(state.files), defines=frozenset(state.defines),
               loaded=state.loaded_names, read_warnings=state.warnings, fs=None,
               host_name="h.example")
