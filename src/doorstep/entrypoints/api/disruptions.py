"""Ops: declare and lift disruptions (typhoons, road closures)."""

from __future__ import annotations

from fastapi import APIRouter

from doorstep.entrypoints.api.deps import OpsActor, Svc
from doorstep.entrypoints.api.errors import domain_values
from doorstep.entrypoints.api.schemas import (
    DisruptionIn,
    DisruptionOut,
    DisruptionReportOut,
    Id,
    MoveOut,
)
from doorstep.services import disruptions

router = APIRouter(prefix="/ops/disruptions", tags=["ops"])


@router.post(
    "",
    response_model=DisruptionReportOut,
    status_code=201,
    summary="Declare a disruption; affected visits move to the nearest windows",
)
def declare(svc: Svc, me: OpsActor, body: DisruptionIn) -> DisruptionReportOut:
    with domain_values():
        report = disruptions.declare_disruption(
            svc,
            me.actor_id,
            body.kind,
            body.adcodes,
            body.starts_at,
            body.ends_at,
            body.capacity_pct,
            body.reason_en,
            body.reason_zh,
        )
    return DisruptionReportOut(
        disruption=DisruptionOut.model_validate(report.disruption),
        moved=[MoveOut(appointment_id=a, old_slot=o, new_slot=n) for a, o, n in report.moved],
        stranded=list(report.stranded),
    )


@router.get("", response_model=list[DisruptionOut], summary="Recent disruptions")
def recent(svc: Svc, _: OpsActor) -> list[DisruptionOut]:
    return [DisruptionOut.model_validate(d) for d in disruptions.recent_disruptions(svc)]


@router.post("/{disruption_id}/lift", response_model=DisruptionOut, summary="End it early")
def lift(svc: Svc, me: OpsActor, disruption_id: Id) -> DisruptionOut:
    return DisruptionOut.model_validate(
        disruptions.lift_disruption(svc, me.actor_id, disruption_id)
    )
