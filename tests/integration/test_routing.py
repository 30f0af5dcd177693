"""Route planning and route-aware offering over real appointments (Jinshan: one YTO courier)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from doorstep.bootstrap import App
from doorstep.domain.address import Address
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.errors import Conflict
from doorstep.domain.fleet import Courier
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.pickup import Appointment, BookingRules, SlotRef
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import catalog, pickup, returns, routing, timeline
from doorstep.services.context import Services
from doorstep.services.forecast import HistoryForecast
from doorstep.services.offering import FixedCapacityOffering, OfferedSlot
from doorstep.services.planned_offering import IncentiveRules, PlannedOffering
from doorstep.services.ports import UnitOfWork
from doorstep.services.returns import LineRequest, OpenReturn

TOMORROW = date(2026, 11, 26)
JINSHAN = (30.7417, 121.3418)


def returns_at(app: App, points: list[tuple[float, float]]) -> list[str]:
    """Approved returns of buyer-001 with addresses at these coordinates in Jinshan."""
    signed = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:6]
    orders = [
        Order(
            f"RT-{batch}-{i}",
            "buyer-001",
            "shop-cn-home",
            Channel.DOMESTIC,
            signed,
            Address(
                "310116",
                "上海市",
                "上海市",
                "金山区",
                f"石化街道{i}号",
                "测试",
                "13800002222",
                lat,
                lon,
            ),
            (OrderLine("L1", "CN-LATEX-PILLOW", 1, 19900),),
            signed_at=signed,
        )
        for i, (lat, lon) in enumerate(points)
    ]
    catalog.import_orders(app.services, orders, None)
    out = []
    for order in orders:
        r = returns.open_return(
            app.services,
            OpenReturn(
                "buyer-001",
                order.order_id,
                ReturnKind.REFUND,
                (LineRequest("L1", 1, Reason.NO_REASON),),
            ),
        )
        out.append(r.return_id)
    return out


def ring(n: int, km: float) -> list[tuple[float, float]]:
    import math

    return [
        (
            JINSHAN[0] + km / 111 * math.cos(2 * math.pi * i / n),
            JINSHAN[1] + km / 95 * math.sin(2 * math.pi * i / n),
        )
        for i in range(n)
    ]


def test_plan_day_gives_every_visit_an_eta_inside_its_window(wired: App) -> None:
    svc = wired.services
    ids = returns_at(wired, ring(6, 3))
    starts = [time(9), time(11), time(13), time(9), time(15), time(17)]
    for rid, start in zip(ids, starts, strict=True):
        pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, start))
    report = routing.plan_day(svc, "yto", TOMORROW)
    assert report.unserved == ()
    planned = {appt_id: eta for _, stops in report.routes for appt_id, eta in stops}
    assert len(planned) == 6
    for rid in ids:
        appt = pickup.get_appointment(svc, returns.get_return(svc, rid).appointment_id or "")
        assert appt.eta == planned[appt.appointment_id]
        assert appt.slot.starts_at <= appt.eta <= appt.slot.ends_at
        assert appt.courier_id == "courier-yto-03"
    assert report.distance_m > 0


def test_unreachable_visit_is_reported_not_dropped(wired: App) -> None:
    # Fixed offering lets the booking through; the planner must then say it cannot be kept.
    svc = replace(wired.services, offering=FixedCapacityOffering())
    (far,) = returns_at(wired, [(39.9, 116.4)])  # Beijing coordinates on a Jinshan address
    appt = pickup.book_pickup(svc, "buyer-001", far, pickup.SlotChoice("yto", TOMORROW, time(9)))
    report = routing.plan_day(svc, "yto", TOMORROW)
    assert [a for a, _ in report.unserved] == [appt.appointment_id]
    after = pickup.get_appointment(svc, appt.appointment_id)
    assert after.unserved_reason in {"time_window_unreachable", "outside_shift"}
    assert "appointment.unserved" in [e.name for e in timeline.timeline(svc, far)]


def test_planned_offering_drops_windows_the_route_cannot_keep(wired: App) -> None:
    svc = wired.services
    planned = PlannedOffering(svc.travel)
    # Scattered 12 km apart: one courier can do only a few of them in one 2-hour window.
    ids = returns_at(wired, ring(10, 12))
    booked = 0
    for rid in ids:
        try:
            pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(9)))
            booked += 1
        except Conflict as exc:
            assert exc.code == "slot_not_offered"
    assert 1 <= booked < 10
    (probe,) = returns_at(wired, [ring(10, 12)[5]])
    with svc.uow() as uow:
        area = uow.areas.get("310116")
        assert area is not None
        request = uow.returns.get(probe)
        assert request is not None and request.address is not None
        now = svc.clock.now()
        fixed = FixedCapacityOffering().offer(
            uow, svc.calendar, area, request.address, now, svc.booking
        )
        route_aware = planned.offer(uow, svc.calendar, area, request.address, now, svc.booking)
    key = ("yto", TOMORROW, time(9))
    as_keys = {(o.slot.carrier_id, o.slot.day, o.slot.window.start) for o in route_aware}
    assert key in {(o.slot.carrier_id, o.slot.day, o.slot.window.start) for o in fixed}
    assert key not in as_keys
    assert as_keys <= {(o.slot.carrier_id, o.slot.day, o.slot.window.start) for o in fixed}
    assert [o.rank for o in route_aware] == list(range(len(route_aware)))


def test_green_windows_are_where_a_courier_already_is(wired: App) -> None:
    svc = wired.services
    # A courier will be at the far north-west of Jinshan at 13:00–15:00 tomorrow.
    spot = (JINSHAN[0] + 0.08, JINSHAN[1] - 0.08)
    (anchor,) = returns_at(wired, [spot])
    pickup.book_pickup(svc, "buyer-001", anchor, pickup.SlotChoice("yto", TOMORROW, time(13)))
    (neighbour,) = returns_at(wired, [(spot[0] + 0.001, spot[1])])
    offering = PlannedOffering(
        svc.travel, IncentiveRules(coupon_fen=300, cheap_pct=50, min_saving_s=300)
    )
    with svc.uow() as uow:
        area = uow.areas.get("310116")
        request = uow.returns.get(neighbour)
        assert area is not None and request is not None and request.address is not None
        offers = offering.offer(
            uow, svc.calendar, area, request.address, svc.clock.now(), svc.booking
        )
    green = [o for o in offers if o.incentive_fen]
    assert green, "windows on the day a courier is already there should be green"
    # The courier drives past that spot tomorrow anyway: tomorrow's windows are nearly free,
    # while another day costs a round trip from the depot.
    assert {o.slot.day for o in green} == {TOMORROW}
    assert offers[0].slot.day == TOMORROW
    assert all(o.incentive_fen == 300 and "¥3.00" in o.note_en for o in green)
    assert all(o.incentive_fen == 0 for o in offers if o.slot.day != TOMORROW)


def test_bundled_offering_hides_windows_far_from_every_route(wired: App) -> None:
    svc = wired.services
    spot = (JINSHAN[0] + 0.08, JINSHAN[1] - 0.08)
    (anchor,) = returns_at(wired, [spot])
    pickup.book_pickup(svc, "buyer-001", anchor, pickup.SlotChoice("yto", TOMORROW, time(13)))
    (neighbour,) = returns_at(wired, [(spot[0] + 0.001, spot[1])])
    loose = PlannedOffering(svc.travel, IncentiveRules(cheap_pct=50, near_pct=0))
    bundled = PlannedOffering(
        svc.travel, IncentiveRules(cheap_pct=50, near_pct=50, keep_at_least=1, show_within_s=0)
    )
    with svc.uow() as uow:
        area = uow.areas.get("310116")
        request = uow.returns.get(neighbour)
        assert area is not None and request is not None and request.address is not None
        now = svc.clock.now()
        everything = loose.offer(uow, svc.calendar, area, request.address, now, svc.booking)
        near = bundled.offer(uow, svc.calendar, area, request.address, now, svc.booking)
    keys = [(o.slot.day, o.slot.window.start) for o in near]
    # Only the day the courier is already out there is left; every other day costs a trip.
    assert keys and {day for day, _ in keys} == {TOMORROW}
    assert len(near) < len(everything)
    assert keys == [(o.slot.day, o.slot.window.start) for o in everything[: len(near)]]
    assert [o.rank for o in near] == list(range(len(near)))


def test_coupons_only_where_a_visit_is_within_reach(wired: App) -> None:
    svc = wired.services
    spot = (JINSHAN[0] + 0.08, JINSHAN[1] - 0.08)
    (anchor,) = returns_at(wired, [spot])
    pickup.book_pickup(svc, "buyer-001", anchor, pickup.SlotChoice("yto", TOMORROW, time(13)))
    (neighbour,) = returns_at(wired, [(spot[0] + 0.001, spot[1])])
    with svc.uow() as uow:
        area = uow.areas.get("310116")
        request = uow.returns.get(neighbour)
        assert area is not None and request is not None and request.address is not None
        now = svc.clock.now()

        def greens(rules: IncentiveRules) -> list[int]:
            offers = PlannedOffering(svc.travel, rules).offer(
                uow, svc.calendar, area, request.address, now, svc.booking
            )
            return [o.incentive_fen for o in offers if o.incentive_fen]

        everywhere = greens(IncentiveRules(cheap_pct=100, green_within_s=0, near_pct=0))
        within_reach = greens(IncentiveRules(cheap_pct=100, green_within_s=600, near_pct=0))
        nowhere = greens(IncentiveRules(cheap_pct=100, green_within_s=1, near_pct=0))
    # Below the median is not the same as near a planned visit: the 10-minute rule keeps
    # coupons on the day the courier is next door, and a 1-second rule leaves none.
    assert len(everywhere) > len(within_reach) > 0
    assert nowhere == []


def test_replan_keeps_visits_under_way(wired: App, clock: object) -> None:
    svc = wired.services
    ids = returns_at(wired, ring(4, 4))
    for rid in ids:
        pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(11)))
    routing.plan_day(svc, "yto", TOMORROW)
    assert isinstance(clock, object)
    svc.clock.at = datetime(2026, 11, 26, 11, 5, tzinfo=SHANGHAI)  # type: ignore[attr-defined]
    first = min(
        (pickup.get_appointment(svc, returns.get_return(svc, r).appointment_id or "") for r in ids),
        key=lambda a: a.route_position or 0,
    )
    from doorstep.services import courier

    courier.arrive(svc, "courier-yto-03", first.appointment_id)
    report = routing.plan_day(svc, "yto", TOMORROW)
    (route,) = report.routes
    assert route[1][0][0] == first.appointment_id  # the visit under way stays first
    assert all(eta >= svc.clock.now() - timedelta(minutes=1) for _, eta in route[1][1:])


def test_worker_sweep_replans_and_retries_refunds(wired: App) -> None:
    from doorstep.entrypoints.worker import sweep

    svc = wired.services
    (rid,) = returns_at(wired, ring(1, 2))
    appt = pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(15)))
    result = sweep(wired)
    assert result["plans"] >= 1 and result["unserved"] == 0
    planned = pickup.get_appointment(svc, appt.appointment_id)
    assert planned.eta is not None and planned.route_position == 0


def test_courier_sees_visits_in_route_order_with_etas(wired: App, clock: object) -> None:
    from doorstep.services import courier

    svc = wired.services
    ids = returns_at(wired, ring(4, 1.5))
    for rid in ids:
        pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(9)))
    routing.plan_day(svc, "yto", TOMORROW)
    svc.clock.at = datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI)  # type: ignore[attr-defined]
    tasks = courier.todays_tasks(svc, "courier-yto-03")
    assert [t.route_position for t in tasks] == [0, 1, 2, 3]
    etas = [t.eta for t in tasks]
    assert all(e is not None for e in etas) and etas == sorted(etas)  # type: ignore[type-var]


def test_a_booking_made_during_the_solve_is_not_lost(wired: App, monkeypatch: object) -> None:
    import threading

    import pytest

    svc = wired.services
    first, second = returns_at(wired, ring(2, 2))
    pickup.book_pickup(svc, "buyer-001", first, pickup.SlotChoice("yto", TOMORROW, time(9)))
    real_solve = routing.solve
    booker: list[threading.Thread] = []

    def solve_while_someone_books(*args: object, **kw: object) -> object:
        plan = real_solve(*args, **kw)  # type: ignore[arg-type]
        if not booker:
            choice = pickup.SlotChoice("yto", TOMORROW, time(11))
            th = threading.Thread(
                target=pickup.book_pickup, args=(svc, "buyer-001", second, choice)
            )
            booker.append(th)
            th.start()
            # PostgreSQL: the booking commits now, between the solve and the write.
            # SQLite: the re-plan holds the write lock, so the booking waits for it.
            th.join(timeout=3)
        return plan

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(routing, "solve", solve_while_someone_books)
    routing.plan_day(svc, "yto", TOMORROW)
    booker[0].join(timeout=60)
    assert routing.check_routes(svc, "yto", TOMORROW) == []
    with svc.uow() as uow:
        on_routes = {
            s.appointment_id for r in uow.routes.for_carrier_day("yto", TOMORROW) for s in r.stops
        }
        visits = {a.appointment_id for a in uow.appointments.for_carrier_day("yto", TOMORROW)}
    assert len(visits) == 2 and on_routes == visits


class _Expect:
    """A forecast that expects ``n`` bookings in one window and none elsewhere."""

    def __init__(self, slot: SlotRef, n: float) -> None:
        self.slot, self.n = slot, n

    def expected_bookings(self, uow: UnitOfWork, slot: SlotRef) -> float:
        return self.n if slot == self.slot else 0.0


def test_pricing_against_expected_demand_shows_a_window_the_empty_route_would_hide(
    wired: App,
) -> None:
    svc = wired.services
    spot = (JINSHAN[0] + 0.08, JINSHAN[1] - 0.08)
    (anchor,) = returns_at(wired, [spot])
    pickup.book_pickup(svc, "buyer-001", anchor, pickup.SlotChoice("yto", TOMORROW, time(13)))
    (neighbour,) = returns_at(wired, [(spot[0] + 0.001, spot[1])])
    hiding = IncentiveRules(cheap_pct=50, near_pct=50, keep_at_least=1, show_within_s=0)
    with svc.uow() as uow:
        area = uow.areas.get("310116")
        request = uow.returns.get(neighbour)
        assert area is not None and request is not None and request.address is not None
        now = svc.clock.now()

        def offer(rules: IncentiveRules, forecast: _Expect | None) -> list[OfferedSlot]:
            return PlannedOffering(svc.travel, rules, None, forecast).offer(
                uow, svc.calendar, area, request.address, now, svc.booking
            )

        everything = offer(replace(hiding, near_pct=0), None)
        # A window on another day than the booked visit's: a whole trip from the depot, so
        # hidden when priced against today's routes.
        later = next(o.slot for o in everything if o.slot.day != TOMORROW)
        busy = _Expect(later, 12.0)
        plain = offer(hiding, busy)
        expected = offer(replace(hiding, future_pct=100), busy)
        unforecast = offer(replace(hiding, future_pct=100), _Expect(later, 0.0))
    assert later not in [o.slot for o in plain]
    # Twelve more bookings are expected there: the trip is shared, the window is shown.
    assert later in [o.slot for o in expected]
    assert [o.slot for o in unforecast] == [o.slot for o in plain]


def test_history_forecast_is_the_mean_of_the_same_weekday_in_past_weeks(wired: App) -> None:
    svc = wired.services
    spot = (JINSHAN[0] + 0.02, JINSHAN[1])
    ids = returns_at(wired, [spot, (spot[0] + 0.001, spot[1])])
    for rid in ids:
        pickup.book_pickup(svc, "buyer-001", rid, pickup.SlotChoice("yto", TOMORROW, time(13)))
    with svc.uow() as uow:
        (booked,) = {a.slot for a in uow.appointments.for_area_day("310116", TOMORROW)}
        week_on = replace(booked, day=TOMORROW + timedelta(days=7))
        other_window = replace(week_on, window=replace(booked.window, start=time(9)))
        assert HistoryForecast(weeks=1).expected_bookings(uow, week_on) == 2.0
        assert HistoryForecast(weeks=2).expected_bookings(uow, week_on) == 1.0
        assert HistoryForecast(weeks=1).expected_bookings(uow, other_window) == 0.0
        six_days_on = replace(booked, day=TOMORROW + timedelta(days=6))
        assert HistoryForecast(weeks=1).expected_bookings(uow, six_days_on) == 0.0


def test_a_call_out_cost_gives_a_booking_to_the_courier_already_out(wired: App) -> None:
    """A second Jinshan courier, idle, 3 km east: by distance alone a visit near their depot
    calls them out; with a call-out cost the courier already out that day takes it."""
    east = (JINSHAN[0], JINSHAN[1] + 3 / 95)
    with wired.services.uow() as uow:
        uow.couriers.put(Courier("courier-yto-09", "钱", "13800000099", "yto", "310116", *east))
        uow.commit()
    near_03, near_09, near_09b = returns_at(wired, [(30.7395, 121.3455), east, east])

    def book(svc: Services, rid: str, start: time) -> Appointment:
        choice = pickup.SlotChoice("yto", TOMORROW, start)
        return pickup.book_pickup(svc, "buyer-001", rid, choice)

    svc = wired.services
    assert book(svc, near_03, time(9)).courier_id == "courier-yto-03"
    called = book(svc, near_09, time(11))
    assert called.courier_id == "courier-yto-09"  # distance alone: called out
    pickup.cancel_pickup(svc, "buyer-001", called.appointment_id)
    calling = replace(svc, booking=replace(svc.booking, call_out_s=3600))
    assert isinstance(calling.booking, BookingRules)
    assert book(calling, near_09b, time(11)).courier_id == "courier-yto-03"


class _Expecting:
    """A forecast that expects ``per_window`` more bookings in every window of ``day``."""

    def __init__(self, day: date, per_window: float) -> None:
        self.day, self.per_window = day, per_window

    def expected_bookings(self, uow: UnitOfWork, slot: SlotRef) -> float:
        return self.per_window if slot.day == self.day else 0.0


def test_room_kept_for_expected_first_choices_takes_the_coupons_off_those_windows(
    wired: App,
) -> None:
    """``reserve_s``: tomorrow's windows near the courier are green, but the forecast expects
    more bookings there than the one route can take: no coupon pulls a buyer into them, and
    none is hidden for it. Off (``reserve_s=0``), the offers are today's, field for field."""
    svc = wired.services
    spot = (JINSHAN[0] + 0.08, JINSHAN[1] - 0.08)
    (anchor,) = returns_at(wired, [spot])
    pickup.book_pickup(svc, "buyer-001", anchor, pickup.SlotChoice("yto", TOMORROW, time(13)))
    (neighbour,) = returns_at(wired, [(spot[0] + 0.001, spot[1])])
    rules = IncentiveRules(coupon_fen=300, cheap_pct=50, min_saving_s=300)
    crowded = _Expecting(TOMORROW, 20.0)
    today = PlannedOffering(svc.travel, rules)
    off = PlannedOffering(svc.travel, replace(rules, reserve_s=0), forecast=crowded)
    kept = PlannedOffering(svc.travel, replace(rules, reserve_s=600), forecast=crowded)
    with svc.uow() as uow:
        area = uow.areas.get("310116")
        request = uow.returns.get(neighbour)
        assert area is not None and request is not None and request.address is not None
        now = svc.clock.now()
        plain = today.offer(uow, svc.calendar, area, request.address, now, svc.booking)
        unchanged = off.offer(uow, svc.calendar, area, request.address, now, svc.booking)
        reserved = kept.offer(uow, svc.calendar, area, request.address, now, svc.booking)
    assert unchanged == plain
    assert {o.slot.day for o in plain if o.incentive_fen} == {TOMORROW}
    assert not [o for o in reserved if o.slot.day == TOMORROW and o.incentive_fen]
    assert {o.slot for o in reserved} == {o.slot for o in plain}
    assert [o.rank for o in reserved] == list(range(len(reserved)))


