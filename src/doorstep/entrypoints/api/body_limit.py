"""Request bodies larger than any endpoint takes are refused with 413 in the API's error shape.

A declared ``Content-Length`` above the limit is answered before a byte of the body is read;
a body without one (chunked) is counted as it arrives and reading stops at the limit. FastAPI's
own ``max_body_size`` does the same but answers in plain text, and its response rewriting
would also replace ours; so this one middleware does both.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from doorstep.entrypoints.api.errors import error_body


class BodyLimit:
    """Pure ASGI middleware: at most ``max_bytes`` of request body, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse(
                error_body(
                    "too_large",
                    f"The request body is too large (at most {self.max_bytes} bytes).",
                    f"请求内容过大（最多 {self.max_bytes} 字节）。",
                ),
                status_code=413,
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the body read: FastAPI passes HTTPExceptions on to the
                    # app's handler, which answers 413 in the error shape.
                    raise HTTPException(413)
            return message

        await self.app(scope, counted, send)
