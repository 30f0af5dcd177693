"""Waybill numbers per courier company: a number is checked against its company's format before
a self-shipped or dropped-off parcel is accepted (issue 9 §8).

The formats are data: one row per company, with a pattern of ASCII letters and digits and an
example the buyer is shown when a number does not fit. A company not listed here has no
format we could check, so its numbers are refused rather than accepted unchecked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from doorstep.domain.errors import InvalidInput


@dataclass(frozen=True)
class WaybillFormat:
    """How one company's waybill numbers look."""

    carrier_id: str
    name_zh: str
    name_en: str
    pattern: str
    example: str

    def __post_init__(self) -> None:
        if not re.fullmatch(self.pattern, self.example, re.ASCII):
            raise ValueError(f"the example of {self.carrier_id} does not fit its own pattern")

    def matches(self, number: str) -> bool:
        return re.fullmatch(self.pattern, number, re.ASCII) is not None


# Published numbering as printed on each company's waybills; SF and YTO carry their prefix.
WAYBILL_FORMATS: tuple[WaybillFormat, ...] = (
    WaybillFormat("sf", "顺丰速运", "SF Express", r"SF[0-9]{12,15}", "SF1234567890123"),
    WaybillFormat("yto", "圆通速递", "YTO Express", r"YT[0-9]{12,15}", "YT2612011234567"),
    WaybillFormat("zto", "中通快递", "ZTO Express", r"7[0-9]{11,14}", "731234567890"),
    WaybillFormat("sto", "申通快递", "STO Express", r"77[0-9]{11,13}", "7712345678901"),
    WaybillFormat("yunda", "韵达快递", "Yunda Express", r"(31|43|46)[0-9]{11}", "4312345678901"),
    WaybillFormat("jd", "京东物流", "JD Logistics", r"JD[A-Z0-9]{11,18}", "JDVA12345678901"),
    WaybillFormat("ems", "中国邮政 EMS", "China Post EMS", r"E[A-Z][0-9]{9}CN", "EA123456789CN"),
)
_BY_ID = {f.carrier_id: f for f in WAYBILL_FORMATS}


def waybill_format(carrier_id: str) -> WaybillFormat | None:
    """The format of ``carrier_id``'s waybills, None for a company we cannot check."""
    return _BY_ID.get(carrier_id)


def check_waybill(carrier_id: str, number: str) -> str:
    """The number as stored (trimmed, upper case) when it fits the company's format; a stable
    ``waybill_format`` error with the expected example otherwise."""
    fmt = _BY_ID.get(carrier_id)
    if fmt is None:
        raise InvalidInput(
            "carrier_unsupported",
            f"We cannot check waybills of {carrier_id!r}; choose a listed courier company.",
            "无法核对该快递公司的运单号，请选择列表中的快递公司。",
            carrier_id=carrier_id,
            supported=[f.carrier_id for f in WAYBILL_FORMATS],
        )
    cleaned = number.strip().upper()
    if not fmt.matches(cleaned):
        raise InvalidInput(
            "waybill_format",
            f"{number!r} is not a {fmt.name_en} waybill number (e.g. {fmt.example}).",
            f"{number!r} 不是{fmt.name_zh}的运单号格式（例如 {fmt.example}）。",
            carrier_id=carrier_id,
            example=fmt.example,
        )
    return cleaned
