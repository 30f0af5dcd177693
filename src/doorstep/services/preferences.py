"""How a buyer wants to be told: language of texts and e-mails, and the e-mail address."""

from __future__ import annotations

import re
from dataclasses import replace

from doorstep.domain.errors import InvalidInput, NotFound
from doorstep.domain.events import Event
from doorstep.domain.order import Buyer
from doorstep.services.context import Services
from doorstep.services.notifications import LANGS

# One @, no spaces, printable ASCII, bounded: enough to refuse typos and junk; whether the
# mailbox exists only a sent message can tell.
EMAIL_PATTERN = r"^[!-?A-~]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,24}$"


def set_preferences(svc: Services, buyer_id: str, lang: str, email: str) -> Buyer:
    """The buyer's language for texts and e-mails, and the e-mail address ("" for none)."""
    if lang not in LANGS:
        raise InvalidInput(
            "unknown_language", "Choose zh_CN or en.", "请选择 zh_CN（中文）或 en（英文）。"
        )
    if email and not re.fullmatch(EMAIL_PATTERN, email):
        raise InvalidInput(
            "bad_email", "That does not look like an e-mail address.", "电子邮箱地址格式不正确。"
        )
    with svc.uow() as uow:
        # Locked: the record is written whole, and a deletion's departure mark or the
        # retention sweep's erasure committed meanwhile must not be written over.
        buyer = uow.buyers.get_for_update(buyer_id)
        if buyer is None:
            raise NotFound("buyer", buyer_id)
        changed = replace(buyer, lang=lang, email=email)
        uow.buyers.put(changed)
        if (buyer.lang, buyer.email) != (lang, email):
            uow.events.append(
                [
                    Event(
                        "buyer.notifications_changed",
                        "buyer",
                        buyer_id,
                        svc.clock.now(),
                        {"lang": lang, "email": bool(email)},
                    )
                ]
            )
        uow.commit()
    return changed
