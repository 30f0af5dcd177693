"""Request dependencies: the wired app, the signed-in actor, and role guards."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from doorstep.bootstrap import App
from doorstep.domain.errors import Forbidden, Unauthorized
from doorstep.domain.identity import Actor, Role
from doorstep.entrypoints.api.schemas import Id
from doorstep.services import identity
from doorstep.services.context import Services

_bearer = HTTPBearer(auto_error=False, description="Token from POST /auth/token")


def get_app(request: Request) -> App:
    app: App = request.app.state.doorstep
    return app


def get_services(app: Annotated[App, Depends(get_app)]) -> Services:
    return app.services


def bearer_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The raw bearer token of the request."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("token_missing", "Send a bearer token.", "请提供访问令牌。")
    return credentials.credentials


def current_actor(
    app: Annotated[App, Depends(get_app)], token: Annotated[str, Depends(bearer_token)]
) -> Actor:
    return identity.authenticate(app.services, token)


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (uvicorn applies X-Forwarded-For only from
    the proxies it trusts, FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


def role(*allowed: Role) -> Callable[[Actor], Actor]:
    """A dependency that admits only the given roles."""

    def guard(actor: Annotated[Actor, Depends(current_actor)]) -> Actor:
        if actor.role not in allowed:
            raise Forbidden(
                "role_not_allowed",
                f"This needs the role {' or '.join(r.value for r in allowed)}.",
                "您的角色无权执行此操作。",
            )
        return actor

    return guard


AppDep = Annotated[App, Depends(get_app)]
Svc = Annotated[Services, Depends(get_services)]
BuyerActor = Annotated[Actor, Depends(role(Role.BUYER))]
CourierActor = Annotated[Actor, Depends(role(Role.COURIER))]
WarehouseActor = Annotated[Actor, Depends(role(Role.WAREHOUSE))]
StationOrWarehouse = Annotated[Actor, Depends(role(Role.STATION, Role.WAREHOUSE))]
OpsActor = Annotated[Actor, Depends(role(Role.OPS))]
PartnerOrOps = Annotated[Actor, Depends(role(Role.PARTNER, Role.OPS))]
AnyActor = Annotated[Actor, Depends(current_actor)]
BearerToken = Annotated[str, Depends(bearer_token)]
ClientAddress = Annotated[str, Depends(client_address)]


@dataclass(frozen=True)
class ReturnOfBuyer:
    """A signed-in buyer and the return they name in the path. Nothing is read here: the use
    case loads the return in its own transaction and answers not found for another buyer's
    (services/lookups.owned), so a request reads it once and ids cannot be probed."""

    buyer_id: str
    return_id: str


def return_of_buyer(buyer: BuyerActor, return_id: Id) -> ReturnOfBuyer:
    """The buyer guard and the path's ``return_id`` of the buyers' return routes."""
    return ReturnOfBuyer(buyer.actor_id, return_id)


MyReturn = Annotated[ReturnOfBuyer, Depends(return_of_buyer)]
