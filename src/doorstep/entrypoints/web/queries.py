"""Small read-only lookups the pages need and no use case offers; one unit of work each.

Nothing here writes: each helper opens a unit of work, reads through the repositories and
leaves without committing (the unit of work rolls back).
"""

from __future__ import annotations

from doorstep.domain.errors import DomainError
from doorstep.domain.fleet import Carrier
from doorstep.domain.policy import Policy
from doorstep.domain.returns import ReturnRequest
from doorstep.services import catalog
from doorstep.services.context import Services


def product_names(svc: Services, skus: set[str]) -> dict[str, tuple[str, str]]:
    """SKU → (Chinese name, English name); unknown SKUs show as themselves."""
    names: dict[str, tuple[str, str]] = {}
    for sku in sorted(skus):
        try:
            product = catalog.get_product(svc, sku)
            names[sku] = (product.name_zh, product.name_en)
        except DomainError:
            names[sku] = (sku, sku)
    return names


def carriers(svc: Services) -> list[Carrier]:
    with svc.uow() as uow:
        return uow.carriers.list()


def policy_history(svc: Services) -> list[Policy]:
    """Every stored policy version, newest first."""
    with svc.uow() as uow:
        return uow.policies.history()


def returns_of_many(svc: Services, ids: list[str]) -> dict[str, ReturnRequest]:
    """Returns by id (the courier's visit lists them); missing ids are left out."""
    out: dict[str, ReturnRequest] = {}
    with svc.uow() as uow:
        for return_id in ids:
            request = uow.returns.get(return_id)
            if request is not None:
                out[return_id] = request
    return out
