"""Loading that every use case needs, with the not-found and ownership checks in one place.

A buyer asking for someone else's return gets the same answer as for one that does not
exist, so ids cannot be probed.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from doorstep.domain.errors import NotFound
from doorstep.domain.pickup import Appointment
from doorstep.domain.returns import ReturnRequest
from doorstep.services.ports import UnitOfWork


class BuyersRecord(Protocol):
    """Anything a buyer owns: a return, an order, a claim, a dispute."""

    @property
    def buyer_id(self) -> str: ...


B = TypeVar("B", bound=BuyersRecord)


def owned(found: B | None, buyer_id: str | None, subject: str, subject_id: str) -> B:
    """``found`` if it exists and (when ``buyer_id`` is given) belongs to that buyer; else
    NotFound on ``subject``, the same answer for someone else's record as for none."""
    if found is None or (buyer_id is not None and found.buyer_id != buyer_id):
        raise NotFound(subject, subject_id)
    return found


def load_return(uow: UnitOfWork, return_id: str, *, buyer_id: str | None = None) -> ReturnRequest:
    """The return, if it exists and (when ``buyer_id`` is given) belongs to that buyer."""
    return owned(uow.returns.get(return_id), buyer_id, "return_request", return_id)


def lock_return(uow: UnitOfWork, return_id: str, *, buyer_id: str | None = None) -> ReturnRequest:
    """``load_return`` with the return's row locked until the commit. A use case that also
    changes the return's exchange locks the return first, then the exchange (as refund
    instead, disputes and refunds do): callers racing on one return queue on its row and each
    sees what the one before it did, instead of two opposite orders deadlocking or one saving
    over a version it read before the wait (``stale_write``)."""
    return owned(uow.returns.get_for_update(return_id), buyer_id, "return_request", return_id)


def load_appointment(
    uow: UnitOfWork,
    appointment_id: str,
    *,
    buyer_id: str | None = None,
    courier_id: str | None = None,
) -> Appointment:
    """The appointment, if it exists and belongs to the buyer or courier asking."""
    appt = uow.appointments.get(appointment_id)
    if (
        appt is None
        or (buyer_id is not None and appt.buyer_id != buyer_id)
        or (courier_id is not None and appt.courier_id != courier_id)
    ):
        raise NotFound("appointment", appointment_id)
    return appt
