"""The ops outlook of coming days: each open window's bookings against its capacity, the same
weekday of past weeks (domain/outlook.py) and the return wave of orders already signed for
(domain/return_wave.py). Read-only, in the caller's unit of work, in a fixed number of
statements whatever the number of areas, windows, orders and returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from doorstep.domain import return_wave
from doorstep.domain.clock import local
from doorstep.domain.coverage import ServiceArea, SlotTemplate
from doorstep.domain.errors import InvalidInput
from doorstep.domain.fleet import Carrier
from doorstep.domain.outlook import WindowOutlook, same_weekdays
from doorstep.domain.pickup import SlotRef
from doorstep.domain.return_wave import WaveModel
from doorstep.services.context import Services
from doorstep.services.offering import slot_capacity
from doorstep.services.ports import SlotLoad, UnitOfWork


@dataclass(frozen=True)
class AreaDay:
    """One district's coming day in sums over its open windows."""

    booked: int
    capacity: int
    weekday_mean: float  # the same weekday of past weeks
    wave: float | None  # pickups the return wave expects (None: no history to learn from)
    requests: float | None  # return requests the wave expects that day


@dataclass(frozen=True)
class Outlook:
    """Coming days' windows per district, with the district sums and the model behind them."""

    days: tuple[date, ...]
    windows: dict[date, dict[str, list[WindowOutlook]]]  # day → adcode → open windows
    areas: dict[date, dict[str, AreaDay]]
    names: dict[str, tuple[str, str]]  # adcode → (zh, en)
    model: WaveModel | None


def templates_of(
    area: ServiceArea, carriers: dict[str, Carrier], templates: dict[str, SlotTemplate]
) -> list[tuple[str, SlotTemplate]]:
    """Each carrier of a pickup area with the template it runs there (as ``template_for``)."""
    if not area.serves_pickup:
        return []
    out = []
    for carrier_id in area.carrier_ids:
        carrier = carriers.get(carrier_id)
        template = templates.get(carrier.template_id if carrier else area.template_id)
        if template is not None:
            out.append((carrier_id, template))
    return out


Signed = dict[tuple[str, date], int]
Booked = dict[tuple[str, str, str], int]


def wave_model(uow: UnitOfWork, today: date) -> tuple[WaveModel | None, Signed, Booked, Signed]:
    """The return wave learned from orders signed over ``LEARN_DAYS`` that ended
    ``MAX_LAG`` days before ``today`` (their returns are all in); the signings per district
    and day since, to forecast with; the bookings per window of the last ``LEARN_DAYS``
    (pickup and window shares); the booking lead of the requests opened over the learning
    days (their pickups are all booked by now); the requests opened per district and day
    from ``LEARN_DAYS`` before today to today (the pickup share, and the counted requests
    of days already begun): five grouped reads."""
    learn_last = today - timedelta(days=return_wave.MAX_LAG + 1)
    learn_first = learn_last - timedelta(days=return_wave.LEARN_DAYS - 1)
    recent_first = today - timedelta(days=return_wave.LEARN_DAYS)
    recent_last = today - timedelta(days=1)
    signed = uow.wave.signed(learn_first, today)
    learned: dict[str, int] = {}
    for (adcode, day), n in signed.items():
        if day <= learn_last:
            learned[adcode] = learned.get(adcode, 0) + n
    by_window = uow.wave.booked(recent_first, recent_last)
    booked: dict[str, int] = {}
    for (adcode, _, _), n in by_window.items():
        booked[adcode] = booked.get(adcode, 0) + n
    # One read of the requests opened per day up to today: the days before it give the
    # pickup share, the days of the booking lead still ahead are counted, not forecast.
    opened = uow.wave.opened(recent_first, today)
    opened_recent: dict[str, int] = {}
    for (adcode, day), n in opened.items():
        if day <= recent_last:
            opened_recent[adcode] = opened_recent.get(adcode, 0) + n
    model = return_wave.learn(
        learned,
        uow.wave.return_lags(learn_first, learn_last),
        opened_recent,
        booked,
        uow.wave.booking_leads(learn_first, learn_last),
    )
    return model, signed, by_window, opened


