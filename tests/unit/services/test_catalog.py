"""Shops and ops put in products, orders, buyers, areas and fleets."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import B3, B3_HOME, MINHANG, PILLOW  # type: ignore[import-not-found]

from doorstep.domain.errors import InvalidInput, NotFound
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.services import catalog


def _order(world: World, **changes: object) -> Order:
    now = world.clock.now()
    base = Order(
        "TM-NEW-1",
        B3,
        "shop-cn-home",
        Channel.DOMESTIC,
        now,
        B3_HOME,
        (OrderLine("L1", PILLOW, 1, 39_900),),
        signed_at=now,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_import_products_only_for_the_partners_shop(world: World) -> None:
    pillow = world.data.product(PILLOW)
    assert (
        catalog.import_products(world.svc, [replace(pillow, name_en="Pillow v2")], "shop-cn-home")
        == 1
    )
    assert world.store.item("products", PILLOW).name_en == "Pillow v2"
    with pytest.raises(InvalidInput, match="foreign_shop"):
        catalog.import_products(world.svc, [pillow], "shop-kr-beauty")
    stolen = replace(pillow, shop_id="shop-kr-beauty")
    with pytest.raises(NotFound, match="product_not_found"):
        catalog.import_products(world.svc, [stolen], "shop-kr-beauty")
    assert world.store.item("products", PILLOW).shop_id == "shop-cn-home"


def test_import_orders_checks_buyer_products_and_customs(world: World) -> None:
    assert catalog.import_orders(world.svc, [_order(world)], "shop-cn-home") == 1
    with pytest.raises(NotFound, match="buyer_not_found"):
        catalog.import_orders(world.svc, [_order(world, order_id="X2", buyer_id="nobody")], None)
    with pytest.raises(NotFound, match="product_not_found"):
        lines = (OrderLine("L1", "NOPE", 1, 1),)
        catalog.import_orders(world.svc, [_order(world, order_id="X3", lines=lines)], None)
    with pytest.raises(InvalidInput, match="release_time_required"):
        catalog.import_orders(
            world.svc, [_order(world, order_id="X4", channel=Channel.BONDED)], None
        )
    with pytest.raises(InvalidInput, match="foreign_shop"):
        catalog.import_orders(world.svc, [_order(world, order_id="X5")], "shop-kr-beauty")
    assert [
        o.order_id for o in catalog.orders_of(world.svc, B3) if o.order_id.startswith("X")
    ] == []


def test_a_bad_order_in_a_batch_imports_none(world: World) -> None:
    good, bad = _order(world, order_id="G1"), _order(world, order_id="B1", buyer_id="nobody")
    with pytest.raises(NotFound):
        catalog.import_orders(world.svc, [good, bad], None)
    assert world.store.item("orders", "G1") is None


def test_upsert_area_needs_known_template_and_carriers(world: World) -> None:
    area = world.data.area(MINHANG)
    with pytest.raises(NotFound, match="slot_template_not_found"):
        catalog.upsert_area(world.svc, replace(area, template_id="nope"))
    with pytest.raises(NotFound, match="carrier_not_found"):
        catalog.upsert_area(world.svc, replace(area, carrier_ids=("yto", "zto")))
    catalog.upsert_area(world.svc, replace(area, capacity_override=3))
    assert world.store.item("areas", MINHANG).capacity_override == 3
    assert MINHANG in {a.adcode for a in catalog.list_areas(world.svc)}


def _events(world: World, *names: str) -> list[tuple[str, str, dict[str, object]]]:
    return [
        (e.name, e.aggregate_id, e.data) for e in world.store.events if e.name.startswith(names)
    ]


def test_every_catalog_write_is_an_event_and_a_refused_batch_writes_none(world: World) -> None:
    catalog.import_orders(world.svc, [_order(world)], "shop-cn-home")
    catalog.import_orders(world.svc, [_order(world)], "shop-cn-home")
    assert _events(world, "order.") == [
        ("order.imported", "TM-NEW-1", {"shop_id": "shop-cn-home", "buyer_id": B3, "lines": 1,
                                        "by": "shop-cn-home"}),
        ("order.updated", "TM-NEW-1", {"shop_id": "shop-cn-home", "buyer_id": B3, "lines": 1,
                                       "by": "shop-cn-home"}),
    ]  # fmt: skip
    good, bad = _order(world, order_id="X1"), _order(world, order_id="X2", buyer_id="nobody")
    with pytest.raises(NotFound):
        catalog.import_orders(world.svc, [good, bad], None)
    assert not [e for e in _events(world, "order.") if e[1] == "X1"]  # nothing half-done

    catalog.import_products(world.svc, [world.data.product(PILLOW)], None)
    assert _events(world, "product.")[-1][:2] == ("product.updated", PILLOW)
    area = next(a for a in catalog.list_areas(world.svc) if a.adcode == MINHANG)
    catalog.upsert_area(world.svc, replace(area, capacity_override=3))
    assert _events(world, "service_area.")[-1][1:] == (
        MINHANG,
        {"template_id": area.template_id, "carrier_ids": list(area.carrier_ids),
         "pickup_supported": area.pickup_supported, "capacity_override": 3,
         "counters_moved": [], "over_capacity": []},
    )  # fmt: skip
    template = catalog.list_templates(world.svc)[0]
    catalog.upsert_template(world.svc, template)
    assert _events(world, "slot_template.")[-1][:2] == ("slot_template.saved", template.template_id)
    catalog.upsert_buyers(world.svc, [world.data.buyer(B3)])
    assert _events(world, "buyer.")[-1][:2] == ("buyer.saved", B3)
