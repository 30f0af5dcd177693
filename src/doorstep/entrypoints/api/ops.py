"""Ops: policies, service areas, slot templates, carriers, windows over capacity, review
queue, overdue refunds."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from doorstep.adapters.db.codec import to_plain
from doorstep.domain.coverage import ServiceArea, SlotTemplate, Window
from doorstep.domain.errors import InvalidInput
from doorstep.domain.fleet import Carrier
from doorstep.domain.policy import RuleConfig
from doorstep.entrypoints.api import views
from doorstep.entrypoints.api.deps import OpsActor, Svc
from doorstep.entrypoints.api.errors import domain_values
from doorstep.entrypoints.api.schemas import (
    Adcode,
    AreaIn,
    CarrierIn,
    Day,
    EventOut,
    Id,
    OutlookAreaOut,
    OutlookDayOut,
    OutlookOut,
    OverCapacityOut,
    OverdueRefundOut,
    PolicyIn,
    PolicyOut,
    RetentionOut,
    ReturnOut,
    ReviewIn,
    TemplateIn,
    WaveModelOut,
)
from doorstep.entrypoints.api.schemas_money import LeadTimesOut
from doorstep.services import (
    catalog,
    outlook,
    over_capacity,
    policies,
    rebalance,
    refund_timing,
    retention,
    returns,
    timeline,
)
from doorstep.services.catalog import CapacitySaved

router = APIRouter(prefix="/ops", tags=["ops"])


@router.get("/policy", response_model=PolicyOut, summary="The current audit policy")
def get_policy(svc: Svc, _: OpsActor) -> PolicyOut:
    return views.policy_out(policies.current_policy(svc))


@router.get("/policy/{version}", response_model=PolicyOut, summary="A past policy version")
def get_policy_version(
    svc: Svc, _: OpsActor, version: Annotated[int, Path(ge=1, le=1_000_000)]
) -> PolicyOut:
    return views.policy_out(policies.policy_version(svc, version))


@router.post(
    "/policy",
    response_model=PolicyOut,
    status_code=201,
    summary="Change rules; creates the next policy version",
)
def revise_policy(svc: Svc, me: OpsActor, body: PolicyIn) -> PolicyOut:
    with domain_values():
        rules = tuple(RuleConfig(r.code, r.enabled, dict(r.params)) for r in body.rules)
    return views.policy_out(policies.revise_policy(svc, rules, me.actor_id, body.note))


@router.get("/areas", summary="Service areas")
def list_areas(svc: Svc, _: OpsActor) -> list[dict[str, object]]:
    return [to_plain(a) for a in catalog.list_areas(svc)]


@router.put("/areas/{adcode}", summary="Create or change a service area")
def put_area(svc: Svc, _: OpsActor, adcode: Adcode, body: AreaIn) -> dict[str, object]:
    _same(adcode, body.adcode, "adcode", "The adcode", "行政区划代码")
    with domain_values():
        area = ServiceArea(
            **{
                **body.model_dump(),
                "carrier_ids": tuple(body.carrier_ids),
                "company_carriers": tuple(body.company_carriers),
            }
        )
    # As a template edit: windows not started took the figure the area now gives.
    return _with_counters(catalog.upsert_area(svc, area))


@router.get("/templates", summary="Slot templates")
def list_templates(svc: Svc, _: OpsActor) -> list[dict[str, object]]:
    return [to_plain(t) for t in catalog.list_templates(svc)]


@router.put(
    "/templates/{template_id}",
    summary="Create or change a slot template; windows not started take the new capacity",
)
def put_template(svc: Svc, _: OpsActor, template_id: Id, body: TemplateIn) -> dict[str, object]:
    _same(template_id, body.template_id, "template_id", "The id", "模板编号")
    template = SlotTemplate(
        template_id,
        body.name,
        tuple(Window(w.start, w.end) for w in body.windows),
        body.capacity,
        body.holiday_capacity_pct,
    )
    # Windows not started yet took the new figure; those left holding more visits than it
    # are listed for ops (no booking is cancelled by a lowering).
    return _with_counters(catalog.upsert_template(svc, template))


@router.get("/carriers", summary="Courier companies, with the slot template each runs")
def list_carriers(svc: Svc, _: OpsActor) -> list[dict[str, object]]:
    return [to_plain(c) for c in catalog.list_carriers(svc)]


@router.put(
    "/carriers/{carrier_id}",
    summary="Create or change a courier company; its windows not started take the figure "
    "its template gives",
)
def put_carrier(svc: Svc, _: OpsActor, carrier_id: Id, body: CarrierIn) -> dict[str, object]:
    _same(carrier_id, body.carrier_id, "carrier_id", "The id", "快递公司编号")
    saved = catalog.upsert_fleet(svc, [Carrier(**body.model_dump())], [])
    # As a template edit: a carrier switched to another template moved its counted windows.
    return _with_counters(CapacitySaved(saved.saved[0], saved.moved, saved.over))


def _same(in_path: str, in_body: str, field: str, en: str, zh: str) -> None:
    """The record a PUT names in its path is the one its body describes."""
    if in_path != in_body:
        raise InvalidInput(
            f"{field}_mismatch",
            f"{en} in the path and body differ.",
            f"路径与请求体中的{zh}不一致。",
        )


def _with_counters(saved: CapacitySaved[Any]) -> dict[str, object]:
    """What an area, template or carrier edit answers: the record written, how many
    counters moved, and the windows it left over capacity."""
    return {
        **dict(to_plain(saved.saved)),
        "counters_moved": len(saved.moved),
        "over_capacity": [m.as_data() for m in saved.over],
    }


@router.get(
    "/windows/over-capacity",
    response_model=list[OverCapacityOut],
    summary="Windows not started holding more visits than their capacity, soonest first; "
    "the total in X-Total-Count",
)
def windows_over_capacity(
    svc: Svc,
    _: OpsActor,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OverCapacityOut]:
    """The ``limit`` soonest; how many windows are over capacity in all is in
    ``X-Total-Count``."""
    found = over_capacity.over_capacity(svc, limit)
    response.headers["X-Total-Count"] = str(found.total)
    return [
        OverCapacityOut(
            adcode=w.adcode,
            carrier_id=w.carrier_id,
            day=w.day,
            start=f"{w.start:%H:%M}",
            capacity=w.capacity,
            booked=w.booked,
            over=w.over,
        )
        for w in found.shown
    ]


@router.post(
    "/windows/{adcode}/{carrier_id}/{day}/{start}/rebalance",
    summary="Move the visits a window holds beyond its capacity, latest booked first, to the "
    "nearest later windows of its carrier and area with room",
)
def rebalance_window(
    svc: Svc,
    _: OpsActor,
    adcode: Adcode,
    carrier_id: Id,
    day: Day,
    start: Annotated[str, Path(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")],
) -> dict[str, object]:
    """Each move is an ``appointment.rescheduled`` (reason ``over_capacity``); a retry or a
    second console moves nothing more once the window is no longer over."""
    done = rebalance.rebalance_window(svc, adcode, carrier_id, day, time.fromisoformat(start))
    return {
        "moved": [
            {"appointment_id": m.appointment_id, "slot": m.to.key, "day": m.to.day.isoformat()}
            for m in done.moved
        ],
        "left_over": done.left_over,
    }


@router.get("/reviews", response_model=list[ReturnOut], summary="Returns held for review")
def review_queue(
    svc: Svc, _: OpsActor, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[ReturnOut]:
    return [views.return_out(r) for r in returns.review_queue(svc, limit)]


@router.post("/reviews/{return_id}", response_model=ReturnOut, summary="Approve or reject")
def review(svc: Svc, me: OpsActor, return_id: Id, body: ReviewIn) -> ReturnOut:
    return views.return_out(
        returns.review_return(
            svc, return_id, approve=body.approve, reviewer=me.actor_id, note=body.note
        )
    )


@router.get("/returns/{return_id}", response_model=ReturnOut, summary="Any return")
def any_return(svc: Svc, _: OpsActor, return_id: Id) -> ReturnOut:
    return views.return_out(returns.get_return(svc, return_id))


@router.get("/returns/{return_id}/timeline", response_model=list[EventOut])
def any_timeline(svc: Svc, _: OpsActor, return_id: Id) -> list[EventOut]:
    return [views.event_out(e) for e in timeline.timeline(svc, return_id)]


@router.get(
    "/refunds/overdue",
    response_model=list[OverdueRefundOut],
    summary="Refunds past their due time (7 days after receipt), longest overdue first; "
    "the total in X-Total-Count",
)
def overdue_refunds(
    svc: Svc,
    _: OpsActor,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[OverdueRefundOut]:
    """The ``limit`` longest overdue; how many are overdue in all is in ``X-Total-Count``."""
    overdue = refund_timing.overdue_refunds(svc, limit)
    response.headers["X-Total-Count"] = str(overdue.total)
    return [OverdueRefundOut.model_validate(o) for o in overdue.shown]


@router.get(
    "/refunds/lead-times",
    response_model=LeadTimesOut,
    summary="Refund lead time: request → money and pickup → money, per Shanghai day",
)
def refund_lead_times(
    svc: Svc, _: OpsActor, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> LeadTimesOut:
    return LeadTimesOut.model_validate(refund_timing.lead_times(svc, days))


@router.get(
    "/retention",
    response_model=RetentionOut,
    summary="Departed buyers: due for erasure, erased, and the next due date",
)
def retention_view(svc: Svc, _: OpsActor) -> RetentionOut:
    seen = retention.summary(svc)
    en, zh = retention.describe(seen, svc.retention.years)
    return RetentionOut(
        due=seen.due,
        erased=seen.erased,
        next_due=seen.next_due,
        retention_years=svc.retention.years,
        note_en=en,
        note_zh=zh,
    )


@router.get(
    "/outlook",
    response_model=OutlookOut,
    summary="Coming days per district: pickups the return wave of orders already signed for "
    "expects, the same weekday of the last four weeks, capacity",
)
def outlook_view(
    svc: Svc,
    _: OpsActor,
    days: Annotated[int, Query(ge=1, le=outlook.MAX_DAYS)] = 3,
    adcode: Annotated[Adcode | None, Query()] = None,
) -> OutlookOut:
    """Every district serving pickups, or ``adcode``'s only, for the ``days`` after today."""
    today, found = outlook.coming(svc, days, adcode)
    model = found.model
    return OutlookOut(
        today=today,
        model=None
        if model is None
        else WaveModelOut(
            orders=model.orders,
            return_rate=model.city_rate,
            pickup_share=model.city_pickup_share,
            lag=list(model.lag),
            lead=list(model.lead),
        ),
        days=[
            OutlookDayOut(
                day=day,
                areas=[
                    OutlookAreaOut(
                        adcode=a,
                        booked=v.booked,
                        capacity=v.capacity,
                        weekday_mean=v.weekday_mean,
                        wave=v.wave,
                        requests=v.requests,
                        short_windows=sum(w.short for w in found.windows[day][a]),
                    )
                    for a, v in sorted(found.areas[day].items())
                ],
            )
            for day in found.days
        ],
    )
