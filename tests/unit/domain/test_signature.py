"""The signing scheme shared by carrier callbacks and merchant webhooks."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.domain.errors import Unauthorized
from doorstep.domain.signature import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
    signed_headers,
    verify,
)

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
SECRET = "s3cret-0123456789abcdef"


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    body = b'{"event_id":"ev-1"}'
    expected = hmac.new(SECRET.encode(), b"1764662400." + body, hashlib.sha256).hexdigest()
    assert signature(SECRET, 1764662400, body) == "sha256=" + expected


def test_signed_headers_verify_and_return_the_timestamp() -> None:
    body = b"hello"
    headers = signed_headers(SECRET, NOW, body)
    assert headers[TIMESTAMP_HEADER] == str(int(NOW.timestamp()))
    ts = verify(SECRET, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], body, NOW)
    assert ts == int(NOW.timestamp())


@pytest.mark.parametrize(
    ("timestamp", "sig", "body", "secret"),
    [
        (None, "x", b"hello", SECRET),
        ("", "x", b"hello", SECRET),
        ("abc", "x", b"hello", SECRET),
        ("\u0664\u0664", "x", b"hello", SECRET),
        ("1" * 40, "x", b"hello", SECRET),
        ("TS", None, b"hello", SECRET),
        ("TS", "SIG", b"hellO", SECRET),
        ("TS", "SIG", b"hello", "another-secret-abcdef"),
    ],
)
def test_tampered_or_missing_parts_are_refused(
    timestamp: str | None, sig: str | None, body: bytes, secret: str
) -> None:
    headers = signed_headers(SECRET, NOW, b"hello")
    ts = headers[TIMESTAMP_HEADER] if timestamp == "TS" else timestamp
    sg = headers[SIGNATURE_HEADER] if sig == "SIG" else sig
    with pytest.raises(Unauthorized) as caught:
        verify(secret, ts, sg, body, NOW)
    assert caught.value.code == "signature_invalid"


def test_a_changed_timestamp_breaks_the_signature() -> None:
    headers = signed_headers(SECRET, NOW, b"hello")
    later = str(int(headers[TIMESTAMP_HEADER]) + 1)
    with pytest.raises(Unauthorized):
        verify(SECRET, later, headers[SIGNATURE_HEADER], b"hello", NOW)


@pytest.mark.parametrize("offset", [timedelta(minutes=5, seconds=1), -timedelta(minutes=6)])
def test_old_or_future_messages_are_refused_as_replays(offset: timedelta) -> None:
    headers = signed_headers(SECRET, NOW + offset, b"hello")
    with pytest.raises(Unauthorized) as caught:
        verify(SECRET, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], b"hello", NOW)
    assert caught.value.code == "signature_expired"


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        signed_headers(SECRET, NOW.replace(tzinfo=None), b"x")


@given(body=st.binary(max_size=256), skew=st.integers(min_value=-300, max_value=300))
def test_any_body_within_tolerance_round_trips(body: bytes, skew: int) -> None:
    headers = signed_headers(SECRET, NOW + timedelta(seconds=skew), body)
    verify(SECRET, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER], body, NOW)
