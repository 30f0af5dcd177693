"""A merchant's webhook endpoint on loopback, for the outbox tests: it checks each post's
signature as a real receiver would, de-duplicates by event id, and can be told to fail or
to hold a request (so a test can kill the sender in the middle of a batch)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from doorstep.domain.errors import Unauthorized
from doorstep.domain.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


@dataclass
class Receiver:
    """What the endpoint saw; every list is appended under ``lock``."""

    secret: str
    now: Callable[[], datetime]
    url: str = ""
    accepted: list[dict[str, Any]] = field(default_factory=list)  # in arrival order
    refused: list[str] = field(default_factory=list)  # why each refused post was refused
    failing: bool = False  # answer 500 to everything
    hold_after: int | None = None  # accept this many, then hold the next one
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def event_ids(self) -> list[str]:
        with self.lock:
            return [body["event_id"] for body in self.accepted]

    @property
    def unique_ids(self) -> set[str]:
        """What a receiver that de-duplicates by event id processed."""
        return set(self.event_ids)

    def handle(self, headers: Any, raw: bytes) -> int:
        try:
            verify(
                self.secret,
                headers.get(TIMESTAMP_HEADER),
                headers.get(SIGNATURE_HEADER),
                raw,
                self.now(),
            )
        except Unauthorized as exc:
            with self.lock:
                self.refused.append(exc.code)
            return 401
        body = json.loads(raw)
        if headers.get("X-Doorstep-Event-Id") != body["event_id"]:
            with self.lock:
                self.refused.append("event_id_header")
            return 400
        if self.failing:
            with self.lock:
                self.refused.append("failing")
            return 500
        with self.lock:
            hold = self.hold_after is not None and len(self.accepted) >= self.hold_after
            if hold:
                self.hold_after = None  # hold one request only
        if hold:
            self.held.set()
            self.release.wait(60)
        with self.lock:
            self.accepted.append(body)
        return 200


@contextmanager
def serve(secret: str, now: Callable[[], datetime]) -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1 (an ephemeral port) for the ``with`` block."""
    receiver = Receiver(secret, now)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = receiver.handle(self.headers, raw)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: pytest treats stray output as noise

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/doorstep"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
