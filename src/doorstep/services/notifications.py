"""What the buyer is told, and in which words: events that become a text and an e-mail.

Six moments are worth a message (issue 8 §9): booked, courier assigned, arrival time moved
(the appointment only records ``eta_updated`` for moves of ten minutes or more), moved by a
disruption, picked up, refunded. Everything else stays on the timeline. Texts are English
message ids translated through the Babel catalogues (``Texts`` port), in the buyer's language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from doorstep.domain.clock import local
from doorstep.domain.events import Event
from doorstep.domain.money import yuan
from doorstep.services.ports import Texts

LANGS = ("zh_CN", "en")


def N_(message: str) -> str:
    """Mark a message id for the catalogues; it is translated when the message is written."""
    return message


@dataclass(frozen=True)
class Notice:
    """One message to the buyer before translation: message ids and their values."""

    subject: str
    body: str
    values: dict[str, str]


def _booked(e: Event) -> Notice:
    return Notice(
        N_("Pickup booked"),
        N_("Your doorstep pickup is booked for {day}, {window}. Keep your pickup code ready."),
        {"day": str(e.data.get("day", "")), "window": str(e.data.get("window", ""))},
    )


def _assigned(e: Event) -> Notice:
    return Notice(
        N_("Courier assigned"),
        N_("A courier has been assigned to your pickup."),
        {},
    )


def _eta(e: Event) -> Notice | None:
    eta = e.data.get("eta")
    # The first estimate comes with the booking; only a move (10 minutes or more) is news.
    if not isinstance(eta, str) or not e.data.get("previous"):
        return None
    try:
        moment = datetime.fromisoformat(eta)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return Notice(
        N_("Arrival time changed"),
        N_("Your courier now expects to arrive at about {time}."),
        {"time": f"{local(moment):%Y-%m-%d %H:%M}"},
    )


def _rescheduled(e: Event) -> Notice | None:
    # Only moves the buyer did not ask for: a disruption (weather, holiday), the courier
    # company itself, or ops emptying a window left over capacity moved the visit.
    reason = str(e.data.get("reason", ""))
    when = {"day": str(e.data.get("day", "")), "window": str(e.data.get("window", ""))}
    if reason.startswith("carrier_rescheduled:"):
        return Notice(
            N_("Pickup moved"),
            N_("The courier company moved your pickup to {day}, {window}."),
            when,
        )
    if reason == "over_capacity":  # ops moved a visit out of a window left over capacity
        return Notice(
            N_("Pickup moved"),
            N_("Your window was overbooked, so your pickup was moved to {day}, {window}."),
            when,
        )
    if not reason.startswith("disruption:"):
        return None
    return Notice(
        N_("Pickup moved"),
        N_("Because of bad weather or a holiday, your pickup was moved to {day}, {window}."),
        when,
    )


def _picked_up(e: Event) -> Notice:
    return Notice(
        N_("Parcel picked up"),
        N_("Your parcel has been picked up. Thank you."),
        {},
    )


def _refunded(e: Event) -> Notice | None:
    amount = e.data.get("amount_fen")
    if not isinstance(amount, int):
        return None
    return Notice(
        N_("Refund paid"),
        N_("Your refund of ¥{amount} has been paid."),
        {"amount": yuan(amount)},
    )


NOTICES: dict[str, Callable[[Event], Notice | None]] = {
    "appointment.booked": _booked,
    "appointment.courier_assigned": _assigned,
    "appointment.eta_updated": _eta,
    "appointment.rescheduled": _rescheduled,
    "appointment.completed": _picked_up,
    "refund.succeeded": _refunded,
}


def notice_for(event: Event) -> Notice | None:
    """The message this event means for the buyer, or None when it means none."""
    make = NOTICES.get(event.name)
    return None if make is None else make(event)


def render(notice: Notice, lang: str, texts: Texts) -> dict[str, Any]:
    """Subject and body in ``lang`` (the buyer's, zh_CN when unknown)."""
    lang = lang if lang in LANGS else "zh_CN"
    subject = texts.gettext(lang, notice.subject)
    body = texts.gettext(lang, notice.body).format(**notice.values)
    # A brand in front tells the buyer who is writing (texts from unknown senders are ignored).
    prefix = texts.gettext(lang, N_("[doorstep]"))
    return {"lang": lang, "subject": f"{prefix} {subject}", "text": f"{prefix} {body}"}


class EnglishTexts:
    """The message ids themselves: used when no catalogue is wired (tests, tools)."""

    def gettext(self, lang: str, message: str) -> str:
        return message