def test_the_wanted_time_spares_its_window_and_keeps_only_coupons_that_save_against_it(
    wired: App,
) -> None:
    """``wanted_saving_s``: a buyer who wants the window a route already runs in (green)
    gets no coupon anywhere; one who wants a window far from any route keeps only coupons
    that save at least the threshold against it, and sees it even where the rules hide it.
    Off, or without a wanted time, the offers are today's, field for field."""
    svc = wired.services
    spot = (JINSHAN[0] + 0.08, JINSHAN[1] - 0.08)
    (anchor,) = returns_at(wired, [spot])
    pickup.book_pickup(svc, "buyer-001", anchor, pickup.SlotChoice("yto", TOMORROW, time(13)))
    (neighbour,) = returns_at(wired, [(spot[0] + 0.001, spot[1])])
    rules = IncentiveRules(coupon_fen=300, cheap_pct=50, min_saving_s=300)
    hiding = replace(rules, near_pct=20, keep_at_least=1, show_within_s=0)
    near = datetime.combine(TOMORROW, time(14), tzinfo=SHANGHAI)
    far = datetime.combine(TOMORROW + timedelta(days=1), time(20), tzinfo=SHANGHAI)
    with svc.uow() as uow:
        area = uow.areas.get("310116")
        request = uow.returns.get(neighbour)
        assert area is not None and request is not None and request.address is not None
        now = svc.clock.now()

        def offer(rules: IncentiveRules, wanted: datetime | None = None) -> list[OfferedSlot]:
            offering = PlannedOffering(svc.travel, rules)
            assert request is not None and request.address is not None and area is not None
            return offering.offer(
                uow, svc.calendar, area, request.address, now, svc.booking, wanted
            )

        plain = offer(rules)
        assert offer(rules, near) == plain  # off: the wanted time is not read
        on = replace(rules, wanted_saving_s=1)
        assert offer(on) == plain  # nothing stated
        coupons = {o.slot: o.incentive_fen for o in plain if o.incentive_fen}
        assert coupons and {s.day for s in coupons} == {TOMORROW}
        assert not [o for o in offer(on, near) if o.incentive_fen]  # it wants a green one
        stated = offer(on, far)
        given = {o.slot: o.incentive_fen for o in stated if o.incentive_fen}
        assert given.items() <= coupons.items()
        assert {o.slot for o in stated} == {o.slot for o in plain}
        # A higher threshold keeps fewer (an empty day's call-out costs hours of driving).
        dearer = offer(replace(on, wanted_saving_s=7200), far)
        assert {o.slot for o in dearer if o.incentive_fen} <= set(given)
        hidden = offer(hiding)
        gone = sorted(
            ({o.slot for o in plain} - {o.slot for o in hidden}), key=lambda s: s.starts_at
        )
        assert gone, "the rules hide some windows of this offer"
        wanted = gone[0].starts_at + (gone[0].ends_at - gone[0].starts_at) / 2
        spared = offer(replace(hiding, wanted_saving_s=1), wanted)
        assert {o.slot for o in spared} - {o.slot for o in hidden} == {gone[0]}
        assert [o.rank for o in spared] == list(range(len(spared)))
