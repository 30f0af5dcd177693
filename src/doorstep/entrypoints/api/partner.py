"""Shops (partners) and ops import the products and orders that returns refer to."""

from __future__ import annotations

from fastapi import APIRouter

from doorstep.domain.catalog import Dimensions, Product
from doorstep.domain.identity import Role
from doorstep.domain.order import Order, OrderLine, Promotions
from doorstep.entrypoints.api.deps import PartnerOrOps, Svc
from doorstep.entrypoints.api.errors import domain_values
from doorstep.entrypoints.api.returns import to_address
from doorstep.entrypoints.api.schemas import ImportedOut, ImportOrdersIn, ImportProductsIn, OrderIn
from doorstep.services import catalog

router = APIRouter(prefix="/partner", tags=["partner"])


@router.post("/products", response_model=ImportedOut, summary="Upsert products (SKUs)")
def import_products(svc: Svc, me: PartnerOrOps, body: ImportProductsIn) -> ImportedOut:
    with domain_values():
        products = [
            Product(
                **{
                    **p.model_dump(exclude={"dimensions"}),
                    "dimensions": Dimensions(**p.dimensions.model_dump()),
                    "accessories": tuple(p.accessories),
                }
            )
            for p in body.products
        ]
    shop = me.actor_id if me.role is Role.PARTNER else None
    return ImportedOut(imported=catalog.import_products(svc, products, shop))


@router.post("/orders", response_model=ImportedOut, summary="Upsert orders")
def import_orders(svc: Svc, me: PartnerOrOps, body: ImportOrdersIn) -> ImportedOut:
    with domain_values():
        orders = [_order(o) for o in body.orders]
    shop = me.actor_id if me.role is Role.PARTNER else None
    return ImportedOut(imported=catalog.import_orders(svc, orders, shop))


def _order(o: OrderIn) -> Order:
    return Order(
        order_id=o.order_id,
        buyer_id=o.buyer_id,
        shop_id=o.shop_id,
        channel=o.channel,
        placed_at=o.placed_at,
        shipping_address=to_address(o.shipping_address),
        lines=tuple(
            OrderLine(**{**ln.model_dump(), "serial_numbers": tuple(ln.serial_numbers)})
            for ln in o.lines
        ),
        signed_at=o.signed_at,
        customs_released_at=o.customs_released_at,
        lost_at=o.lost_at,
        declaration_no=o.declaration_no,
        promotions=Promotions(**o.promotions.model_dump()),
        return_freight_by_shop=o.return_freight_by_shop,
        freight_insurance=o.freight_insurance,
    )
