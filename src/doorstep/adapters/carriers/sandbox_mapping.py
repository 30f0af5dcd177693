"""The sandbox courier company's wire format ⇄ doorstep's unified order and updates.

Pure translation, no I/O: a real company's adapter is another module like this one (its
field names, status codes and failure reasons) plugged into ``http.HttpCourierCompany``.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import msgspec

from doorstep.domain import bounds
from doorstep.domain.carrier_order import (
    Answered,
    CarrierUpdate,
    CourierInfo,
    Party,
    UnifiedOrder,
    UpdateKind,
)
from doorstep.domain.errors import InvalidInput
from doorstep.domain.pickup import FailureReason
from doorstep.services.ports import CarrierAck

# The company's event types and order statuses, as doorstep's update kinds.
EVENT_KINDS = {
    "ACCEPTED": UpdateKind.ACCEPTED,
    "COURIER_ASSIGNED": UpdateKind.COURIER_ASSIGNED,
    "RESCHEDULED": UpdateKind.RESCHEDULED,
    "PICKED_UP": UpdateKind.PICKED_UP,
    "IN_TRANSIT": UpdateKind.IN_TRANSIT,
    "DELIVERED": UpdateKind.DELIVERED,
    "PICKUP_FAILED": UpdateKind.PICKUP_FAILED,
    "SETTLED": UpdateKind.SETTLED,
    "CANCELLED": UpdateKind.CANCELLED,
}
# A polled order's status says which stage it reached (CREATED: nothing new to apply).
STATUS_KINDS = {
    "ACCEPTED": UpdateKind.ACCEPTED,
    "COURIER_ASSIGNED": UpdateKind.COURIER_ASSIGNED,
    "PICKED_UP": UpdateKind.PICKED_UP,
    "IN_TRANSIT": UpdateKind.IN_TRANSIT,
    "DELIVERED": UpdateKind.DELIVERED,
    "PICKUP_FAILED": UpdateKind.PICKUP_FAILED,
    "CANCELLED": UpdateKind.CANCELLED,
}
# The company's failure codes (after SF's list in RULES.md §6).
FAILURE_REASONS = {
    "BAD_PHONE": FailureReason.BAD_PHONE,
    "CUSTOMER_UNREACHABLE": FailureReason.BUYER_UNREACHABLE,
    "NO_ACCESS": FailureReason.NO_ACCESS,
    "TIME_CHANGED_BY_CUSTOMER": FailureReason.TIME_CHANGED_BY_BUYER,
    "WEATHER": FailureReason.WEATHER,
    "TRAFFIC": FailureReason.TRAFFIC,
    "GOODS_NOT_ACCEPTED": FailureReason.GOODS_NOT_ACCEPTABLE,
}
PAYMENT = {"sender": "SENDER", "receiver": "RECEIVER", "monthly_account": "MONTHLY"}


def _party(p: Party) -> dict[str, Any]:
    return {
        "name": p.name,
        "mobile": p.mobile,
        "province": p.province,
        "city": p.city,
        "district": p.district,
        "town": p.town,
        "address": p.detail,
        "adcode": p.adcode,
        "rawText": p.raw_text,
    }


def order_payload(order: UnifiedOrder) -> dict[str, Any]:
    """The body of the company's create call."""
    return {
        "outOrderNo": order.out_order_no,
        "serviceType": order.service_type,
        "sender": _party(order.sender),
        "receiver": _party(order.receiver),
        "cargo": {
            "name": order.cargo.description,
            "count": order.cargo.quantity,
            "weightG": order.cargo.weight_g,
            "valueFen": order.cargo.insured_value_fen,
        },
        "pickupDate": order.day.isoformat(),
        "pickupStart": order.start.strftime("%H:%M"),
        "pickupEnd": order.end.strftime("%H:%M"),
        "payMethod": PAYMENT.get(order.payment, "MONTHLY"),
        "checkRules": list(order.inspection_rules),
        "barcodes": list(order.barcodes),
        "remark": order.remark,
        "callbackUrl": order.callback_url,
    }


def reschedule_payload(day: date, start: time, end: time) -> dict[str, Any]:
    return {
        "pickupDate": day.isoformat(),
        "pickupStart": start.strftime("%H:%M"),
        "pickupEnd": end.strftime("%H:%M"),
    }


def ack(body: Any) -> CarrierAck:
    """The company's order id from a create answer, and the order it holds."""
    order_id = body.get("orderId") if isinstance(body, dict) else None
    if not isinstance(order_id, str) or not 1 <= len(order_id) <= 64:
        raise _invalid("the create answer has no order id")
    return CarrierAck(order_id, answered(body))


def answered(body: Any) -> Answered:
    """What a create or reschedule answer says the company's order holds: its window and
    ``updatedAt``, the company's time of its last change. Either is left out when missing
    or unreadable: the call was taken, and a fact it does not give is judged without."""
    if not isinstance(body, dict):
        return Answered()
    try:
        company_at = _time(body.get("updatedAt"))
    except InvalidInput:
        company_at = None
    try:
        day = _day(body.get("pickupDate"))
        start, end = _clock_time(body.get("pickupStart")), _clock_time(body.get("pickupEnd"))
    except (InvalidInput, TypeError, ValueError):
        day = start = end = None
    if None in (day, start, end):
        day = start = end = None
    return Answered(company_at, day, start, end)


