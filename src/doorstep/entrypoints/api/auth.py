"""Signing in and out, changing one's password."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Response

from doorstep.entrypoints.api.deps import AnyActor, BearerToken, ClientAddress, Svc
from doorstep.entrypoints.api.schemas import ErrorOut, PasswordChangeIn, TokenIn, TokenOut
from doorstep.services import identity

router = APIRouter(prefix="/auth", tags=["auth"])

_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorOut, "description": "Too many attempts; see Retry-After"},
    503: {"model": ErrorOut, "description": "Too many sign-ins at once; see Retry-After"},
}


@router.post(
    "/token",
    response_model=TokenOut,
    summary="Sign in with username and password",
    responses={401: {"model": ErrorOut}, **_LIMITED},
)
def token(svc: Svc, address: ClientAddress, body: Annotated[TokenIn, Form()]) -> TokenOut:
    session = identity.sign_in(svc, body.username, body.password, address=address)
    return TokenOut(access_token=session.access_token, role=session.role, actor_id=session.actor_id)


@router.post(
    "/logout",
    status_code=204,
    summary="End this token's session",
    responses={401: {"model": ErrorOut}},
)
def logout(svc: Svc, _: AnyActor, bearer: BearerToken) -> Response:
    identity.sign_out(svc, bearer)
    return Response(status_code=204)


@router.post(
    "/password",
    response_model=TokenOut,
    summary="Change the password; every other session of the account ends",
    responses={401: {"model": ErrorOut}, **_LIMITED},
)
def change_password(
    svc: Svc, me: AnyActor, address: ClientAddress, body: PasswordChangeIn
) -> TokenOut:
    session = identity.change_password(
        svc, me, body.current_password, body.new_password, address=address
    )
    return TokenOut(access_token=session.access_token, role=session.role, actor_id=session.actor_id)


@router.get("/me", summary="Who the token belongs to")
def me(actor: AnyActor) -> dict[str, str]:
    return {"user_id": actor.user_id, "role": actor.role.value, "actor_id": actor.actor_id}
