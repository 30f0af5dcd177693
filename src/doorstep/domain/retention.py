"""How long a departed buyer's personal information is kept, and what is left of it after.

The law (architecture.md, "Retention and erasure"): the E-Commerce Law art. 31 keeps goods,
service and transaction information at least three years from the transaction's
completion; PIPL art. 47 then wants the personal information deleted, the account being
closed. So a buyer whose last account was deleted keeps their records for the retention
period after their last transaction completed, and is then erased: the personal fields go,
the transaction facts (ids, amounts, dates, statuses, SKUs, the district's adcode) stay for
accounting, customs and the console's statistics.

A transaction completes with its last fact: the order's signature, loss or customs release;
a return's refund paid, its exchange shipped, its inspection, its decision; a claim decided
or compensated; a transfer (difference, tax, clawback, compensation) settled. The sweep only
erases a buyer with nothing of theirs open (``open_matters``), so every fact is final.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from doorstep.domain.address import Address
from doorstep.domain.carrier_order import Party
from doorstep.domain.clock import local, start_of_day

# What an erased text field reads: the same in every language, so a report or an export in
# either shows that something was there and was erased on purpose, not lost.
ERASED = "已删除 / erased"
# A phone hidden whole: the masked forms elsewhere keep the first three and last four digits,
# which with a district still narrow a person down.
ERASED_PHONE = "***********"
# E-Commerce Law art. 31's minimum: a setting may keep records longer, never shorter.
MIN_YEARS = 3
MAX_YEARS = 30


@dataclass(frozen=True)
class RetentionRule:
    """How many years after a departed buyer's last completed transaction their personal
    information is erased."""

    years: int = MIN_YEARS

    def __post_init__(self) -> None:
        if not MIN_YEARS <= self.years <= MAX_YEARS:
            raise ValueError(
                f"retention is {MIN_YEARS} to {MAX_YEARS} years (E-Commerce Law art. 31's "
                f"minimum is {MIN_YEARS}), got {self.years}"
            )

    def due(self, completed_at: datetime) -> datetime:
        """When the records of a transaction completed at ``completed_at`` may lose their
        personal information: the start (00:00 Shanghai) of the day after the anniversary of
        its Shanghai day, so the whole period has passed on any clock in China. A 29 February
        has its anniversary on 1 March of a common year (28 February would be a day short)."""
        day = local(completed_at).date()
        return start_of_day(anniversary(day, self.years) + timedelta(days=1))


def anniversary(day: date, years: int) -> date:
    """``day`` ``years`` later; 29 February becomes 1 March when that year has none."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def completed_at(moments: Iterable[datetime | None]) -> datetime | None:
    """The buyer's last transaction fact: the latest of the times given (None: none)."""
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def erased_address(address: Address) -> Address:
    """What a record keeps of an address: the district (its adcode and names, what the
    console's statistics, the carriers' settlements and customs count by), nothing that
    finds the door or the person. The street and number, the contact's name and phone and
    the coordinates (which find the door as well as the street does) are erased."""
    return replace(
        address,
        detail=ERASED,
        contact_name=ERASED,
        contact_phone=ERASED_PHONE,
        lat=None,
        lon=None,
    )


# Decimal places a courier route keeps of an erased buyer's door: two are about a kilometre,
# the neighbourhood a route's distances and the planner's statistics need, not the door.
COARSE_PLACES = 2


def coarse(degrees: float) -> float:
    """A coordinate of an erased buyer's door as routes keep it (``COARSE_PLACES``)."""
    return round(degrees, COARSE_PLACES)


def erased_party(party: Party) -> Party:
    """What a pickup order keeps of its sender (the buyer): the district, as for an address;
    the name, mobile, street, town and the address as the buyer typed it are erased."""
    return replace(
        party,
        name=ERASED,
        mobile=ERASED_PHONE,
        detail=ERASED,
        town="",
        raw_text="",
    )


def is_erased(address: Address) -> bool:
    """Whether ``address`` is what ``erased_address`` leaves (so a second pass skips it)."""
    return address == erased_address(address)


@dataclass(frozen=True)
class PersonalValues:
    """The strings of one buyer that copies elsewhere (event payloads, messages sent, the
    courier companies' exchanges) may carry; those are found and replaced by value."""

    values: frozenset[str]

    @classmethod
    def of(
        cls, names: Iterable[str], phones: Iterable[str], others: Iterable[str]
    ) -> PersonalValues:
        """Names, phones (with their masked forms, as waybills and the exchange journal
        print them) and other texts (street addresses, e-mail), empty and erased ones left
        out. Names of one character are left out too: replaced by value they would erase
        unrelated text."""
        found: set[str] = set()
        for name in names:
            if len(name.strip()) > 1:
                found.add(name.strip())
        for phone in phones:
            p = phone.strip()
            if len(p) >= 8 and p != ERASED_PHONE:
                found |= {p, p[:3] + "****" + p[-4:]}
        found |= {o.strip() for o in others if len(o.strip()) > 1}
        found -= {ERASED, ERASED_PHONE}
        return cls(frozenset(found))

    def scrub(self, value: object) -> object:
        """A copy of a JSON-like value with every string that holds one of the values
        replaced whole by ``ERASED`` (a text with a name in it is the person's text)."""
        if isinstance(value, dict):
            return {k: self.scrub(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub(v) for v in value]
        if isinstance(value, str) and self.holds(value):
            return ERASED
        return value

    def holds(self, text: str) -> bool:
        """Whether ``text`` carries one of the values."""
        return any(v in text for v in self.values)
