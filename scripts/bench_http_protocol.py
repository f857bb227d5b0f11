"""Server CPU time per request: uvicorn's own httptools protocol vs cgihttpd's
CgiHttpProtocol, on the same hello-world ASGI app (docs/design.md §3, "Measurements").

    .venv/bin/python scripts/bench_http_protocol.py [ROUNDS]

Needs Linux (/proc) and ``ab`` (apt: apache2-utils). CPU time (utime+stime of the server
process) is used rather than requests per second because it does not depend on what
else the machine is doing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time


async def app(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")]})
    await send({"type": "http.response.body", "body": b"Hello, World!"})


def serve(kind: str, port: int) -> None:
    import uvicorn

    from cgihttpd.http.protocol import CgiHttpProtocol, HttpSettings

    http = "httptools" if kind == "uvicorn" else CgiHttpProtocol.configured(HttpSettings())
    uvicorn.run(app, host="127.0.0.1", port=port, http=http, loop="uvloop", lifespan="off",
                access_log=False, log_level="warning", proxy_headers=False)


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(kind: str) -> tuple[float, float]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, __file__, "--serve", kind, str(port)])
    try:
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/"
        c0 = cpu_seconds(proc.pid)
        subprocess.run(["ab", "-q", "-k", "-n", "30000", "-c", "16", url],
                       capture_output=True, check=True)
        c1 = cpu_seconds(proc.pid)
        subprocess.run(["ab", "-q", "-n", "10000", "-c", "16", url],
                       capture_output=True, check=True)
        c2 = cpu_seconds(proc.pid)
        return (c1 - c0) / 30000 * 1e6, (c2 - c1) / 10000 * 1e6
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
        return 0
    if not shutil.which("ab"):
        print("ab not found (apt-get install apache2-utils)", file=sys.stderr)
        return 1
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    for r in range(rounds):
        for kind in ("uvicorn", "cgihttpd"):
            ka, close = measure(kind)
            print(f"round {r + 1} {kind:9} keep-alive {ka:6.1f} us/request   "
                  f"new connection {close:6.1f} us/request", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
