"""The receipt's signing key: refused when weak outside development, never the session key."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from doorstep.config import Settings

SECRET = "a-real-secret-" + "y" * 40
NAMED = {"payments": "local", "customs_broker_mode": "pending", "notifications": "off"}


@pytest.mark.parametrize("weak", ["short", "a" * 64, "ab" * 20])
def test_a_weak_receipt_secret_is_refused_outside_development(weak: str) -> None:
    with pytest.raises(ValidationError, match="DOORSTEP_RECEIPT_SECRET"):
        Settings(env="production", secret_key=SECRET, receipt_secret=weak, **NAMED)
    assert Settings(env="development", receipt_secret=weak).receipt_key == weak.encode()


def test_a_strong_receipt_secret_is_used_as_is() -> None:
    strong = "Zq8-t2LwVx9mNb4Rc7Hd1Kj5Pf3Gs6Ye0U"
    assert (
        Settings(secret_key=SECRET, receipt_secret=strong, **NAMED).receipt_key == strong.encode()
    )


def test_without_one_the_key_is_derived_from_the_secret_key_not_equal_to_it() -> None:
    key = Settings(secret_key=SECRET, **NAMED).receipt_key
    assert key != SECRET.encode() and len(key) == 32
    assert Settings(secret_key=SECRET + "x", **NAMED).receipt_key != key
