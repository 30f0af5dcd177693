"""Signing in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form

from doorstep.entrypoints.api.deps import AnyActor, Svc
from doorstep.entrypoints.api.schemas import TokenIn, TokenOut
from doorstep.services import identity

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, summary="Sign in with username and password")
def token(svc: Svc, body: Annotated[TokenIn, Form()]) -> TokenOut:
    session = identity.sign_in(svc, body.username, body.password)
    return TokenOut(access_token=session.access_token, role=session.role, actor_id=session.actor_id)


@router.get("/me", summary="Who the token belongs to")
def me(actor: AnyActor) -> dict[str, str]:
    return {"user_id": actor.user_id, "role": actor.role.value, "actor_id": actor.actor_id}
