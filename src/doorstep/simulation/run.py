"""One simulated period under one slot-offering policy, through the real services.

An event loop per day, in simulated time: at 06:00 every district's day is planned; buyers
file returns and book at their request times; couriers depart, visit and go home. The
FixedClock only ever moves forward, so every service sees a consistent "now".
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import timed_travel
from doorstep.domain.clock import SHANGHAI, local
from doorstep.domain.pickup import Appointment
from doorstep.planning import SolveParams
from doorstep.planning.timed import TimedTravel
from doorstep.services import identity, routing
from doorstep.services.context import Services
from doorstep.services.forecast import DemandForecast
from doorstep.services.offering import FixedCapacityOffering, SlotOffering
from doorstep.services.pickup import get_appointment
from doorstep.services.planned_offering import IncentiveRules, PlannedOffering
from doorstep.simulation.booking import Booked, file_and_book
from doorstep.simulation.choice import COUPON_REF_FEN, CouponResponse, Stating
from doorstep.simulation.demand import Request
from doorstep.simulation.drive import (
    FAILED_VISIT_S,
    CourierRun,
    do_visit,
    idle_until,
    leg,
    next_visit,
    service_seconds,
    tiny_jpeg,
)
from doorstep.simulation.eta import route_etas
from doorstep.simulation.forecast import ArrivalForecast
from doorstep.simulation.kpis import LateVisit, Tally
from doorstep.simulation.params import SimParams, leave_minute
from doorstep.simulation.world import City, open_copy, set_capacity

PLAN_AT = time(6, 0)
# When the buyer gets the "tomorrow, around …" message.
EVENING_AT = time(20, 0)
# An idle courier looks for newly booked visits this often (a phone push, in real life).
IDLE_STEP = timedelta(minutes=5)


class SequentialIds:
    """Ids in creation order: random ids would make route tie-breaks differ between runs."""

    def __init__(self) -> None:
        self.n = 0

    def new(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.n:07d}"


def make_offering(
    policy: str,
    svc: Services,
    rules: IncentiveRules | None = None,
    forecast: DemandForecast | None = None,
) -> SlotOffering:
    if policy in ("fixed", "fixed_full"):
        return FixedCapacityOffering()
    incentives = (rules or IncentiveRules()) if policy == "planned_incentive" else None
    return PlannedOffering(svc.travel, incentives, svc.route_cache, forecast)


@dataclass
class _Day:
    """Everything the event loop of one day needs."""

    svc: Services
    clock: FixedClock
    day: date
    runs: dict[str, CourierRun]
    events: list[tuple[datetime, int, str, object]]
    seq: int = 0

    def push(self, at: datetime, kind: str, payload: object) -> None:
        self.seq += 1
        heapq.heappush(self.events, (at, self.seq, kind, payload))


class Simulation:
    """Runs one policy over the whole period and counts what happened."""

    def __init__(
        self,
        params: SimParams,
        city: City,
        requests: list[Request],
        template: Path,
        workdir: Path,
        policy: str,
        capacity: int | None,
    ) -> None:
        self.params, self.city, self.requests = params, city, requests
        self.clock = FixedClock(datetime.combine(params.start, time.min, tzinfo=SHANGHAI))
        if capacity is None and policy not in ("fixed", "fixed_full"):
            capacity = params.route_capacity
        name = f"run-{policy}-{capacity if capacity is not None else 'template'}.db"
        self.app = open_copy(template, workdir / name, self.clock)
        set_capacity(self.app, city, capacity)
        base = replace(self.app.services, ids=SequentialIds())
        # Every policy runs the settings' pricing, as the product would, save the pair that
        # compares pricings: ``planned_peak`` prices every leg at the evening peak and
        # ``planned_timed`` at the hour it is driven, whatever the settings say.
        peak = base.travel.base if isinstance(base.travel, TimedTravel) else base.travel
        if policy == "planned_peak":
            base = replace(base, travel=peak)
        elif policy == "planned_timed":
            base = replace(base, travel=timed_travel(self.app.settings, peak))
        forecast = ArrivalForecast(params, city)
        offering = make_offering(policy, base, params.incentives, forecast)
        self.svc = replace(base, offering=offering)
        self.coupons = CouponResponse(
            params.incentive_take_share, COUPON_REF_FEN, params.coupon_scale_fen
        )
        # Buyers are asked when suits them only by an offering that reads the answer.
        asks = policy == "planned_incentive" and params.incentives.wanted_saving_s > 0
        self.stating = (
            Stating(params.wanted_share, params.wanted_noise_h, params.seed) if asks else None
        )
        self.rng = random.Random(params.seed * 7919 + 17)
        self.tally = Tally()
        self.gone: set[str] = set()  # couriers who left the fleet (``courier_leaves_at``)
        self.booked: dict[str, Booked] = {}
        self.photo = tiny_jpeg()
        self.solve = SolveParams(
            seed=params.seed,
            time_limit_s=600.0,
            max_iterations=params.solver_iterations,
            duration_weight=self.app.settings.plan_duration_weight,
        )
        self.ahead_weight = self.app.settings.plan_duration_weight_ahead

    @property
    def driving_days(self) -> int:
        """Bookings reach up to the horizon past the last demand day: those days are driven too."""
        return self.params.days + self.svc.booking.horizon_days - 1

    def run(self, on_day: Callable[[int], None] | None = None) -> Tally:
        for index in range(self.driving_days):
            self._day(self.params.start + timedelta(days=index))
            if on_day is not None:
                on_day(index)
        self.tally.missed = self.tally.accepted - self.tally.visits
        self.app.engine.dispose()
        return self.tally

    def _day(self, day: date) -> None:
        runs = {
            cid: CourierRun(c, (c.depot_lat, c.depot_lon)) for cid, c in self.city.couriers.items()
        }
        state = _Day(self.svc, self.clock, day, runs, [])
        midnight = datetime.combine(day, time.min, tzinfo=SHANGHAI)
        state.push(midnight + timedelta(hours=PLAN_AT.hour), "plan", None)
        state.push(midnight + timedelta(hours=EVENING_AT.hour), "evening", None)
        step = self.params.replan_every_min
        if step:
            first = PLAN_AT.hour * 60 + step
            for minute in range(first, 24 * 60, step):
                state.push(midnight + timedelta(minutes=minute), "replan", None)
        leaves = self.params.courier_leaves_at
        if leaves is not None and day == self.params.start:
            leave_at = leave_minute(leaves)
            assert leave_at is not None  # SimParams checked it
            state.push(midnight + timedelta(minutes=leave_at), "leave", None)
        for request in self.requests:
            if request.at.date() == day:
                state.push(request.at, "request", request)
        for cid, c in self.city.couriers.items():
            state.push(datetime.combine(day, c.shift_start, tzinfo=SHANGHAI), "depart", cid)
        while state.events:
            at, _, kind, payload = heapq.heappop(state.events)
            self.clock.at = max(self.clock.at, at.astimezone(UTC))
            if kind == "plan":
                self._plan(day)
                self._show_etas(day, "morning")
            elif kind == "replan":
                self._replan()
            elif kind == "leave":
                self._courier_leaves(day)
            elif kind == "evening":
                self._show_etas(day + timedelta(days=1), "evening_before")
            elif kind == "request":
                assert isinstance(payload, Request)
                booked = file_and_book(
                    self.svc,
                    self.city,
                    payload,
                    self.tally,
                    self.params.tolerance_h,
                    self.coupons,
                    self.stating,
                )
                if booked is not None:
                    self.booked[booked.appointment_id] = booked
            elif kind == "depart":
                self._depart(state, str(payload), at)
            else:
                assert isinstance(payload, tuple)
                self._visit(state, payload[0], payload[1], at)

    def _plan(self, day: date) -> None:
        """The morning plan of every carrier's day that has visits."""
        with self.svc.uow() as uow:
            busy = uow.appointments.busy_carrier_days([day])
        for carrier_id, _ in sorted(busy):
            routing.plan_day(self.svc, carrier_id, day, self.solve, self.ahead_weight)

    def _replan(self) -> None:
        """The live worker's sweep over the days to the horizon; today's routes, which are
        being driven, as ``replan_today`` says (the worker's rule by default)."""
        mode = routing.TodayReplan(self.params.replan_today)
        for carrier_id, day in routing.carrier_days_to_plan(self.svc, mode):
            routing.plan_day(self.svc, carrier_id, day, self.solve, self.ahead_weight)

    def _courier_leaves(self, day: date) -> None:
        """The courier with the most open visits of ``day`` leaves through the account
        deletion the product runs (``identity.delete_user``): their visits go back to the
        pool, and only a re-plan gives them to another courier. They drive home."""
        with self.svc.uow() as uow:
            loads = {
                cid: sum(1 for a in uow.appointments.for_courier(cid, day) if a.active)
                for cid in self.city.couriers
            }
        leaving = max(sorted(loads), key=lambda cid: loads[cid])
        with self.svc.uow() as uow:
            # Every account of the courier (the demo's, if any): only the last one's
            # deletion takes the courier out of the fleet.
            accounts = [u.username for u in uow.users.acting_as_for_update("courier", leaving)]
        if not accounts:
            username = f"sim-leaver-{leaving}"
            identity.add_user(self.svc, username, username, "sim-leaver-pass", "courier", leaving)
            accounts = [username]
        for username in accounts:
            identity.delete_user(self.svc, username)
        self.gone.add(leaving)

    def _show_etas(self, day: date, horizon: str) -> None:
        for appointment_id, eta in route_etas(self.svc, self.city.couriers, day).items():
            self.tally.eta.show(appointment_id, horizon, eta)

    def _depart(self, state: _Day, courier_id: str, at: datetime) -> None:
        run = state.runs[courier_id]
        # A courier who left the fleet (``courier_leaves_at``) has no visit left: home.
        gone = courier_id in self.gone
        appt = None if gone else next_visit(self.svc, courier_id, state.day)
        sigma = self.params.travel_noise_sigma
        if appt is None:
            shift_end = datetime.combine(state.day, run.courier.shift_end, tzinfo=SHANGHAI)
            if not gone and at < idle_until(state.day, self.svc) and at + IDLE_STEP < shift_end:
                state.push(at + IDLE_STEP, "depart", courier_id)
            elif run.first_departure is not None and run.finished_at is None:
                seconds, metres = leg(self.svc.travel, run.at, run.depot, at, self.rng, sigma)
                run.finished_at = at + timedelta(seconds=seconds)
                self.tally.driven_m += metres
                self.tally.courier_seconds += int(
                    (run.finished_at - run.first_departure).total_seconds()
                )
            return
        where = (appt.address.lat or 0.0, appt.address.lon or 0.0)
        nominal, _ = leg(self.svc.travel, run.at, where, at, self.rng, 0.0)
        # The first look at this visit as the next one: the previous stop is done.
        eta = max(at + timedelta(seconds=nominal), appt.slot.starts_at)
        self.tally.eta.show(appt.appointment_id, "one_stop_before", eta)
        leave_at = appt.slot.starts_at - timedelta(seconds=nominal)
        if leave_at > at:
            # Wait where they are and look at the route again when it is time to go, or sooner:
            # visits booked meanwhile may now come first.
            state.push(min(leave_at, at + IDLE_STEP), "depart", courier_id)
            return
        seconds, metres = leg(self.svc.travel, run.at, where, at, self.rng, sigma)
        depart = at
        if run.first_departure is None:
            run.first_departure = depart
        arrive = depart + timedelta(seconds=seconds)
        self.tally.driven_m += metres
        run.at = where
        state.push(max(arrive, appt.slot.starts_at), "visit", (courier_id, appt.appointment_id))

    def _visit(self, state: _Day, courier_id: str, appointment_id: str, at: datetime) -> None:
        appt = get_appointment(self.svc, appointment_id)
        if appt.status.value != "assigned" or appt.courier_id != courier_id:
            state.push(at, "depart", courier_id)  # moved to someone else meanwhile
            return
        booked = self.booked[appointment_id]
        self.tally.visits += 1
        self.tally.eta.arrive(appointment_id, at)
        inside = appt.slot.starts_at <= at <= appt.slot.ends_at
        self.tally.inside_window += inside
        if not inside:
            self.tally.late.append(late_visit(appt, courier_id, at))
        picked = do_visit(
            self.svc, state.runs[courier_id], appt, booked.request.at_home, self.photo
        )
        if picked:
            self.tally.completed += 1
            minutes = (at - booked.request.at).total_seconds() / 60
            self.tally.request_to_pickup_min.append(round(minutes, 1))
            spent = service_seconds(appt, self.rng, self.params.service_noise_sigma)
        else:
            self.tally.not_home += 1
            spent = FAILED_VISIT_S
        state.push(at + timedelta(seconds=spent), "depart", courier_id)


def late_visit(appt: Appointment, courier_id: str, at: datetime) -> LateVisit:
    """The record of a visit rung at ``at``, outside its window."""
    slot = appt.slot
    past = at - slot.ends_at if at > slot.ends_at else at - slot.starts_at
    return LateVisit(
        appt.appointment_id,
        courier_id,
        f"{slot.day} {slot.window.start:%H:%M}-{slot.window.end:%H:%M}",
        f"{local(appt.created_at):%Y-%m-%d %H:%M}",
        f"{local(at):%Y-%m-%d %H:%M}",
        round(past.total_seconds() / 60, 1),
    )
