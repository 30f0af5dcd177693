"""Operations on accounts: disabling or deleting one ends its sessions at once."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Response

from doorstep.entrypoints.api.deps import OpsActor, Svc
from doorstep.entrypoints.api.schemas import ErrorOut, UserOut
from doorstep.services import identity

router = APIRouter(prefix="/ops/users", tags=["ops"])

Username = Annotated[str, Path(min_length=1, max_length=64)]


@router.post(
    "/{username}/{action}",
    response_model=UserOut,
    summary="Disable an account (its tokens stop working at once) or enable it again",
    responses={404: {"model": ErrorOut}},
)
def set_active(
    svc: Svc, _: OpsActor, username: Username, action: Literal["disable", "enable"]
) -> UserOut:
    user = identity.set_active(svc, username, action == "enable")
    return UserOut(
        username=user.username, role=user.role, actor_id=user.actor_id, active=user.active
    )


@router.delete(
    "/{username}",
    status_code=204,
    summary="Delete an account; its tokens stop working at once",
    description=(
        "The last account of a courier takes the courier out of the fleet and puts the "
        "visits they had not made back in the pool (windows still held); the last account "
        "of a buyer withdraws the returns not handed over yet, cancelling their visits. "
        "409 `courier_at_door` / `visit_in_progress` while a courier is at a door of theirs, "
        "`account_has_returns_in_flight` while goods are on their way back unrefunded, "
        "`account_has_money_owed` while a claim is undecided or unpaid or a payment to "
        "them is not settled."
    ),
    responses={404: {"model": ErrorOut}, 409: {"model": ErrorOut}},
)
def delete(svc: Svc, _: OpsActor, username: Username) -> Response:
    identity.delete_user(svc, username)
    return Response(status_code=204)