def read(uow: UnitOfWork, now: datetime, today: date, days: Sequence[date]) -> Outlook:
    """The outlook of ``days`` (each after ``today``, at most ``MAX_DAYS_AHEAD`` on)."""
    areas = uow.areas.list()
    # Carriers, templates and counters are read once for every area, not once per area.
    carriers = {c.carrier_id: c for c in uow.carriers.list()}
    templates = {t.template_id: t for t in uow.templates.list()}
    wanted: dict[int, list[SlotRef]] = {}  # nominal capacity → windows (the default)
    for area in areas:
        for carrier_id, template in templates_of(area, carriers, templates):
            wanted.setdefault(slot_capacity(area, template), []).extend(
                SlotRef(area.adcode, carrier_id, day, w) for day in days for w in template.windows
            )
    loads: dict[SlotRef, SlotLoad] = {}
    for capacity, refs in wanted.items():
        loads |= uow.slots.loads(refs, capacity)
    # The same windows on the same weekday of past weeks, in one read: a window with no
    # counter that day took no booking (capacity 0 here: it was never full).
    weeks = {day: same_weekdays(day) for day in days}
    past = uow.slots.loads(
        [replace(ref, day=d) for refs in wanted.values() for ref in refs for d in weeks[ref.day]],
        0,
    )
    model, signed, by_window, opened = wave_model(uow, today)
    pickup_areas = [a.adcode for a in areas if a.serves_pickup]
    # A coming day's windows take the pickups of its own requests and of those opened up to
    # MAX_LEAD days before (the booking lead): those already past are counted, today's so
    # far floor its forecast. The wave is the windows' final bookings, set against capacity
    # (not added to what is booked), so requests that already booked still count in it.
    expected = (
        return_wave.requests(
            model, signed, today, return_wave.request_days(days), pickup_areas, opened
        )
        if model
        else {}
    )
    windows: dict[date, dict[str, list[WindowOutlook]]] = {day: {} for day in days}
    sums: dict[date, dict[str, AreaDay]] = {day: {} for day in days}
    for area in areas:
        if not area.serves_pickup:
            continue
        offered = templates_of(area, carriers, templates)
        keys = [f"{c} {w.start:%H:%M}" for c, t in offered for w in t.windows]
        shares = return_wave.window_shares(
            {f"{c} {s}": n for (a, c, s), n in by_window.items() if a == area.adcode}, keys
        )
        for day in days:
            requests = expected.get((area.adcode, day)) if model else None
            area_pickups = (
                return_wave.pickups(
                    model, area.adcode, return_wave.booking(model, expected, area.adcode, day)
                )
                if model
                else None
            )
            rows = []
            for carrier_id, template in offered:
                for window in template.windows:
                    ref = SlotRef(area.adcode, carrier_id, day, window)
                    load = loads[ref]
                    # Only windows a buyer could be offered: some capacity, not yet over.
                    if load.capacity <= 0 or ref.ends_at <= now:
                        continue
                    history = [past[replace(ref, day=d)] for d in weeks[day]]
                    share = shares.get(f"{carrier_id} {window.start:%H:%M}", 0.0)
                    rows.append(
                        WindowOutlook(
                            f"{carrier_id.upper()} {window.label}",
                            load.booked,
                            load.capacity,
                            tuple((h.booked, h.capacity) for h in history),
                            None if area_pickups is None else area_pickups * share,
                        )
                    )
            windows[day][area.adcode] = rows
            sums[day][area.adcode] = AreaDay(
                booked=sum(w.booked for w in rows),
                capacity=sum(w.capacity for w in rows),
                weekday_mean=sum(w.expected for w in rows),
                wave=None if area_pickups is None else sum(w.wave or 0.0 for w in rows),
                requests=requests,
            )
    return Outlook(
        days=tuple(days),
        windows=windows,
        areas=sums,
        names={a.adcode: (a.name_zh, a.name_en) for a in areas},
        model=model,
    )


# The API's reach: the wave of orders signed today reaches its peak within a week.
MAX_DAYS = 7


def coming(svc: Services, days: int, adcode: str | None = None) -> tuple[date, Outlook]:
    """Today and the outlook of the ``days`` days after it (1 … ``MAX_DAYS``), for every
    district or for ``adcode`` only (an unknown district has no rows)."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(
            "days_out_of_range",
            f"days must be 1 to {MAX_DAYS}.",
            f"天数须在 1 到 {MAX_DAYS} 之间。",
        )
    now = svc.clock.now()
    today = local(now).date()
    with svc.uow() as uow:
        found = read(uow, now, today, [today + timedelta(days=n) for n in range(1, days + 1)])
    if adcode is None:
        return today, found
    return today, replace(
        found,
        windows={
            d: {a: w for a, w in by.items() if a == adcode} for d, by in found.windows.items()
        },
        areas={d: {a: v for a, v in by.items() if a == adcode} for d, by in found.areas.items()},
    )
