"""The customs return (跨境退货申报) of one declaration list (RULES.md §2, announcement 2020
No. 45): the seller's agent declares the returned lines of a list by day 30 of its release,
the goods are back by day 45, and then the withheld tax of those lines goes back to the buyer
and the buyer's annual cross-border total (26,000 CNY) is restored by their value."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from doorstep.domain.customs_clock import CustomsClock
from doorstep.domain.errors import Conflict, IllegalTransition
from doorstep.domain.events import Event, EventRecorder

ANNUAL_QUOTA_FEN = 2_600_000  # 财关税〔2018〕49号: 26,000 CNY per person and year


class CustomsStatus(StrEnum):
    OPEN = "open"  # collecting returned lines
    SUBMITTED = "submitted"  # sent to the broker, no final answer yet
    ACCEPTED = "accepted"  # customs accepted the declaration
    REJECTED = "rejected"
    SETTLED = "settled"  # tax given back and quota restored (or nothing was due)
    LAPSED = "lapsed"  # never declared by day 30: customs gives nothing back

    @property
    def live(self) -> bool:
        """Whether a deadline or customs' answer is still ahead (the console's queue)."""
        return self in (CustomsStatus.OPEN, CustomsStatus.SUBMITTED, CustomsStatus.ACCEPTED)


class DeclarationFate(StrEnum):
    """What customs made of a return's declaration, as the refund's tax reads it (RULES.md
    §2): the tax goes back only on an accepted declaration."""

    NONE = "none"  # the return is on no declaration (yet)
    PENDING = "pending"  # collecting or declared, no answer yet, still declarable
    ACCEPTED = "accepted"  # accepted (or settled) by customs
    REJECTED = "rejected"
    LAPSED = "lapsed"  # not declared by day 30 of release


class BrokerVerdict(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PENDING = "pending"


@dataclass(frozen=True)
class CustomsLine:
    """One returned order line of the list: its value (quota) and withheld tax."""

    return_id: str
    order_line_id: str
    sku: str
    quantity: int
    value_fen: int
    tax_fen: int

    def __post_init__(self) -> None:
        if self.quantity <= 0 or self.value_fen < 0 or self.tax_fen < 0:
            raise ValueError("a customs line has a positive quantity and amounts >= 0")


def declaration_key(customs_return_id: str) -> str:
    """The key the broker de-duplicates a declaration by (resent after a timeout)."""
    return f"customs-declare:{customs_return_id}"


@dataclass
class CustomsReturn(EventRecorder):
    """One return declaration for (part of) one declaration list."""

    customs_return_id: str
    declaration_no: str
    order_id: str
    buyer_id: str
    channel: str  # "bonded" (1210) or "direct_mail" (9610)
    released_at: datetime
    application_by: datetime
    arrival_by: datetime
    warehouse_id: str
    created_at: datetime
    lines: list[CustomsLine] = field(default_factory=list)
    status: CustomsStatus = CustomsStatus.OPEN
    broker_ref: str | None = None
    submitted_at: datetime | None = None
    answered_at: datetime | None = None
    rejection: str | None = None
    alerts: list[str] = field(default_factory=list)
    tax_refund_fen: int = 0
    quota_restored_fen: int = 0
    # The returns whose withheld tax the settlement paid: their own refunds leave it out.
    tax_paid_for: tuple[str, ...] = ()
    # The returns whose units gave the buyer's annual total back (the settlement's, then an
    # exchange turned into a refund after it): each is given back once.
    quota_restored_for: tuple[str, ...] = ()
    # Returns still on their way when ops forced the settlement: each is watched until it
    # arrives or day 45 passes (then tax an express refund advanced for it is taken back).
    awaited: tuple[str, ...] = ()
    version: int = 0

    def __post_init__(self) -> None:
        EventRecorder.__init__(self)

    @classmethod
    def open(
        cls,
        customs_return_id: str,
        declaration_no: str,
        order_id: str,
        buyer_id: str,
        channel: str,
        clock: CustomsClock,
        warehouse_id: str,
        at: datetime,
    ) -> CustomsReturn:
        """A new declaration for a released list, with its deadlines fixed from the clock."""
        made = cls(
            customs_return_id,
            declaration_no,
            order_id,
            buyer_id,
            channel,
            clock.released_at,
            clock.application_by,
            clock.arrival_by,
            warehouse_id,
            at,
        )
        made._event(
            "customs.opened",
            at,
            declaration_no=declaration_no,
            application_by=clock.application_by.isoformat(),
            arrival_by=clock.arrival_by.isoformat(),
            warehouse_id=warehouse_id,
        )
        return made

    def _event(self, name: str, at: datetime, **data: Any) -> None:
        self.record(Event(name, "customs_return", self.customs_return_id, at, data))

    @property
    def return_ids(self) -> list[str]:
        return list(dict.fromkeys(line.return_id for line in self.lines))

    def fate(self, at: datetime) -> DeclarationFate:
        """What customs made of this declaration at ``at``: an open one past day 30 has lapsed
        even before the sweep marks it."""
        if self.status in (CustomsStatus.ACCEPTED, CustomsStatus.SETTLED):
            return DeclarationFate.ACCEPTED
        if self.status is CustomsStatus.REJECTED:
            return DeclarationFate.REJECTED
        if self.status is CustomsStatus.LAPSED or (
            self.status is CustomsStatus.OPEN and at > self.application_by
        ):
            return DeclarationFate.LAPSED
        return DeclarationFate.PENDING

    def lapse(self, at: datetime) -> bool:
        """An open declaration past day 30 can no longer be made: it lapses, once (True when
        this call lapsed it)."""
        if self.status is not CustomsStatus.OPEN or at <= self.application_by:
            return False
        self.status = CustomsStatus.LAPSED
        self._event(
            "customs.lapsed",
            at,
            application_by=self.application_by.isoformat(),
            return_ids=self.return_ids,
        )
        return True

    def paid_tax_of(self, return_id: str) -> bool:
        """Whether this declaration's settlement gave back the tax of ``return_id``."""
        return self.status is CustomsStatus.SETTLED and return_id in self.tax_paid_for

    @property
    def value_fen(self) -> int:
        return sum(line.value_fen for line in self.lines)

    @property
    def tax_fen(self) -> int:
        return sum(line.tax_fen for line in self.lines)

    def add_lines(self, lines: Sequence[CustomsLine], at: datetime) -> None:
        """Returned lines join the declaration while it is still open and declarable."""
        if self.status is not CustomsStatus.OPEN:
            raise IllegalTransition("customs_return", self.status.value, "add_lines")
        fresh = [ln for ln in lines if ln.return_id not in self.return_ids]
        if not fresh:
            return
        self.lines.extend(fresh)
        self._event(
            "customs.lines_added",
            at,
            return_ids=sorted({ln.return_id for ln in fresh}),
            value_fen=sum(ln.value_fen for ln in fresh),
        )

    def follow_return(self, return_id: str, lines: Sequence[CustomsLine], at: datetime) -> bool:
        """A return's lines as they now stand (the courier took fewer units at the door) go
        on a declaration not sent yet, never more than it holds (True when they changed)."""
        mine = [ln for ln in self.lines if ln.return_id == return_id]
        if self.status is not CustomsStatus.OPEN or not mine or list(lines) == mine:
            return False
        held = {ln.order_line_id: ln.quantity for ln in mine}
        if any(
            ln.return_id != return_id or ln.quantity > held.get(ln.order_line_id, 0) for ln in lines
        ):
            raise ValueError("a declaration follows its return's lines down, never up")
        self.lines = [ln for ln in self.lines if ln.return_id != return_id] + list(lines)
        self._event(
            "customs.lines_reduced",
            at,
            return_id=return_id,
            lines={ln.order_line_id: ln.quantity for ln in lines},
            value_fen=sum(ln.value_fen for ln in lines),
        )
        return True

    def withdraw_return(self, return_id: str, at: datetime) -> None:
        """A withdrawn or refused return leaves a declaration that was not sent yet."""
        if self.status is not CustomsStatus.OPEN or return_id not in self.return_ids:
            return
        self.lines = [ln for ln in self.lines if ln.return_id != return_id]
        self._event("customs.lines_removed", at, return_id=return_id)

    def submit(self, at: datetime) -> None:
        """Hand the declaration to the broker; too late after day 30 of release."""
        if self.status is not CustomsStatus.OPEN:
            raise IllegalTransition("customs_return", self.status.value, "submit")
        if not self.lines:
            raise Conflict(
                "customs_nothing_to_declare",
                "The declaration has no returned lines.",
                "该申报没有退货商品。",
            )
        if at > self.application_by:
            raise Conflict(
                "customs_application_expired",
                f"Declarable until {self.application_by.isoformat()} (30 days after release).",
                f"申报截止时间 {self.application_by.isoformat()}（放行后 30 天）已过。",
                application_by=self.application_by.isoformat(),
            )
        self.status, self.submitted_at = CustomsStatus.SUBMITTED, at
        self._event("customs.submitted", at, lines=len(self.lines), value_fen=self.value_fen)

    def answer(self, verdict: BrokerVerdict, ref: str, at: datetime, reason: str = "") -> bool:
        """The broker's answer; a repeated or late answer changes nothing (False)."""
        if self.status is not CustomsStatus.SUBMITTED or verdict is BrokerVerdict.PENDING:
            return False
        self.broker_ref, self.answered_at = ref, at
        if verdict is BrokerVerdict.ACCEPTED:
            self.status = CustomsStatus.ACCEPTED
            self._event("customs.accepted", at, broker_ref=ref)
        else:
            self.status, self.rejection = CustomsStatus.REJECTED, reason or "rejected"
            self._event("customs.rejected", at, broker_ref=ref, reason=self.rejection)
        return True

    def settle(
        self,
        tax_refund_fen: int,
        quota_restored_fen: int,
        at: datetime,
        *,
        tax_paid_for: tuple[str, ...] = (),
        quota_restored_for: tuple[str, ...] = (),
        awaited: tuple[str, ...] = (),
    ) -> None:
        """Tax and quota given back, once: a second settlement is refused. ``tax_paid_for``
        names the returns whose tax this settlement pays (none of theirs is paid again),
        ``quota_restored_for`` those whose units it gives the annual total back for,
        ``awaited`` those it left out still on their way (forced before day 45)."""
        if self.status is not CustomsStatus.ACCEPTED:
            raise IllegalTransition("customs_return", self.status.value, "settle")
        if tax_refund_fen < 0 or quota_restored_fen < 0:
            raise ValueError("settled amounts are not negative")
        if not set(tax_paid_for) <= set(self.return_ids) or bool(tax_paid_for) != bool(
            tax_refund_fen
        ):
            raise ValueError("tax is paid for returns of this declaration, and only with an amount")
        if not set(quota_restored_for) <= set(self.return_ids) or bool(quota_restored_for) != bool(
            quota_restored_fen
        ):
            raise ValueError("quota goes back for returns of this declaration, with an amount")
        if not set(awaited) <= set(self.return_ids):
            raise ValueError("only returns of this declaration are awaited")
        self.status = CustomsStatus.SETTLED
        self.awaited = tuple(sorted(awaited))
        self.tax_refund_fen, self.quota_restored_fen = tax_refund_fen, quota_restored_fen
        self.tax_paid_for = tuple(sorted(tax_paid_for))
        self.quota_restored_for = tuple(sorted(quota_restored_for))
        self._event(
            "customs.settled",
            at,
            tax_refund_fen=tax_refund_fen,
            quota_restored_fen=quota_restored_fen,
            tax_paid_for=list(self.tax_paid_for),
        )

    def restore_quota_of(self, return_id: str, value_fen: int, at: datetime) -> bool:
        """After the settlement: a return it gave no quota back for (an exchange then, whose
        replacement was to be imported in its place, now a refund; or one still on its way
        when ops forced the settlement, now back) gives its declared units, back in time,
        to the annual total now (True), once."""
        if (
            self.status is not CustomsStatus.SETTLED
            or return_id not in self.return_ids
            or return_id in self.quota_restored_for
            or value_fen <= 0
        ):
            return False
        self.quota_restored_fen += value_fen
        self.quota_restored_for = tuple(sorted((*self.quota_restored_for, return_id)))
        self._event("customs.quota_restored", at, return_id=return_id, value_fen=value_fen)
        return True

    def pay_tax_of(self, return_id: str, tax_fen: int, at: datetime) -> bool:
        """After the settlement: a return it paid no tax for whose goods went back by day 45
        with nothing to carry their tax (no refund: its QC failed, or an exchange released
        by a lost dispute) has its withheld tax given back now (True), once: from then on
        the settlement counts as having paid it (``paid_tax_of``), so a refund quoted later
        leaves it out."""
        if (
            self.status is not CustomsStatus.SETTLED
            or return_id not in self.return_ids
            or return_id in self.tax_paid_for
            or tax_fen <= 0
        ):
            return False
        self.tax_refund_fen += tax_fen
        self.tax_paid_for = tuple(sorted((*self.tax_paid_for, return_id)))
        self._event("customs.tax_paid", at, return_id=return_id, tax_fen=tax_fen)
        return True

    def stop_awaiting(self, return_ids: Sequence[str]) -> bool:
        """These returns arrived, went, or missed day 45 and were dealt with: no longer
        watched (True when one was)."""
        left = tuple(r for r in self.awaited if r not in set(return_ids))
        if left == self.awaited:
            return False
        self.awaited = left
        return True

    def stop_watching(self, lost: Sequence[str], at: datetime) -> bool:
        """Day 45 has passed: none of the awaited returns is watched any more; ``lost`` are
        those that never came (any tax advanced for them taken back). True when one was
        awaited."""
        if not self.awaited:
            return False
        self.awaited = ()
        self._event("customs.arrival_missed", at, return_ids=sorted(lost))
        return True

    def next_deadline(self, arrived: bool) -> tuple[str, datetime] | None:
        """The deadline still ahead: applying (until submitted), then the goods' arrival."""
        if self.status is CustomsStatus.OPEN:
            return "application", self.application_by
        if self.status in (CustomsStatus.SUBMITTED, CustomsStatus.ACCEPTED) and not arrived:
            return "arrival", self.arrival_by
        return None

    def alert(self, deadline: str, due: datetime, at: datetime) -> bool:
        """Tell ops a deadline is near, once per deadline (True when this call told them)."""
        if deadline in self.alerts:
            return False
        self.alerts.append(deadline)
        self._event("customs.deadline_alert", at, deadline=deadline, due=due.isoformat())
        return True
