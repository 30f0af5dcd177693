"""Request bodies larger than any endpoint takes are refused with 413 in the error shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from fastapi.testclient import TestClient

from doorstep.entrypoints.api.app import BODY_OVERHEAD

Login = Callable[[str], dict[str, str]]


def _too_large(r: object) -> None:
    assert r.status_code == 413, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["code"] == "too_large" and body["message"]["zh"], body


def test_a_declared_length_above_the_limit_is_refused_unread(
    client: TestClient, login: Login
) -> None:
    limit = client.app.state.doorstep.settings.max_upload_bytes + BODY_OVERHEAD  # type: ignore[attr-defined]
    big = b"\x89PNG" + b"\0" * limit
    files = {"file": ("big.png", big, "image/png")}
    _too_large(client.post("/photos", headers=login("buyer1"), files=files))


def test_a_chunked_body_is_cut_off_at_the_limit(client: TestClient, login: Login) -> None:
    limit = client.app.state.doorstep.settings.max_upload_bytes + BODY_OVERHEAD  # type: ignore[attr-defined]

    def chunks() -> Iterator[bytes]:
        yield b'{"orders": ["'
        for _ in range(limit // 65_536 + 2):
            yield b"x" * 65_536
        yield b'"]}'

    headers = {**login("partner1"), "Content-Type": "application/json"}
    _too_large(client.post("/partner/orders", headers=headers, content=chunks()))
    # A page form is refused the same way (not with an error page of a crash).
    page = {"Content-Type": "application/x-www-form-urlencoded"}
    _too_large(client.post("/login", headers=page, content=chunks()))
