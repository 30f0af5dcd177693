"""Ops dashboard: returns by status, a coming day's bookings against capacity and the same
weekday of past weeks (windows likely to run out), decisions, reasons, and refunds past their
due time."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from doorstep.domain.clock import local
from doorstep.domain.errors import NotFound
from doorstep.domain.figures import HELD_BY
from doorstep.domain.identity import Role
from doorstep.domain.outlook import WEEKS, WindowOutlook
from doorstep.domain.returns import ReturnStatus
from doorstep.entrypoints.web import charts, labels, queries, trends
from doorstep.entrypoints.web.forms import PathId, QueryText
from doorstep.entrypoints.web.i18n import N_, day_formatter
from doorstep.entrypoints.web.render import WebRoute, render
from doorstep.entrypoints.web.session import Web, page
from doorstep.services import outlook, refund_timing
from doorstep.services.context import Services

router = APIRouter(route_class=WebRoute, include_in_schema=False)
OpsPage = Annotated[Web, Depends(page(Role.OPS))]

_DECISIONS = ("return.approved", "return.held_for_review", "return.rejected")
_OVERDUE_ROWS = 20  # the longest overdue, beside the count of all
_SHORT_DISTRICTS = 5  # districts named where windows are likely to run out, most first
_OUTLOOK_ROWS = 8  # windows likely to run out listed for the shown district; more are counted


@dataclass(frozen=True)
class Figures:
    by_status: list[tuple[str, int]]
    slots: dict[str, list[WindowOutlook]]  # adcode → its carriers' windows, in order
    area_names: dict[str, tuple[str, str]]
    decisions: list[tuple[str, int]]
    reasons: list[tuple[str, int]]
    reason_rule: dict[str, str]  # reason code → the rule that gave it
    tomorrow: str
    coming: outlook.Outlook  # the chart's day and the days after today the table shows


def figures(svc: Services, days_ahead: int = 1) -> Figures:
    """Read everything the dashboard plots in one unit of work (nothing is written); the
    capacity chart is for the day ``days_ahead`` from today."""
    now = svc.clock.now()
    today = local(now).date()
    tomorrow = today + timedelta(days=days_ahead)
    days = sorted({tomorrow} | {today + timedelta(days=n) for n in range(1, DAYS_AHEAD + 1)})
    with svc.uow() as uow:
        counted = uow.returns.status_counts()
        by_status = [(s.value, counted[s.value]) for s in ReturnStatus if counted.get(s.value)]
        # Reasons are what held, restricted or rejected a return; passes and notes (deadlines
        # to mind) are on nearly every decision and say nothing. Kept as ``rule/reason``.
        reason_rule: dict[str, str] = {}
        reasons: Counter[str] = Counter()
        for key, n in uow.events.totals(HELD_BY).items():
            rule, _, reason = key.partition("/")
            reason_rule.setdefault(reason, rule)
            reasons[reason] += n
        decisions = uow.events.count_named(_DECISIONS)
        coming = outlook.read(uow, now, today, days)
    return Figures(
        by_status=by_status,
        slots=coming.windows[tomorrow],
        area_names=coming.names,
        decisions=[(name, decisions[name]) for name in _DECISIONS if decisions.get(name)],
        reasons=reasons.most_common(8),
        reason_rule=reason_rule,
        tomorrow=tomorrow.isoformat(),
        coming=coming,
    )


# Colours say what a number means: finished well green, waiting amber, refused or stuck red,
# on its way blue, not yet looked at grey. Dark enough for white-on-colour and 3:1 on white.
GOOD, WAIT, BAD, MOVING, NEUTRAL = "#047857", "#b45309", "#b91c1c", "#1d4ed8", "#64748b"
STATUS_COLOUR = {
    "submitted": NEUTRAL,
    "in_review": WAIT,
    "approved": GOOD,
    "rejected": BAD,
    "awaiting_pickup": WAIT,
    "awaiting_dropoff": WAIT,
    "picked_up": MOVING,
    "in_transit": MOVING,
    "received": MOVING,
    "inspected": MOVING,
    "refunded": GOOD,
    "exchanged": GOOD,
    "disputed": BAD,
    "closed": GOOD,
    "cancelled": NEUTRAL,
}
DECISION_COLOUR = {
    "return.approved": GOOD,
    "return.held_for_review": WAIT,
    "return.rejected": BAD,
}
DAYS_AHEAD = 3  # the capacity chart covers tomorrow and the two days after


@router.get("/console/dashboard")
def dashboard(
    web: OpsPage,
    adcode: QueryText = "",
    ahead: Annotated[int, Query(ge=0, le=DAYS_AHEAD)] = 1,
) -> Response:
    """The figures as inline SVG, the time series as images drawn on request; the area for
    the bookings chart defaults to the busiest, the day to tomorrow."""
    data = figures(web.app.services, ahead)
    overdue = refund_timing.overdue_refunds(web.app.services, _OVERDUE_ROWS)
    lead = refund_timing.lead_times(web.app.services)  # beside the overdue ones (issue 9)
    if adcode not in data.slots:
        adcode = max(
            data.slots,
            key=lambda a: (sum(w.booked for w in data.slots[a]), a == "310104"),
            default="",
        )
    lbl = {
        "return.approved": web._("Approved"),
        "return.held_for_review": web._("Held for review"),
        "return.rejected": web._("Rejected"),
    }
    status_rows = [(web._(labels.STATUS.get(s, s)), n) for s, n in data.by_status]
    reason_rows = [
        (web._(labels.RULE.get(data.reason_rule.get(code, ""), code)), n)
        for code, n in data.reasons
    ]
    empty = web._("No data yet.")
    shown_short = [w for w in data.slots.get(adcode, []) if w.short]
    area_name = web.text(*data.area_names[adcode]) if adcode in data.area_names else adcode
    today = local(web.app.services.clock.now()).date()
    fmt = day_formatter(web.lang)
    plots = {
        "status": charts.hbars(
            "chart-status",
            web._("Returns by status"),
            status_rows,
            empty,
            colours=[STATUS_COLOUR.get(s, NEUTRAL) for s, _ in data.by_status],
        ),
        "slots": charts.bullets(
            "chart-slots",
            web._("Bookings per window vs capacity"),
            [(w.label, w.booked, w.capacity) for w in data.slots.get(adcode, [])],
            (web._("Booked"), web._("Capacity")),
            empty,
        ),
        "decisions": charts.hbars(
            "chart-decisions",
            web._("Decisions by outcome"),
            [(lbl[name], n) for name, n in data.decisions],
            empty,
            colours=[DECISION_COLOUR[name] for name, _ in data.decisions],
        ),
        "reasons": charts.hbars(
            "chart-reasons",
            web._("Top reasons"),
            reason_rows,
            empty,
            label_w=220,
            bar_w=320,
            colours=[WAIT] * len(reason_rows),
        ),
    }
    return render(
        web,
        "console_dashboard.html",
        plots=plots,
        adcode=adcode,
        area_name=area_name,
        areas=sorted(data.slots),
        area_names=data.area_names,
        ahead=ahead,
        day_choices=[(n, fmt(today + timedelta(days=n))) for n in range(1, DAYS_AHEAD + 1)],
        shown_day=fmt(today + timedelta(days=ahead)),
        trends=TREND_TITLES,
        # Only the shown district's windows likely to run out, a screenful: what to act on.
        outlook=shown_short[:_OUTLOOK_ROWS],
        outlook_more=max(0, len(shown_short) - _OUTLOOK_ROWS),
        weeks=WEEKS,
        # The shown district's coming days: the return wave against past weeks and capacity.
        wave_days=[
            (fmt(d), a)
            for n in range(1, DAYS_AHEAD + 1)
            if (a := data.coming.areas[(d := today + timedelta(days=n))].get(adcode))
        ],
        wave_learned=data.coming.model is not None,
        # Districts with windows likely to run out that day, most first: where to act.
        short=dict(
            sorted(
                ((a, n) for a, rows in data.slots.items() if (n := sum(w.short for w in rows))),
                key=lambda x: (-x[1], x[0]),
            )[:_SHORT_DISTRICTS]
        ),
        overdue=overdue.total,
        overdue_shown=overdue.shown,
        lead=lead,
    )


TREND_TITLES = {
    "returns": N_("Returns per day by reason"),
    "on-time": N_("Pickups inside the window, per courier company"),
    "refund-time": N_("How long refunds take"),
    "km": N_("Courier kilometres per pickup"),
}


@router.get("/console/dashboard/trends/{name}.svg")
def trend(web: OpsPage, name: PathId) -> Response:
    """One time series as an SVG image (drawn on request with matplotlib, kept out of the
    page so that the page stays small)."""
    if name not in TREND_TITLES:
        raise NotFound("chart", name)
    svc = web.app.services
    empty = web._("No data yet.")
    carriers = {c.carrier_id: web.text(c.name_zh, c.name_en) for c in queries.carriers(svc)}
    if name == "returns":
        series = trends.returns_by_reason(svc)
        reasons = {k: web._(v) for k, v in labels.REASON.items()}
        body = charts.stacked_days(series.days, series.lines, reasons, web._("Returns"), empty)
    elif name == "on-time":
        series = trends.on_time_share(svc)
        body = charts.lines(
            series.days, series.lines, carriers, web._("% inside the window"), empty, y_max=100
        )
    elif name == "refund-time":
        kinds = {"express": web._("Express refund"), "standard": web._("Standard refund")}
        body = charts.histogram(
            trends.refund_lead_hours(svc),
            kinds,
            web._("Hours from filing to money back (counted to 0.1 h)"),
            empty,
        )
    else:
        series = trends.km_per_pickup(svc)
        body = charts.lines(series.days, series.lines, carriers, web._("km per pickup"), empty)
    return Response(
        body,
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, max-age=60", "Content-Language": web.lang},
    )
