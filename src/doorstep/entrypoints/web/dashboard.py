"""Ops dashboard: returns by status, tomorrow's bookings against capacity, decisions, reasons,
and refunds past their due time."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from doorstep.domain.clock import local
from doorstep.domain.coverage import ServiceArea, SlotTemplate
from doorstep.domain.fleet import Carrier
from doorstep.domain.identity import Role
from doorstep.domain.pickup import SlotRef
from doorstep.domain.returns import ReturnStatus
from doorstep.entrypoints.web import charts, labels
from doorstep.entrypoints.web.forms import QueryText
from doorstep.entrypoints.web.render import WebRoute, render
from doorstep.entrypoints.web.session import Web, page
from doorstep.services import refund_timing
from doorstep.services.context import Services
from doorstep.services.offering import slot_capacity
from doorstep.services.ports import SlotLoad

router = APIRouter(route_class=WebRoute, include_in_schema=False)
OpsPage = Annotated[Web, Depends(page(Role.OPS))]

# Counting loads documents through the repositories: fine for a console over thousands of
# returns; a reporting table is the step after that.
_CAP = 5_000
_DECISIONS = ("return.approved", "return.held_for_review", "return.rejected")
_OVERDUE_ROWS = 20  # the longest overdue; the API lists them all


@dataclass(frozen=True)
class Figures:
    by_status: list[tuple[str, int]]
    slots: dict[str, list[tuple[str, int, int]]]  # adcode → (carrier window, booked, capacity)
    area_names: dict[str, tuple[str, str]]
    decisions: list[tuple[str, int]]
    reasons: list[tuple[str, int]]
    reason_rule: dict[str, str]  # reason code → the rule that gave it
    tomorrow: str


def figures(svc: Services) -> Figures:
    """Read everything the dashboard plots in one unit of work (nothing is written)."""
    tomorrow = local(svc.clock.now()).date() + timedelta(days=1)
    with svc.uow() as uow:
        by_status: list[tuple[str, int]] = []
        reason_rule: dict[str, str] = {}
        reasons: Counter[str] = Counter()
        for status in ReturnStatus:
            found = uow.returns.with_status(status.value, _CAP)
            if found:
                by_status.append((status.value, len(found)))
            for r in found:
                # Reasons are what held, restricted or rejected a return; passes and notes
                # (deadlines to mind) are on nearly every decision and say nothing.
                for f in r.decision.findings if r.decision else ():
                    if f.verdict.value in ("reject", "review", "restrict"):
                        reason_rule.setdefault(f.reason, f.rule)
                        reasons[f.reason] += 1
        # Counted over every return, not only the capped sample above, in one query.
        decisions = uow.events.count_named(_DECISIONS)
        areas = uow.areas.list()
        # Carriers, templates and counters are read once for every area, not once per area.
        carriers = {c.carrier_id: c for c in uow.carriers.list()}
        templates = {t.template_id: t for t in uow.templates.list()}
        wanted: dict[int, list[SlotRef]] = {}  # nominal capacity → windows (the default)
        for area in areas:
            for carrier_id, template in _templates(area, carriers, templates):
                wanted.setdefault(slot_capacity(area, template), []).extend(
                    SlotRef(area.adcode, carrier_id, tomorrow, w) for w in template.windows
                )
        loads: dict[SlotRef, SlotLoad] = {}
        for capacity, refs in wanted.items():
            loads |= uow.slots.loads(refs, capacity)
    slots: dict[str, list[tuple[str, int, int]]] = {}
    names = {}
    for area in areas:
        names[area.adcode] = (area.name_zh, area.name_en)
        if not area.serves_pickup:
            continue
        rows = []
        for carrier_id, template in _templates(area, carriers, templates):
            for window in template.windows:
                load = loads[SlotRef(area.adcode, carrier_id, tomorrow, window)]
                rows.append((f"{carrier_id.upper()} {window.label}", load.booked, load.capacity))
        slots[area.adcode] = rows
    return Figures(
        by_status=by_status,
        slots=slots,
        area_names=names,
        decisions=[(name, decisions[name]) for name in _DECISIONS if decisions.get(name)],
        reasons=reasons.most_common(8),
        reason_rule=reason_rule,
        tomorrow=tomorrow.isoformat(),
    )


def _templates(
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


@router.get("/console/dashboard")
def dashboard(web: OpsPage, adcode: QueryText = "") -> Response:
    """Four plots as inline SVG; the area for tomorrow's bookings defaults to the busiest."""
    data = figures(web.app.services)
    overdue = refund_timing.overdue_refunds(web.app.services)
    if adcode not in data.slots:
        adcode = max(
            data.slots,
            key=lambda a: (sum(b for _, b, _ in data.slots[a]), a == "310104"),
            default="",
        )
    lbl = {
        "return.approved": web._("Approved"),
        "return.held_for_review": web._("Held for review"),
        "return.rejected": web._("Rejected"),
    }
    status_rows = [(web._(labels.STATUS.get(s, s)), n) for s, n in data.by_status]
    reason_rows = [
        (f"{web._(labels.RULE.get(data.reason_rule.get(code, ''), code))} · {code}", n)
        for code, n in data.reasons
    ]
    empty = web._("No data yet.")
    area_name = web.text(*data.area_names[adcode]) if adcode in data.area_names else adcode
    plots = {
        "status": charts.hbars("chart-status", web._("Returns by status"), status_rows, empty),
        "slots": charts.bullets(
            "chart-slots",
            web._("Bookings per window tomorrow vs capacity"),
            data.slots.get(adcode, []),
            (web._("Booked"), web._("Capacity")),
            empty,
        ),
        "decisions": charts.hbars(
            "chart-decisions",
            web._("Decisions by outcome"),
            [(lbl[name], n) for name, n in data.decisions],
            empty,
        ),
        "reasons": charts.hbars(
            "chart-reasons",
            web._("Top reasons"),
            reason_rows,
            empty,
            label_w=300,
            bar_w=380,
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
        tomorrow=data.tomorrow,
        overdue=overdue,
        overdue_shown=overdue[:_OVERDUE_ROWS],
    )
