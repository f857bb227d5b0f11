"""walk.effective_conf: which sections apply and in which order (Apache's
server/request.c: directory walk, then files, then location)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from app.factory import directory, files, location, make_vhost, opts, require_of
from cgihttpd.config.model import DirConf, OptionsSpec
from cgihttpd.walk import directory_matches, effective_conf, location_matches


def idx(conf: DirConf) -> tuple[str, ...] | None:
    return conf.directory_index


def test_directories_merge_shortest_first_whatever_the_config_order() -> None:
    vhost = make_vhost(sections=(
        directory("/srv/www/a/b", directory_index=("deep",)),
        directory("/srv/www/a", directory_index=("mid",)),
        directory("/", directory_index=("root",)),
    ))
    assert idx(effective_conf(vhost, "/srv/www/a/b/f.html", "/a/b/f.html")) == ("deep",)
    assert idx(effective_conf(vhost, "/srv/www/a/f.html", "/a/f.html")) == ("mid",)
    assert idx(effective_conf(vhost, "/srv/www/f.html", "/f.html")) == ("root",)


def test_regex_directories_come_after_plain_ones_and_files_after_both() -> None:
    vhost = make_vhost(sections=(
        files("*.html", directory_index=("files",)),
        directory(r"^/srv/www/", regex=True, directory_index=("regex",)),
        directory("/srv/www/a/b/c", directory_index=("plain",)),
    ))
    conf = effective_conf(vhost, "/srv/www/a/b/c/x.txt", "/a/b/c/x.txt")
    assert idx(conf) == ("regex",)
    assert idx(effective_conf(vhost, "/srv/www/a/b/c/x.html", "/x.html")) == ("files",)


def test_location_is_merged_last() -> None:
    vhost = make_vhost(sections=(
        location("/app", directory_index=("loc",)),
        files("x.html", directory_index=("files",)),
    ))
    assert idx(effective_conf(vhost, "/srv/www/app/x.html", "/app/x.html")) == ("loc",)
    assert idx(effective_conf(vhost, "/srv/www/x.html", "/x.html")) == ("files",)


def test_files_section_applies_to_missing_names_too() -> None:
    vhost = make_vhost(sections=(files(r"^\.ht", regex=True, require="all denied"),))
    assert require_of(effective_conf(vhost, "/srv/www/.htnope", "/.htnope")) == "all denied"
    assert require_of(effective_conf(vhost, "/srv/www/x.ht", "/x.ht")) is None


def test_directory_without_trailing_slash_is_inside_its_own_section() -> None:
    vhost = make_vhost(sections=(directory("/srv/www/sub", require="all denied"),))
    assert require_of(effective_conf(vhost, "/srv/www/sub", "/sub", is_dir=True)) == "all denied"
    assert require_of(effective_conf(vhost, "/srv/www/sub", "/sub")) is None  # a file "sub"


def test_options_plus_minus_follow_the_walk() -> None:
    vhost = make_vhost(sections=(
        directory("/srv/www", options=opts("Indexes", "FollowSymLinks")),
        directory("/srv/www/cgi", options=opts("+ExecCGI", "-Indexes")),
    ))
    conf = effective_conf(vhost, "/srv/www/cgi/x.py", "/cgi/x.py")
    assert conf.effective_options == frozenset({"FollowSymLinks", "ExecCGI"})
    assert effective_conf(vhost, "/srv/www/x", "/x").effective_options == frozenset(
        {"Indexes", "FollowSymLinks"})


def test_wildcard_directory_matches_one_component() -> None:
    assert directory_matches("/srv/*/cgi", "/srv/site1/cgi/")
    assert directory_matches("/srv/*/cgi", "/srv/site1/cgi/deeper/")
    assert not directory_matches("/srv/*/cgi", "/srv/a/b/cgi/")


def test_location_matches_at_segment_boundaries() -> None:
    assert location_matches("/private1", "/private1")
    assert location_matches("/private1", "/private1/x")
    assert not location_matches("/private1", "/private1other")
    assert location_matches("/private2/", "/private2/x")
    assert not location_matches("/private2/", "/private2")


NAMES = st.text(alphabet="abc", min_size=1, max_size=4)


@given(NAMES, NAMES)
def test_a_section_for_a_never_applies_to_ab(a: str, b: str) -> None:
    vhost = make_vhost(sections=(directory("/r/" + a, require="all denied"),
                                 location("/" + a, directory_index=("x",))))
    other = a + b  # /r/ab is not inside /r/a
    conf = effective_conf(vhost, f"/r/{other}/f", f"/{other}/f")
    assert require_of(conf) is None
    assert conf.directory_index is None
    inside = effective_conf(vhost, f"/r/{a}/{b}", f"/{a}/{b}")
    assert require_of(inside) == "all denied" and inside.directory_index == ("x",)


OPTION = st.sampled_from(["Indexes", "ExecCGI", "FollowSymLinks", "Includes", "MultiViews"])
SPECS = st.one_of(
    st.builds(lambda s: OptionsSpec(absolute=frozenset(s)), st.sets(OPTION)),
    st.builds(lambda a, r: OptionsSpec(add=frozenset(a), remove=frozenset(r) - frozenset(a)),
              st.sets(OPTION), st.sets(OPTION)),
)


@given(SPECS, SPECS, SPECS)
def test_options_merge_is_associative(a: OptionsSpec, b: OptionsSpec, c: OptionsSpec) -> None:
    ca, cb, cc = DirConf(options=a), DirConf(options=b), DirConf(options=c)
    left = ca.merge(cb).merge(cc).effective_options
    right = ca.merge(cb.merge(cc)).effective_options
    assert left == right
    # and merging equals applying one after the other
    applied = c.apply(b.apply(a.apply(frozenset({"FollowSymLinks"}))))
    assert left == applied


def test_files_nested_in_a_directory_apply_only_under_it(tmp_path: Path) -> None:
    # Checked on apache2 with this config: /a.txt 200, /sub/a.txt 403 (the nested
    # <Files> merges after the server's own), /b.txt and /sub/b.txt 403.
    from config_helpers import load

    d = tmp_path / "d"
    d.mkdir()
    c = load(tmp_path, f"""DocumentRoot {d}
<Directory {d}>
Require all granted
</Directory>
<Directory {d}/sub>
<Files a.txt>
Require all denied
</Files>
</Directory>
<Files a.txt>
Require all granted
</Files>
<Directory {d}>
<FilesMatch "^b">
Require all denied
</FilesMatch>
</Directory>
""")
    assert not [w for w in c.warnings if "nested" in w]
    nested = [s for s in c.main.sections if s.within is not None]
    assert [(s.pattern, s.within) for s in nested] == [("a.txt", f"{d}/sub"), ("^b", str(d))]
    require = {url: require_of(effective_conf(c.main, f"{d}{url}", url))
               for url in ("/a.txt", "/sub/a.txt", "/b.txt", "/sub/b.txt", "/c.txt")}
    assert require == {"/a.txt": "all granted", "/sub/a.txt": "all denied", "/b.txt": "all denied",
                       "/sub/b.txt": "all denied", "/c.txt": "all granted"}


def test_files_nested_in_a_directory_match() -> None:
    nested = replace(files("*.py", directory_index=("nested",)), within=r"^/srv/www/cgi",
                     within_regex=True)
    vhost = make_vhost(sections=(nested, directory(r"^/srv/www/cgi", regex=True)))
    assert idx(effective_conf(vhost, "/srv/www/cgi/x.py", "/cgi/x.py")) == ("nested",)
    assert idx(effective_conf(vhost, "/srv/www/other/x.py", "/other/x.py")) is None
