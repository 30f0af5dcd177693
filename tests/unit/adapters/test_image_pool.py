"""Image decoding is bounded per process, whichever threads ask for it, and runs niced."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from doorstep.adapters.images import BoundedSanitizer, SanitizedImage
from doorstep.adapters.images import bounded as bounded_module


def test_no_more_than_the_bound_decode_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    inside, most = 0, 0
    lock = threading.Lock()
    release = threading.Event()

    def slow_sanitize(data: bytes, *, max_bytes: int) -> SanitizedImage:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        release.wait()
        with lock:
            inside -= 1
        return SanitizedImage(data, "image/jpeg", 1, 1, "0" * 64)

    monkeypatch.setattr(bounded_module, "sanitize_image", slow_sanitize)
    images = BoundedSanitizer(2, max_bytes=1000)
    callers = [threading.Thread(target=images, args=(b"x",)) for _ in range(6)]
    for caller in callers:
        caller.start()
    deadline = time.monotonic() + 30
    while inside < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # room for a third to slip in if the bound did not hold
    assert inside == 2
    release.set()
    for caller in callers:
        caller.join(timeout=30)
    assert most == 2 and inside == 0


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
def test_decoding_threads_run_at_a_lower_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, int]] = []

    def record(data: bytes, *, max_bytes: int) -> SanitizedImage:
        me = threading.get_native_id()
        seen.append((threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, me)))
        return SanitizedImage(data, "image/jpeg", 1, 1, "0" * 64)

    monkeypatch.setattr(bounded_module, "sanitize_image", record)
    BoundedSanitizer(1, max_bytes=1000)(b"x")
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    [(name, nice)] = seen
    assert name.startswith("doorstep-image")
    assert nice == min(19, own + bounded_module.NICENESS)


def test_the_real_sanitizer_runs_behind_the_bound() -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (20, 10), (10, 20, 30)).save(buf, "PNG")
    clean = BoundedSanitizer(1, max_bytes=100_000)(buf.getvalue())
    assert (clean.media_type, clean.width, clean.height) == ("image/jpeg", 20, 10)
    with pytest.raises(ValueError):
        BoundedSanitizer(0, max_bytes=1)
