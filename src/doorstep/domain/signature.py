"""Signed machine-to-machine messages: HMAC-SHA256 over ``"{timestamp}.{raw body}"``.

One scheme for both directions: courier companies' callbacks into doorstep and doorstep's
webhooks out to merchants. The timestamp is inside the signed text so that a captured
message cannot be replayed later with a fresh header; the receiver refuses timestamps too
far from its own clock. Header names are fixed so that partners write one verifier.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from doorstep.domain.errors import Unauthorized

TIMESTAMP_HEADER = "X-Doorstep-Timestamp"
SIGNATURE_HEADER = "X-Doorstep-Signature"
SCHEME = "sha256="
# A message older or newer than this is refused as a replay (issue 8 §3: five minutes).
DEFAULT_TOLERANCE = timedelta(minutes=5)
# Bounds what a sender may put in the header before we parse it as an integer.
_MAX_TIMESTAMP_CHARS = 12


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header value ``sha256=<hex>`` for ``body`` sent at ``timestamp`` (Unix seconds)."""
    if not secret:
        raise ValueError("a signing secret must not be empty")
    signed = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return SCHEME + digest


def signed_headers(secret: str, now: datetime, body: bytes) -> dict[str, str]:
    """The two headers a sender adds to ``body`` sent at ``now`` (aware)."""
    if now.tzinfo is None:
        raise ValueError("signing times must be timezone-aware")
    timestamp = int(now.timestamp())
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }


def verify(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> int:
    """The message's timestamp if ``body`` was signed with ``secret`` within ``tolerance`` of
    ``now``; otherwise ``Unauthorized`` (``signature_invalid`` or ``signature_expired``).

    The comparison runs in constant time so that the answer's timing reveals nothing about
    the expected signature.
    """
    if now.tzinfo is None:
        raise ValueError("verification times must be timezone-aware")
    timestamp = _timestamp(timestamp_header)
    if timestamp is None or not signature_header or not secret:
        raise _invalid()
    expected = signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode("ascii"), signature_header.strip().encode()):
        raise _invalid()
    if abs(now.timestamp() - timestamp) > tolerance.total_seconds():
        raise Unauthorized(
            "signature_expired",
            "The message's timestamp is too far from the current time.",
            "消息时间戳与当前时间相差过大。",
        )
    return timestamp


def _timestamp(header: str | None) -> int | None:
    # ASCII digits only: int() would also take "٤", "+1" or " 1_0 ".
    if not header or len(header) > _MAX_TIMESTAMP_CHARS:
        return None
    if not all("0" <= ch <= "9" for ch in header):
        return None
    return int(header)


def _invalid() -> Unauthorized:
    return Unauthorized(
        "signature_invalid",
        "The message signature is missing or wrong.",
        "消息签名缺失或不正确。",
    )
