"""A real HTTP server on 127.0.0.1 that serves test archives with chosen misbehaviours.

Each path is served according to a ``Route``: Range support or not, a dropped connection after some
bytes, a stall, an error status, an HTML page, no Content-Length. Every request is logged (path, Range
header, status, body bytes sent) so tests can assert what the client asked for.
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional

STALL_LIMIT_SECONDS = 20.0


@dataclass
class Route:
    """How one path answers.

    body : bytes sent for a 200 (or the part asked for by a Range request, for a 206).
    status : HTTP status; anything but 200 sends ``body`` as is with that status.
    content_type : Content-Type header.
    ranges : honour ``Range: bytes=N-`` (with ``If-Range`` on the ETag); False answers 200 with everything.
    drop_at : stop sending at this byte of ``body`` and close the connection, for the first ``drop_times``
        requests (a request resumed at or beyond it gets no byte before the close).
    stall_at : stop sending at this byte of ``body`` and wait (until the server's ``release`` event or
        STALL_LIMIT_SECONDS), for the first ``stall_times`` requests; the connection is then closed.
    send_length : send Content-Length (False: the body ends when the connection closes).
    """

    body: bytes
    status: int = 200
    content_type: str = "application/x-gzip"
    ranges: bool = True
    drop_at: Optional[int] = None
    drop_times: int = 1
    stall_at: Optional[int] = None
    stall_times: int = 1
    send_length: bool = True
    requests: int = field(default=0, init=False)

    @property
    def etag(self) -> str:
        return '"%s"' % hashlib.sha256(self.body).hexdigest()[:16]


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def log_message(self, format, *args):  # noqa: A002 - keep pytest output clean
        pass

    def do_GET(self):  # noqa: N802 - name fixed by http.server
        route = self.server.routes.get(self.path)
        entry = {"path": self.path, "range": self.headers.get("Range"), "if_range": self.headers.get("If-Range")}
        self.server.log.append(entry)
        if route is None:
            entry.update(status=404, sent=0)
            self.send_error(404, "Not Found")
            return
        index = route.requests
        route.requests += 1
        if route.status != 200:
            entry.update(status=route.status, sent=len(route.body))
            self._send(route.status, route, route.body, None)
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        validator = self.headers.get("If-Range")
        if route.ranges and match and validator in (None, route.etag):
            start = int(match.group(1))
            if start >= len(route.body):
                entry.update(status=416, sent=0)
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(route.body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        status = 206 if start else 200
        payload = route.body[start:]
        entry["status"] = status
        content_range = f"bytes {start}-{len(route.body) - 1}/{len(route.body)}" if status == 206 else None
        if route.drop_at is not None and index < route.drop_times:
            entry["sent"] = self._send(status, route, payload, content_range, limit=max(route.drop_at - start, 0))
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if route.stall_at is not None and index < route.stall_times:
            entry["sent"] = self._send(status, route, payload, content_range, limit=max(route.stall_at - start, 0))
            self.server.release.wait(STALL_LIMIT_SECONDS)
            return
        entry["sent"] = self._send(status, route, payload, content_range)

    def _send(self, status, route, payload, content_range, limit=None) -> int:
        self.send_response(status)
        self.send_header("Content-Type", route.content_type)
        if route.send_length:
            self.send_header("Content-Length", str(len(payload)))
        if content_range:
            self.send_header("Content-Range", content_range)
        if route.ranges:
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", route.etag)
        self.end_headers()
        chunk = payload if limit is None else payload[:limit]
        try:
            for offset in range(0, len(chunk), 64 * 1024):
                self.wfile.write(chunk[offset:offset + 64 * 1024])
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        return len(chunk)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: Dict[str, Route]
    log: List[dict]
    release: threading.Event


class LoopbackServer:
    """``with LoopbackServer() as server: server.routes['/a.tar.gz'] = Route(body)``; ``server.url('/a.tar.gz')``."""

    def __init__(self):
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.routes = {}
        self._server.log = []
        self._server.release = threading.Event()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def routes(self) -> Dict[str, Route]:
        return self._server.routes

    @property
    def log(self) -> List[dict]:
        return self._server.log

    def requests_for(self, path: str) -> List[dict]:
        return [entry for entry in self._server.log if entry["path"] == path]

    def release_stalls(self) -> None:
        self._server.release.set()

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self) -> "LoopbackServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _serve_file_forever(path: str) -> None:
    """``python bench/http_server.py FILE``: serve FILE (with Range) at the printed URL until killed."""
    from pathlib import Path

    with LoopbackServer() as server:
        server.routes["/" + Path(path).name] = Route(Path(path).read_bytes())
        print(server.url("/" + Path(path).name), flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    import sys

    _serve_file_forever(sys.argv[1])
