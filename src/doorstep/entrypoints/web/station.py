"""Station page (phone-sized): a drop-off station's staff scan or type the buyer's drop-off
code, see what is handed over (items, the return, how many parcels) and take it once. Staff of
an operator running several stations pick the one they stand at (``station``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import Response

from doorstep.domain.errors import DomainError
from doorstep.domain.identity import Role
from doorstep.entrypoints.api.errors import STATUS
from doorstep.entrypoints.web import queries
from doorstep.entrypoints.web.render import WebRoute, render
from doorstep.entrypoints.web.session import Web, action, page
from doorstep.services import stations

router = APIRouter(route_class=WebRoute, include_in_schema=False)
StationPage = Annotated[Web, Depends(page(Role.STATION))]
StationPost = Annotated[Web, Depends(action(Role.STATION))]
# The field takes the 8 digits or the QR's text (``DOORSTEP-DROPOFF:<station>:<code>``).
SCAN_MAX = 120


def desk(web: Web, station_id: str, scanned: str, *, take: bool = False) -> Response:
    """The scan field at ``station_id`` (empty: the operator's own or first station); with a
    code, what it stands for, or the refusal in plain words; with ``take``, the parcel taken."""
    svc, operator = web.app.services, web.actor_id
    run = stations.stations_run_by(svc, operator)
    if not station_id:
        own = [s.station_id for s in run if s.station_id == operator]
        station_id = (own or [s.station_id for s in run] or [operator])[0]
    station = stations.station_for(svc, operator, station_id)
    preview, error, status, taken = None, None, 200, None
    if scanned.strip():
        try:
            code = stations.read_code(scanned, station_id)
            preview = stations.preview_dropoff(svc, operator, station_id, code)
            if take:
                taken = stations.take_dropoff(svc, operator, station_id, code)
        except DomainError as exc:
            error, status = web.error_text(exc), STATUS[exc.kind]
    names = queries.product_names(svc, {ln.sku for ln in preview.lines} if preview else set())
    notice = None
    if taken is not None:
        notice = web._("Taken: return %(id)s is on its way to the return warehouse.") % {
            "id": taken.return_id
        }
    return render(
        web,
        "station.html",
        status=status,
        here="/station",
        station=station,
        stations=run,
        code="" if taken else scanned.strip(),
        preview=preview,
        taken=taken is not None,
        names=names,
        error=error,
        notice=notice,
    )


@router.get("/station")
def station_desk(
    web: StationPage,
    code: Annotated[str, Query(max_length=SCAN_MAX)] = "",
    station: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The desk; ``code`` is what the scanner typed (it presses Enter: the form is sent)."""
    return desk(web, station, code)


@router.post("/station/dropoffs")
def take(
    web: StationPost,
    code: Annotated[str, Form(max_length=SCAN_MAX)] = "",
    station: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Take the parcel the code stands for (once: a second scan is told it was used)."""
    return desk(web, station, code, take=True)