def error_code(body: Any) -> str:
    """The company's error code from an error answer, or ``unknown``."""
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code[:64] if isinstance(code, str) else "unknown"


# Statuses in which the company may still move the pickup window.
_WINDOW_MOVABLE = ("CREATED", "ACCEPTED", "COURIER_ASSIGNED")


def updates_from_snapshot(snapshot: Any, at: datetime) -> list[CarrierUpdate]:
    """What a polled order says: the stage it reached, its window while it can still move,
    then its settlement if it has one.

    Poll updates get ids of their own per stage, so polling the same stage again is a
    duplicate, and a callback for a stage a poll already applied arrives late."""
    if not isinstance(snapshot, dict):
        raise _invalid("the order is not an object")
    no = _str(snapshot, "outOrderNo")
    # The company's time of the order's last change, on its clock (``at`` is ours).
    company_at = answered(snapshot).company_at
    kind = STATUS_KINDS.get(str(snapshot.get("status")))
    out = []
    if kind is not None:
        out.append(_update(f"poll:{no}:{kind.value}", kind, at, snapshot))
    if snapshot.get("status") in _WINDOW_MOVABLE and snapshot.get("pickupDate"):
        # After the stage (an order whose create answer was lost becomes accepted first),
        # the company's window as it stands: a reschedule whose callback was lost is found
        # here (the same window as ours changes nothing; one id per window seen).
        start, end = snapshot.get("pickupStart"), snapshot.get("pickupEnd")
        window = f"{snapshot['pickupDate']}:{start}-{end}"
        moved = f"poll:{no}:window:{window}"
        out.append(_update(moved, UpdateKind.RESCHEDULED, at, snapshot, company_at))
    if snapshot.get("weightG") is not None and snapshot.get("freightFen") is not None:
        out.append(_update(f"poll:{no}:settled", UpdateKind.SETTLED, at, snapshot))
    return out


def update_from_callback(body: bytes) -> CarrierUpdate:
    """A callback body as an update; ``InvalidInput`` when it is not one."""
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise _invalid("the body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("order"), dict):
        raise _invalid("the body has no order")
    kind = EVENT_KINDS.get(str(data.get("eventType")))
    if kind is None:
        raise _invalid("unknown event type")
    at = _time(data.get("occurredAt"))  # the company's clock
    return _update(_str(data, "eventId"), kind, at, data["order"], at)


def _update(
    event_id: str,
    kind: UpdateKind,
    at: datetime,
    order: dict[str, Any],
    company_at: datetime | None = None,
) -> CarrierUpdate:
    courier = order.get("courier")
    reason = order.get("failReason")
    try:
        start, end = _clock_time(order.get("pickupStart")), _clock_time(order.get("pickupEnd"))
        if start is not None and end is not None and start >= end:
            raise _invalid("pickupEnd is not after pickupStart")
        return CarrierUpdate(
            event_id=event_id,
            out_order_no=_str(order, "outOrderNo"),
            kind=kind,
            occurred_at=at,
            courier=(
                CourierInfo(str(courier.get("name", ""))[:40], str(courier.get("mobile", ""))[:20])
                if isinstance(courier, dict)
                else None
            ),
            waybill_no=_optional_str(order, "waybillNo"),
            failure_reason=FAILURE_REASONS.get(str(reason)) if reason is not None else None,
            day=_day(order.get("pickupDate")),
            start=start,
            end=end,
            actual_weight_g=_optional_int(order, "weightG"),
            freight_fen=_optional_int(order, "freightFen"),
            company_at=company_at,
        )
    except (TypeError, ValueError) as exc:
        raise _invalid(str(exc)[:100]) from None


def _day(value: Any) -> date | None:
    if not value:
        return None
    day = date.fromisoformat(str(value))
    if not bounds.day_in_calendar(day):
        raise _invalid("pickupDate is out of range")
    return day


def _clock_time(value: Any) -> time | None:
    # A window's ends are wall-clock times in Shanghai; an offset would make them
    # incomparable with ours (and with each other).
    if not value:
        return None
    moment = time.fromisoformat(str(value))
    if moment.tzinfo is not None:
        raise _invalid("pickup times carry no offset")
    return moment


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not 1 <= len(value) <= 128:
        raise _invalid(f"{key} is missing")
    return value


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value[:32] if isinstance(value, str) and value else None


def _optional_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**9:
        raise _invalid(f"{key} is not a whole number")
    return value


def _time(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise _invalid("occurredAt is missing")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _invalid("occurredAt is not a time") from None
    if moment.tzinfo is None:
        raise _invalid("occurredAt has no offset")
    if not bounds.in_calendar(moment):
        raise _invalid("occurredAt is out of range")
    return moment


def _invalid(why: str) -> InvalidInput:
    return InvalidInput(
        "carrier_payload_invalid",
        f"The courier company's message cannot be read: {why}.",
        "无法解析快递公司的消息。",
        why=why,
    )
