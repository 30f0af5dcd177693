"""Photo uploads are decoded off the event loop, in the threads reserved for them."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable
from dataclasses import replace

from fastapi.testclient import TestClient
from PIL import Image

from doorstep.bootstrap import App
from doorstep.entrypoints.api.app import create_app
from doorstep.services.ports import CleanImage


def test_upload_decodes_in_a_worker_thread_not_on_the_event_loop(
    wired: App, login: Callable[[str], dict[str, str]]
) -> None:
    seen: list[tuple[str, bool]] = []
    real = wired.services.images

    def probe(data: bytes) -> CleanImage:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        seen.append((threading.current_thread().name, on_loop))
        return real(data)

    wired.services = replace(wired.services, images=probe)
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "PNG")
    with TestClient(create_app(wired)) as client:
        r = client.post(
            "/photos",
            headers=login("buyer1"),
            files={"file": ("a.png", buf.getvalue(), "image/png")},
        )
        assert r.status_code == 201, r.text
        assert client.app.state.image_slots.total_tokens == wired.settings.image_workers
    assert seen and not any(on_loop for _, on_loop in seen), seen
