"""Write paths that moved quantities or capacity without a race (audit of 2026-12-02), raced by
24 units of work at once on SQLite and PostgreSQL, with the invariants read back in SQL:

- a partner re-importing an order while buyers claim its units (POST /partner/orders against
  POST /returns): a re-import never takes back units, prices or tax that returns hold;
- disruptions declared at once with bookings into the windows they shrink (POST
  /ops/disruptions, its lift, POST /returns/{id}/pickup): each window's counter equals the
  visits holding it, never above its capacity, and the capacity is what the harshest live
  disruption leaves;
- a courier's failed attempt raced with the buyer's cancel and move of the same visit (POST
  /courier/tasks/{id}/fail, /appointments/{id}/cancel, /reschedule): one failure at most,
  counters equal to the visits holding each window;
- template capacity edits up and down at once with bookings and area edits (PUT
  /ops/templates/{id}, PUT /ops/areas/{adcode}, POST /returns/{id}/pickup): replayed in commit
  order, no booking beyond the capacity in force when it was taken, every edit moved every
  counted window and has its event.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from itertools import cycle

import pytest
from sqlalchemy import text
from tests.integration import test_partial_pickup_race as partial  # type: ignore[import-not-found]
from tests.integration.races import (  # type: ignore[import-not-found]
    RACERS,
    RecordingPayments,
    race,
    violations,
)
from tests.integration.test_races import (  # type: ignore[import-not-found]
    BOOKING,
    _approved,
    _claim,
    _orders,
    _yto,
)

from doorstep.bootstrap import App
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.decision import ReturnMethod
from doorstep.domain.disruption import DisruptionKind
from doorstep.domain.errors import Conflict
from doorstep.domain.inspection import UnitAnswer
from doorstep.domain.order import OrderLine
from doorstep.domain.pickup import FailureReason
from doorstep.domain.returns import ReturnKind
from doorstep.services import catalog, courier, disruptions, photos, pickup, returns
from doorstep.services.disruptions import DisruptionReport
from doorstep.services.offering import template_for

BUYER = "buyer-001"
TOMORROW = date(2026, 11, 26)
DAY_AFTER = date(2026, 11, 27)


@pytest.fixture
def payments() -> RecordingPayments:
    """The local provider, recording every call (the ``wired`` app pays through it)."""
    return RecordingPayments()


def _clean(app: App, payments: RecordingPayments) -> None:
    assert violations(app, payments) == []


# --- re-imported orders against claims -----------------------------------------------------------


def test_reimports_raced_with_claims_never_take_back_held_units(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    for _ in range(2):
        [order] = _orders(wired, 1, quantity=3)
        line = order.lines[0]
        shrunk = replace(order, lines=(replace(line, quantity=1),))
        repriced = replace(order, lines=(replace(line, unit_price_fen=line.unit_price_fen * 9),))
        grown = replace(order, lines=(replace(line, quantity=5),))
        calls = cycle(
            [
                lambda o=order: _claim(wired, o),
                lambda o=shrunk: catalog.import_orders(svc, [o], "shop-cn-home"),
                lambda o=order: _claim(wired, o, ReturnKind.REFUND_ONLY),
                lambda o=repriced: catalog.import_orders(svc, [o], None),
                lambda o=grown: catalog.import_orders(svc, [o], "shop-cn-home"),
            ]
        )
        out = race([next(calls) for _ in range(RACERS)])
        assert set(out.codes) <= {"quantity_already_claimed", "order_line_held", "stale_write"}, (
            out.codes
        )
        # The stored line still covers every claim that won (also checked in SQL below).
        claimed = sum(1 for w in out.won if not isinstance(w, int))
        assert claimed >= 1
        with svc.uow() as uow:
            stored = uow.orders.get(order.order_id)
        assert stored is not None
        assert stored.lines[0].quantity >= claimed
    _clean(wired, payments)


def test_a_reimport_may_not_drop_a_held_line(wired: App, payments: RecordingPayments) -> None:
    [order] = _orders(wired, 1, quantity=2)
    _claim(wired, order)
    other = OrderLine("L2", order.lines[0].sku, 1, order.lines[0].unit_price_fen)
    with pytest.raises(Conflict) as refused:
        catalog.import_orders(wired.services, [replace(order, lines=(other,))], None)
    assert refused.value.code == "order_line_held"
    assert refused.value.message_zh and refused.value.message_en
    _clean(wired, payments)


# --- disruptions against bookings ------------------------------------------------------------------


def _declare(app: App, pct: int, start_h: int, end_h: int) -> Callable[[], DisruptionReport]:
    def declare() -> DisruptionReport:
        return disruptions.declare_disruption(
            app.services,
            "ops-001",
            DisruptionKind.ROAD_CLOSURE,
            ["310104"],
            datetime(2026, 11, 26, start_h, 0, tzinfo=SHANGHAI),
            datetime(2026, 11, 26, end_h, 0, tzinfo=SHANGHAI),
            pct,
            "Road works",
            "道路施工",
        )

    return declare


def _window(app: App, start: str) -> tuple[int, int]:
    with app.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT capacity, booked FROM slot_capacity WHERE adcode = '310104' "
                "AND carrier_id = 'yto' AND day = :d AND start = :s"
            ),
            {"d": TOMORROW, "s": start},
        ).one()
    return int(row.capacity), int(row.booked)


def _harshest(app: App, start_h: int) -> int:
    """The lowest share any live disruption of the area leaves the window starting at
    ``start_h`` tomorrow (read in SQL from what was committed)."""
    with app.engine.connect() as conn:
        rows = conn.execute(text("SELECT doc FROM disruptions")).scalars().all()
    window_start = datetime(2026, 11, 26, start_h, 0, tzinfo=SHANGHAI)
    window_end = window_start + timedelta(hours=2)  # yto's windows are two hours long
    shares = [100]
    for doc in rows:
        body = doc if isinstance(doc, dict) else json.loads(doc)
        if body.get("lifted_at"):
            continue
        starts = datetime.fromisoformat(body["starts_at"])
        ends = datetime.fromisoformat(body["ends_at"])
        if starts < window_end and ends > window_start:
            shares.append(int(body["capacity_pct"]))
    return min(shares)


def test_disruptions_declared_while_buyers_book_keep_counters_and_shares(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    for rid in _approved(wired, 6):
        pickup.book_pickup(svc, BUYER, rid, _yto(9))
    full, _ = _window(wired, "09:00")
    earlier = _declare(wired, 10, 9, 10)()  # lifted twice in the race: in force for nobody
    waiting = _approved(wired, 12)
    calls = [lambda r=r: pickup.book_pickup(svc, BUYER, r, _yto(9)) for r in waiting]
    lift = earlier.disruption.disruption_id
    calls += [lambda: disruptions.lift_disruption(svc, "ops-002", lift)] * 2
    calls += [_declare(wired, pct, 8, 11) for pct in (70, 50, 30, 50, 70)]
    calls += [_declare(wired, pct, 10, 13) for pct in (40, 60, 20, 80, 40)]
    out = race(calls)
    assert set(out.codes) <= BOOKING, out.codes
    assert _events(wired, lift, "disruption.lifted") == 1
    capacity, booked = _window(wired, "09:00")
    assert capacity == full * _harshest(wired, 9) // 100, (capacity, full)
    assert booked <= capacity
    capacity, _ = _window(wired, "11:00")
    assert capacity == full * _harshest(wired, 11) // 100
    _clean(wired, payments)


def test_lifting_one_disruption_keeps_the_share_of_another_on_the_same_window(
    wired: App, payments: RecordingPayments
) -> None:
    """Found by the race above: a lift re-read only the disruptions overlapping its own hours,
    so lifting a 9-10 closure gave the 9-11 window its full capacity back although a 10-13
    closure still cut it to a fifth."""
    short = _declare(wired, 10, 9, 10)()
    _declare(wired, 20, 10, 13)()
    disruptions.lift_disruption(wired.services, "ops-001", short.disruption.disruption_id)
    full = 10  # the seeded two-hour template's capacity
    assert _window(wired, "09:00")[0] == full * 20 // 100
    _clean(wired, payments)


# --- a failed attempt against the buyer's cancel and move -------------------------------------------


def _events(app: App, appointment_id: str, name: str) -> int:
    with app.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT COUNT(*) FROM events WHERE aggregate_id = :a AND name = :n"),
                {"a": appointment_id, "n": name},
            ).scalar_one()
        )


def test_failed_attempts_raced_with_cancels_and_moves_keep_counters(
    wired: App, payments: RecordingPayments
) -> None:
    svc = wired.services
    for hour, rid in zip((9, 11, 13), _approved(wired, 3), strict=True):
        appt = pickup.book_pickup(svc, BUYER, rid, _yto(hour))
        cid, aid = appt.courier_id, appt.appointment_id
        assert cid is not None
        courier.arrive(svc, cid, aid)
        calls = cycle(
            [
                lambda c=cid, a=aid: courier.fail_attempt(
                    svc, c, a, FailureReason.BUYER_UNREACHABLE, "rang twice"
                ),
                lambda a=aid: pickup.cancel_pickup(svc, BUYER, a),
                lambda a=aid, h=hour: pickup.reschedule_pickup(svc, BUYER, a, _yto(h + 4)),
            ]
        )
        out = race([next(calls) for _ in range(RACERS)])
        assert set(out.codes) <= BOOKING | {"not_your_task"}, out.codes
        assert _events(wired, aid, "appointment.cancelled") <= 1
    # Each failure counts in its window after the visit moved or was cancelled, once per
    # stay there (``races.violations``).
    _clean(wired, payments)


# --- the door inspection against the pickup ------------------------------------------------------


def test_inspections_raced_with_the_pickup_take_the_units_once(
    wired: App, payments: RecordingPayments
) -> None:
    """Inspections that take three units or two race the pickup of the same visit: the return
    picked up holds exactly the units of the inspection it was picked up with, and its express
    refund is exactly their price."""
    svc = wired.services
    for hour in (10, 12):
        order = partial._order(wired)
        rid = partial._claim(wired, order, 3).return_id
        appt = pickup.book_pickup(svc, BUYER, rid, pickup.SlotChoice("sf", TOMORROW, time(hour)))
        cid, aid = appt.courier_id, appt.appointment_id
        assert cid is not None
        courier.arrive(svc, cid, aid)
        shots = [photos.upload_photo(svc, cid, partial._jpeg()).photo_id for _ in range(3)]

        def inspect(
            refuse: int | None, c: str = cid, a: str = aid, r: str = rid, shots: list[str] = shots
        ) -> object:
            units = tuple(
                UnitAnswer(
                    partial.CHECKS | {"appearance_ok": n != refuse}, partial.BARCODE, (shots[n],)
                )
                for n in range(3)
            )
            answer = courier.InspectionInput(
                r, {}, (), 3_000, "", (courier.LineAnswer("L1", units),)
            )
            return courier.inspect(svc, c, a, answer)

        calls = cycle(
            [
                lambda: inspect(None),
                lambda: inspect(1),
                lambda c=cid, a=aid, k=appt.pickup_code: courier.pick_up(svc, c, a, k),
            ]
        )
        out = race([next(calls) for _ in range(RACERS)])
        assert set(out.codes) <= partial.PICKUP_LOST | {"not_inspected", "inspection_missing"}, (
            out.codes
        )
    assert partial._held_match_inspection(wired.engine) == []
    _clean(wired, payments)


def test_an_inspection_that_waited_behind_the_pickup_is_told_the_visit_is_over(
    wired: App, payments: RecordingPayments, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interleaving the race above meets under load, made to happen: a new inspection
    reads the visit (arrived), then the pickup of an earlier inspection (two units of three)
    commits before the inspection takes the return's lock. Reading the visit only before the
    lock, the inspection judged its three units against a return cut to two and answered
    ``inspection_units_mismatch`` (invalid input, for a request that was valid when sent);
    it must be told the visit is over."""
    if wired.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's BEGIN IMMEDIATE serialises the two: the interleaving cannot happen")
    svc = wired.services
    order = partial._order(wired)
    rid = partial._claim(wired, order, 3).return_id
    appt = pickup.book_pickup(svc, BUYER, rid, pickup.SlotChoice("sf", TOMORROW, time(10)))
    cid, aid = appt.courier_id, appt.appointment_id
    assert cid is not None
    courier.arrive(svc, cid, aid)
    shots = [photos.upload_photo(svc, cid, partial._jpeg()).photo_id for _ in range(3)]

    def answer(refuse: int | None) -> courier.InspectionInput:
        units = tuple(
            UnitAnswer(
                partial.CHECKS | {"appearance_ok": n != refuse}, partial.BARCODE, (shots[n],)
            )
            for n in range(3)
        )
        return courier.InspectionInput(rid, {}, (), 3_000, "", (courier.LineAnswer("L1", units),))

    courier.inspect(svc, cid, aid, answer(1))  # two units taken
    locking = courier.lock_return

    def pickup_first(uow: object, return_id: str) -> object:
        monkeypatch.setattr(courier, "lock_return", locking)
        courier.pick_up(svc, cid, aid, appt.pickup_code)  # its own transaction, committed
        return locking(uow, return_id)  # type: ignore[arg-type]

    monkeypatch.setattr(courier, "lock_return", pickup_first)
    with pytest.raises(Conflict) as refused:
        courier.inspect(svc, cid, aid, answer(None))  # all three: a different inspection
    assert refused.value.code == "visit_already_picked_up"
    assert partial._held_match_inspection(wired.engine) == []
    _clean(wired, payments)


