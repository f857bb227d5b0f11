"""The per-directory walk: which configuration sections apply to a request, merged in
Apache's order, with the .htaccess files read along the way. Pure: a virtual host, a
filename and a URL path in, a ``DirConf`` out; the access files come from a reader the
caller passes (``resolve`` reads them through its ``FileSystem``).

Owns the matching rules of <Directory>, <DirectoryMatch>, <Files>, <FilesMatch>,
<Location> and <LocationMatch>. Must not touch the filesystem (the filename may not even
exist: ``<Files ".ht*">`` denies a missing ``/.htx`` too) nor know about HTTP.

Apache's order (server/request.c: ap_directory_walk, ap_file_walk, ap_location_walk,
called in that order by ap_process_request_internal; "How the sections are merged" in
the 2.4 docs, sections.html):
1. the server/vhost base settings;
2. <Directory> (not regex) from the shortest matching path to the longest (component
   count; config order among equals, server/core.c ap_core_reorder_directories); after
   the sections of each directory on the path, that directory's .htaccess when the
   AllowOverride (or AllowOverrideList) merged so far allows one (ap_directory_walk);
3. <Directory ~> and <DirectoryMatch>, in config order;
4. <Files> and <FilesMatch> against the basename, in config order; those nested in a
   <Directory> only where that <Directory> applies, after the server's own;
5. <Location> and <LocationMatch> against the URL path, in config order.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from functools import lru_cache

from cgihttpd.cache import BoundedCache
from cgihttpd.config.htaccess import Htaccess
from cgihttpd.config.model import DirConf, Section, VirtualHost

_WILDCARD = re.compile(r"[*?\[]")


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@lru_cache(maxsize=1024)
def _fnmatch_regex(pattern: str) -> re.Pattern[str]:
    # apr_fnmatch with APR_FNM_PATHNAME: a wildcard never matches "/" (we match one
    # component at a time, so a component never holds "/").
    return re.compile(fnmatch.translate(pattern))


def _components(path: str) -> list[str]:
    return [c for c in path.split("/") if c]


def directory_matches(pattern: str, directory: str) -> bool:
    """True if <Directory ``pattern``> covers ``directory`` (an absolute path).

    Component-wise, so <Directory /a> covers /a and /a/b but never /ab (core docs,
    <Directory>: "matches the named directory and its subdirectories"). Wildcards match
    within one component (apr_fnmatch with APR_FNM_PATHNAME).
    """
    want = _components(pattern)
    have = _components(directory)
    if len(want) > len(have):
        return False
    for w, h in zip(want, have, strict=False):
        if _WILDCARD.search(w):
            if not _fnmatch_regex(w).fullmatch(h):
                return False
        elif w != h:
            return False
    return True


def location_matches(pattern: str, url_path: str) -> bool:
    """True if <Location ``pattern``> covers ``url_path``.

    Apache 2.4 (server/request.c, ap_location_walk): a literal prefix that ends at a
    segment boundary, so <Location /private1> covers /private1 and /private1/x but not
    /private1other; a pattern with wildcards is fnmatch'ed against the whole path.
    """
    if _WILDCARD.search(pattern):
        return _fnmatch_regex(pattern).fullmatch(url_path) is not None
    if not url_path.startswith(pattern):
        return False
    if len(url_path) == len(pattern) or pattern.endswith("/"):
        return True
    return url_path[len(pattern)] == "/"


def files_matches(section: Section, basename: str) -> bool:
    if section.regex:
        return _regex(section.pattern).search(basename) is not None
    # <Files> takes a wildcard string matched against the last component.
    return _fnmatch_regex(section.pattern).fullmatch(basename) is not None


def _directory_of(filename: str) -> str:
    """The directory a filename lives in; a path ending in "/" is a directory itself."""
    if filename.endswith("/"):
        return filename
    head = filename.rsplit("/", 1)[0]
    return head + "/" if head else "/"


def matching_sections(vhost: VirtualHost, filename: str | None, url_path: str,
                      *, is_dir: bool = False) -> list[Section]:
    """The sections that apply, in the order their settings are merged. ``is_dir``: the
    filename names a directory even without a trailing slash (``/sub`` before the
    DirectorySlash redirect is still inside <Directory /root/sub>)."""
    plain: list[tuple[int, int, Section]] = []
    regex_dirs: list[Section] = []
    files: list[Section] = []
    locations: list[Section] = []
    directory: str | None = None
    if filename is not None:
        directory = filename if is_dir else _directory_of(filename)
    for index, section in enumerate(vhost.sections):
        if section.kind == "directory":
            if directory is None:
                continue
            if section.regex:
                # <DirectoryMatch> is matched against the directory path; Apache's walk
                # hands it the path with a trailing slash.
                slashed = directory if directory.endswith("/") else directory + "/"
                if _regex(section.pattern).search(slashed):
                    regex_dirs.append(section)
            elif directory_matches(section.pattern, directory):
                plain.append((len(_components(section.pattern)), index, section))
        elif section.kind == "files":
            if filename is None:
                continue
            basename = "" if filename.endswith("/") else filename.rsplit("/", 1)[-1]
            if files_matches(section, basename):
                files.append(section)
        else:
            if section.regex:
                if _regex(section.pattern).search(url_path):
                    locations.append(section)
            elif location_matches(section.pattern, url_path):
                locations.append(section)
    plain.sort(key=lambda t: (t[0], t[1]))
    dirs = [s for _, _, s in plain] + regex_dirs
    return dirs + _files_in_order(files, dirs) + locations


def _files_in_order(files: list[Section], dirs: list[Section]) -> list[Section]:
    """The matching <Files> sections in the file walk's order: those at server level in
    config order, then those nested in each <Directory> that applies, in the order the
    directories merged (core.c merge_core_dir_configs appends a <Directory>'s own
    <Files> to the inherited list; ap_file_walk runs through that list). A nested one
    whose <Directory> does not apply is left out."""
    out = [f for f in files if f.within is None]
    seen: set[tuple[str, bool]] = set()
    for d in dirs:
        key = (d.pattern, d.regex)
        if key not in seen:
            seen.add(key)
            out.extend(f for f in files if f.within is not None
                       and (f.within, f.within_regex) == key)
    return out


#: what reads a directory's access file: (directory, the settings merged so far) → the
#: parsed file, or None when there is none; it raises what the request then answers
#: (``resolve`` raises an ``HTTPError``: 500 for a bad file, 403 for an unreadable one)
HtaccessReader = Callable[[str, DirConf], "Htaccess | None"]

#: merged settings by (vhost, filename, URL, is_dir): the configuration is immutable, so
#: a result never goes stale; Apache caches its walks per request for the same reason.
#: The vhost is kept with its result: an id() can be reused by another object. The
#: flag says whether an access file may apply (then only the configuration's part is
#: reusable, and the walk runs again with the reader).
ConfCache = BoundedCache[tuple[int, str | None, str, bool], tuple[VirtualHost, DirConf, bool]]


def effective_conf(vhost: VirtualHost, filename: str | None, url_path: str,
                   *, is_dir: bool = False, cache: ConfCache | None = None,
                   htaccess: HtaccessReader | None = None) -> DirConf:
    """The merged per-directory settings for ``filename`` requested as ``url_path``.

    ``filename`` None (no file: the URL did not map to the filesystem) skips the
    directory and files walks, as Apache does for such requests. ``cache``: where
    results are remembered (the runtime's), or None. ``htaccess``: reads the access
    file of a directory where AllowOverride allows one (None: none is read).
    """
    key = (id(vhost), filename, url_path, is_dir)
    if cache is not None:
        hit = cache.get(key)
        if hit is not None and hit[0] is vhost and (htaccess is None or not hit[2]):
            return hit[1]
    sections = matching_sections(vhost, filename, url_path, is_dir=is_dir)
    conf = vhost.base
    for section in sections:
        conf = conf.merge(section.conf)
    may_read = filename is not None and _reads_access_files(vhost, sections)
    if cache is not None:
        cache.put(key, (vhost, conf, may_read))
    if htaccess is None or not may_read or filename is None:
        return conf
    return _walk_with_access_files(vhost, filename, url_path, is_dir, sections, htaccess)


def _reads_access_files(vhost: VirtualHost, sections: list[Section]) -> bool:
    """Whether any directory on the walk may read an access file: some AllowOverride
    or AllowOverrideList on the path allows one (a cheap upper bound)."""
    return vhost.base.reads_access_files or any(
        s.kind == "directory" and s.conf.reads_access_files for s in sections)


def _walk_with_access_files(vhost: VirtualHost, filename: str, url_path: str, is_dir: bool,
                            sections: list[Section], read: HtaccessReader) -> DirConf:
    """ap_directory_walk with access files: for each directory from the root down to
    the file's, the <Directory> sections of that depth, then its .htaccess if the
    settings merged so far allow one; then the regex directories, the files walk (the
    .htaccess <Files> after those of the <Directory> merged before it) and the
    locations, as ``matching_sections`` orders them."""
    directory = filename if is_dir else _directory_of(filename)
    parts = _components(directory)
    lead = "/" if directory.startswith("/") else ""
    by_depth: dict[int, list[Section]] = {}
    regex_dirs: list[Section] = []
    rest: list[Section] = []
    for s in sections:
        if s.kind == "directory" and not s.regex:
            by_depth.setdefault(len(_components(s.pattern)), []).append(s)
        elif s.kind == "directory":
            regex_dirs.append(s)
        else:
            rest.append(s)
    conf = vhost.base
    # the order in which per-directory <Files> lists were merged: a <Directory>'s own
    # (by its key) or a .htaccess's (its sections)
    merged: list[Section | tuple[Section, ...]] = []
    for depth in range(len(parts) + 1):
        for s in by_depth.get(depth, ()):
            conf = conf.merge(s.conf)
            merged.append(s)
        here = lead + "/".join(parts[:depth])
        if conf.reads_access_files and here:  # "D:" + "" is no directory
            found = read(here, conf)
            if found is not None:
                conf = conf.merge(found.conf)
                merged.append(found.files)
    for s in regex_dirs:
        conf = conf.merge(s.conf)
        merged.append(s)
    basename = "" if filename.endswith("/") else filename.rsplit("/", 1)[-1]
    files = [s for s in rest if s.kind == "files"]
    ordered = [f for f in files if f.within is None]
    seen: set[tuple[str, bool]] = set()
    for item in merged:
        if isinstance(item, Section):
            key = (item.pattern, item.regex)
            if key not in seen:
                seen.add(key)
                ordered.extend(f for f in files if f.within is not None
                               and (f.within, f.within_regex) == key)
        else:
            ordered.extend(f for f in item if files_matches(f, basename))
    for s in ordered:
        conf = conf.merge(s.conf)
    for s in rest:
        if s.kind == "location":
            conf = conf.merge(s.conf)
    return conf
