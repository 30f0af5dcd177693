"""What support may read of a carrier exchange: no secrets, no whole phone numbers."""

from __future__ import annotations

import re
from typing import Any

from doorstep.domain.carrier_order import mask_mobile

# Keys whose values are credentials: replaced whole.
_SECRET_KEYS = ("secret", "api_key", "apikey", "x-api-key", "authorization", "signature", "token")
# Keys whose values are phone numbers: the middle hidden, as privacy waybills print them.
_PHONE_KEYS = ("mobile", "phone", "tel")
# Mainland mobile numbers inside free text (an address line, a remark).
_MOBILE_IN_TEXT = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])", re.ASCII)


def redact(value: Any) -> Any:
    """A copy of a JSON-like value with secrets replaced and phone numbers masked."""
    if isinstance(value, dict):
        return {k: _redact_field(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _MOBILE_IN_TEXT.sub(lambda m: mask_mobile(m.group(0)), value)
    return value


def _redact_field(key: str, value: Any) -> Any:
    lowered = key.lower()
    if any(s in lowered for s in _SECRET_KEYS):
        return "***"
    if isinstance(value, str) and any(p in lowered for p in _PHONE_KEYS):
        return mask_mobile(value)
    return redact(value)
