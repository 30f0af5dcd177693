"""The pickup receipt (取件凭证) as signed facts anyone holding it can check.

The facts travel inside the verification URL that the receipt's QR code opens, signed with
HMAC-SHA256 under a server secret. Checking needs no database read and no account: whoever
holds the paper (the buyer, a merchant, an arbitrator) sees exactly what was signed at the
door, and a URL whose facts were changed, or that was made without the secret, is refused.
Only a digest of the photo ids is signed: the photos themselves stay private to the buyer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from doorstep.domain.errors import InvalidInput

# Bumped when the signed shape changes; part of the signed bytes so shapes cannot be mixed.
VERSION = "r1"
MAX_TOKEN_CHARS = 2_000  # a QR code stays scannable on paper well below this


@dataclass(frozen=True)
class ReceiptFacts:
    """What the receipt vouches for: the parcel, its contents and the door inspection."""

    return_id: str
    receipt_code: str
    waybill_no: str
    carrier_id: str
    courier_id: str
    courier_name: str
    picked_up_at: datetime
    items: tuple[tuple[str, int], ...]  # (sku, units taken)
    refused: tuple[tuple[str, int], ...]  # (sku, units refused at the door)
    result: str
    contactless: bool
    weight_g: int | None
    photos: int
    photo_digest: str

    def __post_init__(self) -> None:
        if self.picked_up_at.tzinfo is None:
            raise ValueError("picked_up_at must be timezone-aware")


def photo_digest(photo_ids: tuple[str, ...]) -> str:
    """A short fingerprint of the photos kept as evidence (swapping one changes it)."""
    return hashlib.sha256("\n".join(photo_ids).encode()).hexdigest()[:16]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, f"{VERSION}.{payload}".encode(), hashlib.sha256).digest())


def sign(facts: ReceiptFacts, key: bytes) -> str:
    """The token carried by the verification URL: ``<facts>.<signature>``, URL-safe."""
    body = {
        "v": VERSION,
        "rid": facts.return_id,
        "code": facts.receipt_code,
        "wb": facts.waybill_no,
        "car": facts.carrier_id,
        "cid": facts.courier_id,
        "cn": facts.courier_name,
        "at": facts.picked_up_at.isoformat(),
        "it": [list(i) for i in facts.items],
        "rf": [list(i) for i in facts.refused],
        "res": facts.result,
        "cl": facts.contactless,
        "w": facts.weight_g,
        "ph": facts.photos,
        "pd": facts.photo_digest,
    }
    payload = _b64(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode())
    return f"{payload}.{_mac(key, payload)}"


def _not_genuine() -> InvalidInput:
    return InvalidInput(
        "receipt_not_genuine",
        "This receipt could not be verified: it was altered or not issued by doorstep.",
        "该取件凭证无法验证：内容被改动或并非本平台签发。",
    )


def verify(token: str, key: bytes) -> ReceiptFacts:
    """The signed facts, or ``receipt_not_genuine`` for anything altered, forged or garbled."""
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise _not_genuine()
    payload, mac = token.split(".")
    if not hmac.compare_digest(mac.encode(), _mac(key, payload).encode()):
        raise _not_genuine()
    try:
        body = json.loads(_unb64(payload))
        return ReceiptFacts(
            str(body["rid"]),
            str(body["code"]),
            str(body["wb"]),
            str(body["car"]),
            str(body["cid"]),
            str(body["cn"]),
            datetime.fromisoformat(body["at"]),
            tuple((str(s), int(q)) for s, q in body["it"]),
            tuple((str(s), int(q)) for s, q in body["rf"]),
            str(body["res"]),
            bool(body["cl"]),
            None if body["w"] is None else int(body["w"]),
            int(body["ph"]),
            str(body["pd"]),
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        # Signed by us but unreadable can only mean a shape from another version.
        raise _not_genuine() from None
