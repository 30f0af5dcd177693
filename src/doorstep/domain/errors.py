"""The one error tree of doorstep: every error has a stable code and a zh and en message.

Entry points map the ``kind`` of an error to a transport status once (HTTP in
``entrypoints/api/errors.py``); nothing else in the code base knows about status codes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorKind(StrEnum):
    """What kind of failure an error is; the HTTP layer maps each kind to one status."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    FORBIDDEN = "forbidden"
    UNAUTHORIZED = "unauthorized"
    TOO_LARGE = "too_large"
    UNAVAILABLE = "unavailable"
    TOO_MANY = "too_many"


class DomainError(Exception):
    """Base of all expected failures: a stable ``code``, a kind and bilingual messages."""

    kind: ErrorKind = ErrorKind.INVALID

    def __init__(self, code: str, message_en: str, message_zh: str, **details: Any) -> None:
        super().__init__(f"{code}: {message_en}")
        self.code = code
        self.message_en = message_en
        self.message_zh = message_zh
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        """The error as the JSON body clients see."""
        body: dict[str, Any] = {
            "code": self.code,
            "message": {"en": self.message_en, "zh": self.message_zh},
        }
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(DomainError):
    """The request is well-formed but its values break a rule."""


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it exists."""

    kind = ErrorKind.NOT_FOUND

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(
            f"{what}_not_found",
            f"{what.replace('_', ' ').capitalize()} {ident} was not found.",
            f"未找到{_ZH_NAMES.get(what, what)} {ident}。",
            id=str(ident),
        )


class Conflict(DomainError):
    """The request clashes with the current state (full slot, stale version, duplicate)."""

    kind = ErrorKind.CONFLICT


class StaleWrite(Conflict):
    """Another request changed the same thing first (or the two waited on each other);
    repeating this one may well succeed."""

    def __init__(self, **details: Any) -> None:
        super().__init__(
            "stale_write",
            "Someone else changed this at the same time; try again.",
            "数据已被他人同时修改，请重试。",
            **details,
        )


class IllegalTransition(Conflict):
    """A lifecycle step that is not allowed from the current state."""

    def __init__(self, aggregate: str, state: str, action: str) -> None:
        super().__init__(
            "illegal_transition",
            f"Cannot {action.replace('_', ' ')} a {aggregate} that is {state.replace('_', ' ')}.",
            f"当前状态（{state}）下不能执行操作：{action}。",
            aggregate=aggregate,
            state=state,
            action=action,
        )


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    kind = ErrorKind.FORBIDDEN


class Unauthorized(DomainError):
    """The caller could not be identified."""

    kind = ErrorKind.UNAUTHORIZED


class TooLarge(DomainError):
    """An upload is larger than allowed."""

    kind = ErrorKind.TOO_LARGE


class Unavailable(DomainError):
    """An outside system did not answer in time; the request can be retried."""

    kind = ErrorKind.UNAVAILABLE


class TooManyAttempts(DomainError):
    """Too many tries (sign-in, pickup code): refused until ``retry_after_s`` has passed."""

    kind = ErrorKind.TOO_MANY

    def __init__(
        self, code: str, message_en: str, message_zh: str, retry_after_s: int, **details: Any
    ) -> None:
        super().__init__(code, message_en, message_zh, retry_after_s=retry_after_s, **details)
        self.retry_after_s = retry_after_s


_ZH_NAMES = {
    "return_request": "退货申请",
    "order": "订单",
    "order_line": "订单行",
    "product": "商品",
    "buyer": "买家",
    "appointment": "上门预约",
    "service_area": "服务范围",
    "slot_template": "预约时段模板",
    "policy": "售后政策",
    "courier": "快递员",
    "carrier": "快递公司",
    "refund": "退款",
    "photo": "照片",
    "user": "用户",
    "slot": "预约时段",
    "waybill": "运单",
    "carrier_order": "快递公司取件订单",
    "dropoff_code": "寄件码",
    "station": "驿站",
    "ops_case": "运营待办",
}