# --- coverage edited while buyers book -----------------------------------------------------------


def _counter(app: App, start: str) -> tuple[int, int]:
    with app.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT capacity, booked FROM slot_capacity WHERE adcode = '310104' "
                "AND carrier_id = 'yto' AND day = :d AND start = :s"
            ),
            {"d": DAY_AFTER, "s": start},
        ).one()
    return int(row.capacity), int(row.booked)


def _bookings_and_edits(app: App, after: int) -> list[tuple[str, dict[str, object]]]:
    """Bookings and template and area saves committed after event ``after``, in commit
    order (a booking shares its area until commit and an edit locks it, and bookings of one
    window hold its counter's row lock while they write their event, so their order in
    ``seq`` is the order they counted in)."""
    with app.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT name, data FROM events WHERE seq > :s AND name IN "
                "('appointment.booked', 'slot_template.saved', 'service_area.saved') ORDER BY seq"
            ),
            {"s": after},
        ).all()
    return [(name, data if isinstance(data, dict) else json.loads(data)) for name, data in rows]


def _last_seq(app: App) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM events")).scalar_one())


def test_area_and_template_capacity_edits_raced_with_bookings_move_live_counters(
    wired: App, payments: RecordingPayments
) -> None:
    """Ops raise and lower the template's capacity (2 to 16) and the area's override (5,
    none, 9) while buyers book two windows that already have counters and one that has
    none: every edit moves the existing counters (the debts were that a template edit, then
    an area edit, reached only windows not counted yet), and a counter created during the
    race starts at the figure in force. Replayed in commit order, no booking was taken
    beyond the capacity in force when it was taken, each edit saw every booking before it,
    and each counter ends at the last edit's figure with booked equal to its visits.
    Lowering below the bookings cancels none."""
    svc = wired.services
    with svc.uow() as uow:
        area = uow.areas.get("310104")
        assert area is not None
        template = template_for(uow, area, "yto")
    assert template is not None
    windows = {"09:00": time(9), "11:00": time(11), "13:00": time(13)}
    for start in (9, 9, 9, 11):  # 09:00 and 11:00 have counters before the race, 13:00 not
        [rid] = _approved(wired, 1)
        pickup.book_pickup(svc, BUYER, rid, pickup.SlotChoice("yto", DAY_AFTER, time(start)))
    override, nominal = area.capacity_override, template.capacity
    figure = dict.fromkeys(windows, nominal if override is None else override)
    count = {"09:00": 3, "11:00": 1, "13:00": 0}
    counted = {"09:00", "11:00"}
    assert {s: _counter(wired, s) for s in counted} == {s: (figure[s], count[s]) for s in counted}
    seq = _last_seq(wired)
    capacities, overrides = (2, 14, 4, 12, 3, 16), (5, None, 9)
    waiting = _approved(wired, RACERS - len(capacities))
    calls: list[Callable[[], object]] = [
        lambda r=r, h=h: pickup.book_pickup(svc, BUYER, r, pickup.SlotChoice("yto", DAY_AFTER, h))
        for r, h in zip(waiting, cycle(windows.values()), strict=False)
    ]
    # Half the edits are the API's (the whole record put), half the console's (the stored
    # record changed under the edit's lock): both move the same counters.
    calls += [
        lambda n=n: catalog.upsert_template(svc, replace(template, capacity=n))
        for n in capacities[::2]
    ]
    calls += [
        lambda n=n: catalog.change_template_capacity(
            svc, template.template_id, n, template.holiday_capacity_pct
        )
        for n in capacities[1::2]
    ]
    calls += [lambda: catalog.upsert_area(svc, replace(area, capacity_override=overrides[0]))]
    calls += [lambda n=n: catalog.change_area_capacity(svc, "310104", n) for n in overrides[1:]]
    out = race(calls)
    assert set(out.codes) <= BOOKING, out.codes
    assert len(out.won) == len(calls) - sum(out.codes.values())
    replayed = _bookings_and_edits(wired, seq)
    names = Counter(name for name, _ in replayed)
    assert (names["slot_template.saved"], names["service_area.saved"]) == (
        len(capacities),
        len(overrides),
    )
    mine = f"310104/yto/{DAY_AFTER.isoformat()}/"
    for name, data in replayed:
        if name == "appointment.booked":
            start = str(data["window"])[:5]
            counted.add(start)  # the first booking creates the counter with the figure in force
            count[start] += 1
            assert count[start] <= figure[start], (start, count[start], figure[start])
            continue
        if name == "slot_template.saved":
            nominal = int(data["capacity"])  # type: ignore[call-overload]
        else:
            override = data["capacity_override"]  # type: ignore[assignment]
        now_in_force = nominal if override is None else override
        moved = {
            str(m["start"]): m
            for m in data["counters_moved"]  # type: ignore[attr-defined]
            if str(m["slot"]).startswith(mine)
        }
        for start in windows:
            if start not in counted:
                figure[start] = now_in_force
            elif start in moved:
                assert (moved[start]["was"], moved[start]["booked"]) == (
                    figure[start],
                    count[start],
                )
                figure[start] = int(moved[start]["capacity"])
            # Every window took the edit's figure (no holiday, no disruption on that day).
            assert figure[start] == now_in_force, (name, start, figure[start], now_in_force)
        over = {
            str(m["start"]): m["over"]
            for m in data["over_capacity"]  # type: ignore[attr-defined]
            if str(m["slot"]).startswith(mine)
        }
        assert over == {s: count[s] - figure[s] for s in windows if count[s] > figure[s]}
    for start in windows:
        assert _counter(wired, start) == (figure[start], count[start])
    _clean(wired, payments)


