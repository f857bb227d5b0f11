"""Access-log lines: Apache's LogFormat language (mod_log_config) applied to one
finished request. Pure: a format string and a ``LogRecord`` in, a line out.

Must not know about sockets, files or ASGI; ``logwriter`` owns the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class LogRecord:
    """What one request leaves for the log. Filled in by the app as the request goes."""

    remote_addr: str
    remote_port: int
    local_addr: str
    local_port: int
    #: the request line as received, e.g. "GET /x?y HTTP/1.1" (no CRLF)
    request_line: str
    method: str
    #: the raw request target (path and query, undecoded)
    raw_uri: str
    #: the decoded URL path (%U)
    path: str
    query: str
    protocol: str  # "HTTP/1.1"
    #: request start, seconds since the epoch (time.time())
    start_time: float
    #: request headers, lower-case names, in order
    headers_in: list[tuple[str, str]] = field(default_factory=list)
    #: response headers, as sent
    headers_out: list[tuple[str, str]] = field(default_factory=list)
    #: the status of the original request (%s) and the final one (%>s)
    original_status: int = 0
    status: int = 0
    #: body bytes sent (%B/%b), and all bytes sent including headers (%O)
    body_bytes: int = 0
    total_bytes: int = 0
    #: bytes received, including request line and headers (%I)
    bytes_in: int = 0
    #: seconds the request took (%D, %T), set when it ends
    duration: float = 0.0
    server_name: str = ""  # %v: the canonical ServerName of the vhost
    server_port: int = 0  # %p
    filename: str = ""  # %f
    remote_user: str = ""  # %u
    pid: int = 0
    #: request environment variables (SetEnv, ...) for %{VAR}e and env= conditions
    env: dict[str, str] = field(default_factory=dict)
    #: False if the connection was aborted before the response completed (%X)
    completed: bool = True
    keepalive_count: int = 0  # %k
