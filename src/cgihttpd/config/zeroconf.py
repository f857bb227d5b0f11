"""The zero-configuration server: a folder served as the document root.

This module owns what ``cgihttpd [DIR]`` means, as a ServerConfig built in code (no
file is read): the folder is the document root, ``index.html`` then ``index.py`` are
the directory indexes, ``.py`` and ``.cgi`` files run as CGI, directory listings are
off, the access log (common format) goes to stdout and the error log to stderr;
dev mode is on (failing scripts are explained in the browser).

ServerName is "localhost": no DNS lookup, and it is what the printed URL names.
It knows nothing of the command line (``cli``) or of serving.
"""

from __future__ import annotations

import os

from cgihttpd.authz import AllProvider, AuthzConf, Group, Require
from cgihttpd.config.model import (
    Address,
    DirConf,
    Limits,
    LogTarget,
    OptionsSpec,
    Section,
    ServerConfig,
    Source,
    VirtualHost,
)
from cgihttpd.config.modules import IMPLEMENTED_MODULES

#: the NCSA common format as Apache's stock httpd.conf defines "common"
COMMON_FORMAT = '%h %l %u %t "%r" %>s %b'
ZERO_SOURCE = Source("<zero-config>", 0)


def folder_config(docroot: str, listen: Address) -> ServerConfig:
    """A server for ``docroot`` listening on ``listen``."""
    root = os.path.abspath(docroot)
    root = root if root == "/" else root.rstrip("/")
    site = DirConf(
        # Options -Indexes +ExecCGI over Apache's default (FollowSymLinks)
        options=OptionsSpec(add=frozenset({"ExecCGI"}), remove=frozenset({"Indexes"})),
        allow_override=frozenset(),
        authz=AuthzConf(Group.of("any", (Require(AllProvider(True), "Require all granted"),))),
        directory_index=("index.html", "index.py"),
        add_handlers=((".py", "cgi-script"), (".cgi", "cgi-script")),
    )
    main = VirtualHost(
        addresses=(),
        server_name="localhost",
        server_aliases=(),
        server_admin="[no address given]",
        document_root=root,
        error_log="/dev/stderr",
        log_level="warn",
        custom_logs=(LogTarget("/dev/stdout", COMMON_FORMAT, "common", None, ZERO_SOURCE),),
        aliases=(),
        base=DirConf(),
        sections=(Section("directory", root, False, site, ZERO_SOURCE),),
        timeout=60.0,
        keepalive=True,
        keepalive_timeout=5.0,
        max_keepalive_requests=100,
        server_signature="off",
        cgi_script_timeout=None,
        script_log=None,
        source=ZERO_SOURCE,
        is_main=True,
    )
    return ServerConfig(
        server_root=root,
        files=(),
        listens=(listen,),
        main=main,
        vhosts=(),
        limits=Limits(),
        server_tokens="Full",
        user=None,
        group=None,
        pid_file=None,
        modules=IMPLEMENTED_MODULES,
        mime_types=(),
        # a folder served as is is a site being written: explain failing scripts
        dev_mode=True,
    )
