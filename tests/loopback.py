"""A scripted HTTP server on loopback, standing in for an LLM or embeddings API."""

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Script:
    """What the server answers next: a status, a body, and a delay before answering."""

    status = 200
    body = b""
    delay_s = 0.0
    requests: list[dict[str, Any]]

    def __init__(self) -> None:
        self.requests = []

    def content_type(self) -> str:
        """Server-sent events for a streamed success, JSON otherwise."""
        streamed = self.status == 200 and self.body.startswith((b"data:", b"event:"))
        return "text/event-stream" if streamed else "application/json"


@contextmanager
def serve(script: Script | None = None) -> Iterator[tuple[str, Script]]:
    """Serve ``script`` on a free loopback port; yields the base URL and the script."""
    script = script or Script()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            script.requests.append(json.loads(self.rfile.read(length) or b"{}"))
            time.sleep(script.delay_s)
            self.send_response(script.status)
            self.send_header("content-type", script.content_type())
            self.send_header("content-length", str(len(script.body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError):  # the client gave up (timeout test)
                self.wfile.write(script.body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
