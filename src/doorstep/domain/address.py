"""Addresses keyed by GB/T 2260 administrative division codes (adcodes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Re-exported: the codes' ASCII-only patterns live with the other input bounds.
from doorstep.domain.bounds import is_adcode as is_adcode


@dataclass(frozen=True)
class Address:
    """A postal address with its district adcode and, when known, coordinates."""

    adcode: str
    province: str
    city: str
    district: str
    detail: str
    contact_name: str
    contact_phone: str
    lat: float | None = None
    lon: float | None = None

    def __post_init__(self) -> None:
        if not is_adcode(self.adcode):
            raise ValueError(f"adcode must be 6 digits, got {self.adcode!r}")

    @property
    def masked_phone(self) -> str:
        """Phone with the middle digits hidden, as privacy waybills print it."""
        p = self.contact_phone
        return p[:3] + "****" + p[-4:] if len(p) >= 8 else "****"

    def same_place(self, other: Address) -> bool:
        """Whether one courier visit serves both addresses."""
        return (self.adcode, _norm(self.detail)) == (other.adcode, _norm(other.detail))


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()
