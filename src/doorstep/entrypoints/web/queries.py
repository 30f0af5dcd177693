"""Small read-only lookups the pages need and no use case offers; one unit of work each.

Nothing here writes: each helper opens a unit of work, reads through the repositories and
leaves without committing (the unit of work rolls back).
"""

from __future__ import annotations

from doorstep.domain.fleet import Carrier
from doorstep.domain.policy import Policy
from doorstep.domain.returns import ReturnRequest
from doorstep.services.context import Services


def product_names(svc: Services, skus: set[str]) -> dict[str, tuple[str, str]]:
    """SKU → (Chinese name, English name) in one read; unknown SKUs show as themselves."""
    if not skus:
        return {}
    with svc.uow() as uow:
        found = {p.sku: (p.name_zh, p.name_en) for p in uow.products.get_many(skus)}
    return {sku: found.get(sku, (sku, sku)) for sku in sorted(skus)}


def carriers(svc: Services) -> list[Carrier]:
    with svc.uow() as uow:
        return uow.carriers.list()


def policy_history(svc: Services) -> list[Policy]:
    """Every stored policy version, newest first."""
    with svc.uow() as uow:
        return uow.policies.history()


def returns_of_many(svc: Services, ids: list[str]) -> dict[str, ReturnRequest]:
    """Returns by id in one read (the courier's visit lists them); missing ids are left out."""
    if not ids:
        return {}
    with svc.uow() as uow:
        return {r.return_id: r for r in uow.returns.get_many(ids)}
