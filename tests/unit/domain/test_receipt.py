"""The receipt's signed facts: genuine ones verify, anything changed or forged is refused."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import datetime

import pytest

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.errors import InvalidInput
from doorstep.domain.receipt import MAX_TOKEN_CHARS, ReceiptFacts, photo_digest, sign, verify

KEY = b"k" * 16 + b"0123456789abcdefghij"
FACTS = ReceiptFacts(
    "R-20261125-abcdef",
    "345678-ABCDEF",
    "YT26112512345678",
    "yto",
    "courier-yto-02",
    "王师傅",
    datetime(2026, 11, 25, 14, 5, tzinfo=SHANGHAI),
    (("KR-LIPSTICK-V01", 2),),
    (("KR-LIPSTICK-V01", 1),),
    "passed",
    False,
    130,
    3,
    photo_digest(("P-1", "P-2", "P-3")),
)


def test_a_genuine_receipt_verifies_to_the_same_facts() -> None:
    assert verify(sign(FACTS, KEY), KEY) == FACTS


def _refused(token: str, key: bytes = KEY) -> None:
    with pytest.raises(InvalidInput) as err:
        verify(token, key)
    assert err.value.code == "receipt_not_genuine"


def test_changed_facts_are_refused() -> None:
    payload, mac = sign(FACTS, KEY).split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["it"] = [["KR-LIPSTICK-V01", 3]]  # one more unit than the courier took
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    _refused(f"{forged}.{mac}")


def test_a_receipt_signed_with_another_key_is_refused() -> None:
    _refused(sign(replace(FACTS, weight_g=900), b"another key entirely, 32+ chars!!"))


@pytest.mark.parametrize(
    "token", ["", "no-dot", "a.b.c", "x" * (MAX_TOKEN_CHARS + 1), "%%%.###", "e30.AAAA"]
)
def test_garbled_tokens_are_refused(token: str) -> None:
    _refused(token)


def test_the_signature_is_checked_before_the_payload_is_read() -> None:
    payload, mac = sign(FACTS, KEY).split(".")
    _refused(f"{payload}.{mac[:-2]}AA")
    _refused(f"{payload[:-4]}.{mac}")


def test_photo_digest_changes_when_a_photo_is_swapped() -> None:
    assert photo_digest(("P-1", "P-2")) != photo_digest(("P-1", "P-9"))
