"""The one mapping from domain errors to HTTP, and the JSON shape every error has."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from doorstep.domain.errors import DomainError, ErrorKind, InvalidInput
from doorstep.entrypoints.api.schemas import ErrorOut

STATUS = {
    ErrorKind.INVALID: 422,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.UNAUTHORIZED: 401,
    ErrorKind.TOO_LARGE: 413,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.TOO_MANY: 429,
}

_HTTP_TEXT = {
    400: ("bad_request", "The request could not be read.", "请求格式错误。"),
    401: ("unauthorized", "Sign in first.", "请先登录。"),
    403: ("forbidden", "Not allowed for your role.", "您的角色无权执行此操作。"),
    404: ("not_found", "Nothing here.", "资源不存在。"),
    405: ("method_not_allowed", "Method not allowed.", "不支持该请求方法。"),
    413: ("too_large", "The request body is too large.", "请求内容过大。"),
    415: ("unsupported_media_type", "Unsupported content type.", "不支持的内容类型。"),
}

log = structlog.get_logger("doorstep.api")

RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": ErrorOut,
        "description": "Refused: `code` says why, `message` in English and Chinese, "
        "`details` what it concerns (for 422 validation errors, the fields).",
    }
}
"""What every operation may answer besides success, as the OpenAPI document publishes it."""


@contextmanager
def domain_values() -> Iterator[None]:
    """Building domain values from a request: their own invariant checks are bad input."""
    try:
        yield
    except ValueError as exc:
        raise InvalidInput("invalid_value", f"Invalid value: {exc}.", f"取值无效：{exc}。") from exc


def error_body(code: str, en: str, zh: str, details: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": {"en": en, "zh": zh}}
    if details:
        body["details"] = details
    return body


def retry_after(exc: DomainError) -> dict[str, str] | None:
    """The Retry-After header for errors that say when to come back (429, 503)."""
    seconds = exc.details.get("retry_after_s")
    return {"Retry-After": str(seconds)} if isinstance(seconds, int) else None


def install(app: FastAPI) -> None:
    """Register handlers so that no error leaves as anything but our JSON shape."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse(exc.as_dict(), status_code=STATUS[exc.kind], headers=retry_after(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())),
                "problem": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        return JSONResponse(
            error_body(
                "validation_error",
                "Some fields are missing or invalid.",
                "部分字段缺失或无效。",
                details,
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, en, zh = _HTTP_TEXT.get(
            exc.status_code, ("http_error", str(exc.detail), "请求失败。")
        )
        return JSONResponse(
            error_body(code, en, zh),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    # The database unreachable, or every pooled connection busy past the pool timeout: the
    # request did nothing and can be repeated, which a 503 with Retry-After says.
    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _database_busy(request: Request, exc: Exception) -> JSONResponse:
        log.warning("database_busy", path=request.url.path, error=type(exc).__name__)
        return JSONResponse(
            error_body(
                "database_busy",
                "The database is busy or unreachable; try again shortly.",
                "数据库繁忙或暂时无法访问，请稍后重试。",
            ),
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Reaching this is a bug; the test suite fails on any 500 (schemathesis), so this only
        # keeps the promise of a JSON body while the log says what happened.
        log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
        return JSONResponse(
            error_body("internal_error", "Something went wrong on our side.", "服务器内部错误。"),
            status_code=500,
        )