# --- choosing drop-off while booking a visit ----------------------------------------------------


def test_choosing_dropoff_while_booking_never_leaves_a_visit_without_its_return(
    wired: App, payments: RecordingPayments
) -> None:
    """The buyer taps "drop it off myself" and "book this window" at once (two tabs): either a
    live visit holds the window for a return waiting for it, or the return goes to a station
    and no visit holds a window for it."""
    svc = wired.services
    for hour, rid in zip((9, 11, 13), _approved(wired, 3), strict=True):
        calls = cycle(
            [
                lambda r=rid, h=hour: pickup.book_pickup(svc, BUYER, r, _yto(h)),
                lambda r=rid: returns.choose_self_send(svc, BUYER, r, ReturnMethod.DROPOFF),
            ]
        )
        out = race([next(calls) for _ in range(RACERS)])
        assert set(out.codes) <= BOOKING | {"not_bookable"}, out.codes
    with wired.engine.connect() as conn:
        docs = conn.execute(
            text("SELECT doc FROM appointments WHERE status IN ('booked', 'assigned', 'arrived')")
        ).scalars()
        live = [d if isinstance(d, dict) else json.loads(d) for d in docs]
        waiting = dict(conn.execute(text("SELECT return_id, status FROM returns")).all())
    for visit in live:
        for return_id in visit["return_ids"]:
            assert waiting[return_id] == "awaiting_pickup", (visit["appointment_id"], return_id)
    _clean(wired, payments)
