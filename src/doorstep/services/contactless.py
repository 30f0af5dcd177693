"""Contactless pickup after the door: the buyer confirms or disputes the courier's photos and
weight within the time limit (silence confirms), and ops decide disputes with both sides'
evidence in view (issue 8 §8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from doorstep.domain.errors import Conflict, NotFound
from doorstep.domain.pickup import Appointment, DisputeOutcome
from doorstep.domain.returns import ReturnRequest
from doorstep.services.context import Services
from doorstep.services.lookups import load_appointment

SWEEP_BATCH = 200
QUEUE_LIMIT = 100


def confirm_contactless(svc: Services, buyer_id: str, appointment_id: str) -> Appointment:
    """The buyer agrees with what the courier photographed and weighed."""
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id, buyer_id=buyer_id)
        appt.confirm_handover(svc.clock.now(), buyer_id)
        uow.appointments.save(appt)
        uow.commit()
        return appt


def dispute_contactless(
    svc: Services, buyer_id: str, appointment_id: str, text: str, photo_ids: tuple[str, ...]
) -> Appointment:
    """The buyer says the photos or the weight are wrong; the visit joins the ops queue."""
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id, buyer_id=buyer_id)
        for photo_id in dict.fromkeys(photo_ids):
            photo = uow.photos.get(photo_id)
            if photo is None or photo.owner != buyer_id:
                raise NotFound("photo", photo_id)
        appt.dispute_handover(text, photo_ids, svc.clock.now())
        uow.appointments.save(appt)
        uow.commit()
        return appt


def confirm_silent_contactless(svc: Services, now: datetime) -> int:
    """Confirm every contactless pickup whose buyer said nothing before the limit; returns
    how many. Each is its own transaction: a buyer answering at the last second wins or
    loses cleanly on the visit's version, and one failure does not hold back the rest."""
    with svc.uow() as uow:
        due = [a.appointment_id for a in uow.appointments.reviews_due(now, SWEEP_BATCH)]
    done = 0
    for appointment_id in due:
        try:
            done += _confirm_silent(svc, appointment_id, now)
        except Conflict:
            continue  # the buyer or another sweep moved it first; it is decided either way
    return done


def _confirm_silent(svc: Services, appointment_id: str, now: datetime) -> bool:
    with svc.uow() as uow:
        appt = uow.appointments.get(appointment_id)
        review = appt.review if appt is not None else None
        if appt is None or review is None or review.status.value != "pending":
            return False  # answered since the list was read
        appt.confirm_handover(now, "silence")
        uow.appointments.save(appt)
        uow.commit()
        return True


@dataclass(frozen=True)
class DisputedPickup:
    """One row of the ops queue: the visit with both sides' evidence, and its returns (the
    courier's photos and weight are on each return's door inspection)."""

    appointment: Appointment
    returns: tuple[ReturnRequest, ...]


def disputed_pickups(svc: Services, limit: int = QUEUE_LIMIT) -> list[DisputedPickup]:
    """Disputed contactless pickups, oldest first, in two reads whatever their number."""
    with svc.uow() as uow:
        found = uow.appointments.disputed_reviews(limit)
        by_id = {
            r.return_id: r for r in uow.returns.get_many(rid for a in found for rid in a.return_ids)
        }
    return [
        DisputedPickup(a, tuple(by_id[rid] for rid in a.return_ids if rid in by_id)) for a in found
    ]


def resolve_contactless(
    svc: Services, ops_id: str, appointment_id: str, outcome: DisputeOutcome, note: str
) -> Appointment:
    """Ops decide a disputed contactless pickup."""
    with svc.uow() as uow:
        appt = load_appointment(uow, appointment_id)
        appt.resolve_dispute(outcome, note, ops_id, svc.clock.now())
        uow.appointments.save(appt)
        uow.commit()
        return appt
