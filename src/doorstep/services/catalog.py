"""Shops and ops put in what the returns read: products, orders, buyers, areas, fleets."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from doorstep.domain.capacity_edit import CounterMove, retarget
from doorstep.domain.catalog import Product
from doorstep.domain.clock import local
from doorstep.domain.coverage import ServiceArea, SlotTemplate
from doorstep.domain.errors import Conflict, InvalidInput, NotFound
from doorstep.domain.events import Event
from doorstep.domain.fleet import Carrier, Courier
from doorstep.domain.order import Buyer, Order
from doorstep.domain.pickup import SlotRef
from doorstep.services.context import Services
from doorstep.services.offering import capacity_under
from doorstep.services.ports import UnitOfWork
from doorstep.services.returns import units_held

T = TypeVar("T")


def _check_shop(
    caller: str | None, incoming: str, stored: str | None, what: str, ident: str
) -> None:
    """A partner writes only its own shop's records, and cannot learn of another shop's ids."""
    if caller is None:
        return  # ops
    if incoming != caller:
        raise InvalidInput(
            "foreign_shop",
            "You can only import your own shop's data.",
            "只能导入本店铺的数据。",
            **{what: ident},
        )
    if stored is not None and stored != caller:
        raise NotFound(what, ident)


def _saved(name: str, kind: str, ident: str, at: datetime, data: dict[str, Any]) -> Event:
    """The event of one catalog record written (``.imported`` new, ``.updated`` replaced)."""
    return Event(f"{kind}.{name}", kind, ident, at, data)


def import_products(svc: Services, products: Iterable[Product], shop_id: str | None) -> int:
    """Upsert products; a partner may only write its own shop's SKUs."""
    count = 0
    now = svc.clock.now()
    events: list[Event] = []
    with svc.uow() as uow:
        for product in products:
            existing = uow.products.get(product.sku)
            _check_shop(
                shop_id,
                product.shop_id,
                existing.shop_id if existing else None,
                "product",
                product.sku,
            )
            uow.products.put(product)
            events.append(
                _saved(
                    "updated" if existing else "imported",
                    "product",
                    product.sku,
                    now,
                    {"shop_id": product.shop_id, "by": shop_id or "ops"},
                )
            )
            count += 1
        uow.events.append(events)
        uow.commit()
    return count


def import_orders(svc: Services, orders: Iterable[Order], shop_id: str | None) -> int:
    """Upsert orders; every SKU and buyer must already be known, every time plausible, and
    a re-import keeps every unit, price and tax that returns already hold."""
    count = 0
    now = svc.clock.now()
    events: list[Event] = []
    with svc.uow() as uow:
        for order in orders:
            order.check_times(now)
            # The buyer's row before the order's, as the retention sweep locks them: an order
            # imported for a departed buyer is seen by the sweep (it moves the erasure on) or
            # finds the buyer erased.
            buyer = uow.buyers.get_for_update(order.buyer_id)
            # Locked like open_return locks it: a claim and a re-import of the same order are
            # counted one after the other, so neither sees the order the other is replacing.
            existing_order = uow.orders.get_for_update(order.order_id)
            _check_shop(
                shop_id,
                order.shop_id,
                existing_order.shop_id if existing_order else None,
                "order",
                order.order_id,
            )
            if buyer is None:
                raise NotFound("buyer", order.buyer_id)
            _refuse_erased(buyer)
            for line in order.lines:
                if uow.products.get(line.sku) is None:
                    raise NotFound("product", line.sku)
            if order.channel.cross_border and order.customs_released_at is None and order.signed_at:
                raise InvalidInput(
                    "release_time_required",
                    "Cross-border orders need the customs release time.",
                    "跨境订单需提供海关放行时间。",
                    order_id=order.order_id,
                )
            if existing_order is not None:
                _keep_held_lines(uow, existing_order, order)
            uow.orders.put(order)
            events.append(
                _saved(
                    "updated" if existing_order else "imported",
                    "order",
                    order.order_id,
                    now,
                    {
                        "shop_id": order.shop_id,
                        "buyer_id": order.buyer_id,
                        "lines": len(order.lines),
                        "by": shop_id or "ops",
                    },
                )
            )
            count += 1
        uow.events.append(events)
        uow.commit()
    return count


def _keep_held_lines(uow: UnitOfWork, stored: Order, incoming: Order) -> None:
    """Refund amounts and the units still returnable follow the stored lines: a line that
    returns hold may grow but must keep its SKU, price and tax and at least the held units."""
    for line_id, held in units_held(uow, stored.order_id).items():
        before, after = stored.line(line_id), incoming.line(line_id)
        if before is None or held <= 0:
            continue
        if (
            after is None
            or after.quantity < held
            or (after.sku, after.unit_price_fen, after.tax_fen)
            != (before.sku, before.unit_price_fen, before.tax_fen)
        ):
            raise Conflict(
                "order_line_held",
                f"{held} of line {line_id} are under after-sales requests; that line can "
                "no longer lose units or change its item, price or tax.",
                f"订单行 {line_id} 有 {held} 件正在售后处理中，不能再减少数量或更改商品、价格、税额。",
                order_id=stored.order_id,
                line_id=line_id,
                held=held,
            )


def upsert_buyers(svc: Services, buyers: Iterable[Buyer]) -> int:
    """Write buyers' records, each with its event."""
    now = svc.clock.now()
    incoming = list(buyers)
    with svc.uow() as uow:
        stored = {
            b.buyer_id: b for b in uow.buyers.get_many_for_update(b.buyer_id for b in incoming)
        }
        events = []
        for buyer in incoming:
            before = stored.get(buyer.buyer_id)
            if before is not None:
                _refuse_erased(before)
                # A shop's record says nothing of retention: the departure stays as it was.
                buyer = replace(buyer, departed_at=before.departed_at, erase_due=before.erase_due)
            uow.buyers.put(buyer)
            events.append(_saved("saved", "buyer", buyer.buyer_id, now, {}))
        uow.events.append(events)
        uow.commit()
        return len(events)


def _refuse_erased(buyer: Buyer) -> None:
    # An erased buyer id is retired: what is filed under it now are anonymous transaction
    # records, and nothing personal is joined to them again (services/retention.py).
    if buyer.erased_at is not None:
        raise Conflict(
            "buyer_erased",
            "This buyer's personal information was erased after the retention period; the "
            "buyer id cannot be used again.",
            "该买家的个人信息已在保存期满后删除，此买家编号不能再使用。",
            buyer_id=buyer.buyer_id,
        )


def upsert_area(svc: Services, area: ServiceArea) -> CapacitySaved[ServiceArea]:
    """Write the area and give every counted window of it that has not started the figure
    it now yields (its ``capacity_override`` or the template's, with holiday shares and live
    disruption cuts), in one transaction: the same rule as a template edit."""
    return _save_area(svc, area, None)


def change_area_capacity(
    svc: Services, adcode: str, capacity_override: int | None
) -> CapacitySaved[ServiceArea]:
    """A stored area's capacity override set (or cleared with None), the rest of it as it is
    when the edit runs; counters move as for ``upsert_area``."""
    for _ in range(_CHANGE_TRIES):
        with svc.uow() as uow:
            stored = uow.areas.get(adcode)
        if stored is None:
            raise NotFound("service_area", adcode)
        try:
            return _save_area(svc, replace(stored, capacity_override=capacity_override), stored)
        except _AreaChanged:
            continue  # an edit of its carriers or template landed meanwhile: read it again
    raise Conflict(
        "area_busy",
        "The area keeps changing; try again.",
        "该服务区域正在被修改，请重试。",
        adcode=adcode,
    )


# A capacity change whose area was edited under it reads it again, at most this often.
_CHANGE_TRIES = 5


class _AreaChanged(Exception):
    """The area's carriers or template changed between the read and the lock."""


def _save_area(
    svc: Services, area: ServiceArea, based_on: ServiceArea | None
) -> CapacitySaved[ServiceArea]:
    """Write ``area``; with ``based_on``, only if the stored area still is that one (under
    its lock), else ``_AreaChanged``."""
    now = svc.clock.now()
    with svc.uow() as uow:
        # Carriers first, shared, as a carrier edit locks them before anything else: this
        # edit reads the template each carrier runs after any carrier edit in flight.
        carriers = {c.carrier_id: c for c in uow.carriers.get_many_for_share(area.carrier_ids)}
        # Templates before the area, as a template edit takes them: the figures below are
        # read from committed templates, and a template edit waiting here then sees this
        # area running it (it reads its areas after locking the template).
        templates = {}
        wanted = {area.template_id, *(_template_id(area, carriers, c) for c in area.carrier_ids)}
        for template_id in sorted(wanted):
            template = uow.templates.get_for_share(template_id)
            if template is not None:
                templates[template_id] = template
        if area.template_id not in templates:
            raise NotFound("slot_template", area.template_id)
        for carrier_id in area.carrier_ids:
            if carrier_id not in carriers:
                raise NotFound("carrier", carrier_id)
            if _template_id(area, carriers, carrier_id) not in templates:
                raise NotFound("slot_template", _template_id(area, carriers, carrier_id))
        # Bookings read the area FOR SHARE: those in flight commit their counters first (and
        # are moved below), later ones count against the figure this edit leaves.
        locked = uow.areas.get_many_for_update([area.adcode])
        if based_on is not None and locked != [based_on]:
            raise _AreaChanged
        uow.areas.put(area)
        running = {
            area.adcode: (
                area,
                {c: templates[_template_id(area, carriers, c)] for c in area.carrier_ids},
            )
        }
        saved = CapacitySaved(area, *_move_counters(svc, uow, running, now))
        uow.events.append(
            [
                _saved(
                    "saved",
                    "service_area",
                    area.adcode,
                    now,
                    {
                        "template_id": area.template_id,
                        "carrier_ids": list(area.carrier_ids),
                        "pickup_supported": area.pickup_supported,
                        "capacity_override": area.capacity_override,
                        **saved.as_data(),
                    },
                )
            ]
        )
        uow.commit()
        return saved


@dataclass(frozen=True)
class CapacitySaved(Generic[T]):
    """An area or template written, with what it did to windows already counted: the
    counters whose capacity moved, and the windows (not started) now holding more visits
    than their capacity (a lowering cancels none)."""

    saved: T
    moved: tuple[CounterMove, ...]
    over: tuple[CounterMove, ...]

    def as_data(self) -> dict[str, object]:
        """What the edit's event records of the counters."""
        return {
            "counters_moved": [m.as_data() for m in self.moved],
            "over_capacity": [m.as_data() for m in self.over],
        }


TemplateSaved = CapacitySaved[SlotTemplate]


def upsert_template(svc: Services, template: SlotTemplate) -> TemplateSaved:
    """Write the template and move every counter of its windows that have not started to
    the figure it now gives (with holiday shares and live disruption cuts), in one
    transaction; bookings are never cancelled, a window left over capacity is reported."""
    return _save_template(svc, template.template_id, lambda _: template)


def change_template_capacity(
    svc: Services, template_id: str, capacity: int, holiday_capacity_pct: int
) -> TemplateSaved:
    """A stored template's capacity per window and holiday share changed, its windows kept
    as they are when the edit runs (read under the edit's lock, so a windows edit made
    meanwhile is not undone); counters move as for ``upsert_template``."""

    def change(stored: SlotTemplate | None) -> SlotTemplate:
        if stored is None:
            raise NotFound("slot_template", template_id)
        return replace(stored, capacity=capacity, holiday_capacity_pct=holiday_capacity_pct)

    return _save_template(svc, template_id, change)


def _save_template(
    svc: Services, template_id: str, change: Callable[[SlotTemplate | None], SlotTemplate]
) -> TemplateSaved:
    now = svc.clock.now()
    with svc.uow() as uow:
        # The template row is locked first (area edits share it before locking their area),
        # so the areas read next include any area an edit just switched to it.
        template = change(uow.templates.get_for_update(template_id))
        uow.templates.put(template)
        carriers = {c.carrier_id: c for c in uow.carriers.list()}
        users = _areas_running(uow.areas.list(), carriers, template.template_id)
        # Locked as declaring or lifting a disruption locks them, and as bookings share
        # them: bookings in flight commit their counters first (moved below), the counters'
        # figures come from one committed set of disruptions, and a lift after this edit
        # restores this template's figure, not the one it replaced.
        locked = uow.areas.get_many_for_update(list(users))
        # Read again under the area locks: a carrier edit that took a carrier off this
        # template held these areas until it committed (upsert_fleet).
        carriers = {c.carrier_id: c for c in uow.carriers.list()}
        areas = _areas_running(locked, carriers, template.template_id)
        running = {
            adcode: (area, dict.fromkeys(carrier_ids, template))
            for adcode, (area, carrier_ids) in areas.items()
        }
        saved = TemplateSaved(template, *_move_counters(svc, uow, running, now))
        uow.events.append(
            [
                _saved(
                    "saved",
                    "slot_template",
                    template.template_id,
                    now,
                    {
                        "windows": len(template.windows),
                        "capacity": template.capacity,
                        "holiday_capacity_pct": template.holiday_capacity_pct,
                        **saved.as_data(),
                    },
                )
            ]
        )
        uow.commit()
        return saved


def _template_id(area: ServiceArea, carriers: dict[str, Carrier], carrier_id: str) -> str:
    """The template a carrier runs in an area: its own, else the area's (as ``template_for``)."""
    carrier = carriers.get(carrier_id)
    return carrier.template_id if carrier is not None else area.template_id


def _areas_running(
    areas: Iterable[ServiceArea], carriers: dict[str, Carrier], template_id: str
) -> dict[str, tuple[ServiceArea, tuple[str, ...]]]:
    """Each area with the carriers that run ``template_id`` there."""
    out = {}
    for area in areas:
        running = tuple(
            cid for cid in area.carrier_ids if _template_id(area, carriers, cid) == template_id
        )
        if running:
            out[area.adcode] = (area, running)
    return out


Running = dict[str, tuple[ServiceArea, dict[str, SlotTemplate]]]


def _move_counters(
    svc: Services, uow: UnitOfWork, running: Running, now: datetime
) -> tuple[tuple[CounterMove, ...], tuple[CounterMove, ...]]:
    """Give every counted window of these areas' carriers that has not started the figure
    its area and template now yield (the areas are locked by the caller); the counters
    moved and the windows left over capacity."""
    moves = _counter_moves(svc, uow, running, now)
    uow.slots.set_capacities([(m.slot, m.capacity) for m in moves if m.changed])
    return tuple(m for m in moves if m.changed), tuple(m for m in moves if m.over)


def _counter_moves(
    svc: Services, uow: UnitOfWork, running: Running, now: datetime
) -> list[CounterMove]:
    """The new figure of every counted window of ``running`` that has not started."""
    counted = []
    for (adcode, carrier_id, day, start), load in uow.slots.counted_for_update(
        list(running), local(now).date()
    ):
        template = running[adcode][1].get(carrier_id)
        window = template.window(start) if template is not None else None
        # A window its template no longer has takes no booking: its counter is left as is.
        if window is not None:
            counted.append((SlotRef(adcode, carrier_id, day, window), load.capacity, load.booked))
    if not counted:
        return []
    disruptions = uow.disruptions.overlapping(
        min(s.starts_at for s, _, _ in counted), max(s.ends_at for s, _, _ in counted)
    )
    return retarget(
        counted,
        lambda slot: capacity_under(
            svc.calendar,
            running[slot.adcode][0],
            running[slot.adcode][1][slot.carrier_id],
            slot,
            disruptions,
        ),
        now,
    )


FleetSaved = CapacitySaved[tuple[Carrier, ...]]


def upsert_fleet(
    svc: Services, carriers: Iterable[Carrier], couriers: Iterable[Courier]
) -> FleetSaved:
    """Write carriers and couriers; every counted window of a written carrier that has not
    started takes the figure its template (maybe a new one) now gives in each area it runs
    in, in this transaction: the rule of template and area edits. Couriers do not enter a
    window's figure (area override or template capacity), so they move no counter."""
    given = {c.carrier_id: c for c in carriers}
    return _save_fleet(svc, list(given), lambda _: list(given.values()), couriers)


def change_carrier_template(svc: Services, carrier_id: str, template_id: str) -> FleetSaved:
    """A stored carrier switched to another slot template, the rest of it as it is when the
    edit runs (read under the edit's lock); counters move as for ``upsert_fleet``."""

    def change(stored: list[Carrier]) -> list[Carrier]:
        if not stored:
            raise NotFound("carrier", carrier_id)
        return [replace(stored[0], template_id=template_id)]

    return _save_fleet(svc, [carrier_id], change, ())


def _save_fleet(
    svc: Services,
    carrier_ids: list[str],
    change: Callable[[list[Carrier]], list[Carrier]],
    couriers: Iterable[Courier],
) -> FleetSaved:
    now = svc.clock.now()
    with svc.uow() as uow:
        # Carriers, then templates, then areas, then counters. Area edits share their
        # carriers first: each edit reads the template the other left a carrier on.
        edited = {c.carrier_id: c for c in change(uow.carriers.get_many_for_update(carrier_ids))}
        templates = {}
        for template_id in sorted({c.template_id for c in edited.values()}):
            template = uow.templates.get_for_share(template_id)
            if template is None:
                raise NotFound("slot_template", template_id)
            templates[template_id] = template
        events = []
        for carrier in edited.values():
            uow.carriers.put(carrier)
        # Locked as template and area edits lock them: bookings in flight (they share the
        # area) commit their counters first and are moved below; later ones read the
        # carrier written here.
        users = [a.adcode for a in uow.areas.list() if edited.keys() & set(a.carrier_ids)]
        running: Running = {}
        for area in uow.areas.get_many_for_update(users):
            mine = {
                cid: templates[edited[cid].template_id] for cid in area.carrier_ids if cid in edited
            }
            if mine:
                running[area.adcode] = (area, mine)
        saved = FleetSaved(tuple(edited.values()), *_move_counters(svc, uow, running, now))
        for carrier in edited.values():
            of_carrier = FleetSaved(
                (carrier,),
                tuple(m for m in saved.moved if m.slot.carrier_id == carrier.carrier_id),
                tuple(m for m in saved.over if m.slot.carrier_id == carrier.carrier_id),
            )
            events.append(
                _saved(
                    "saved",
                    "carrier",
                    carrier.carrier_id,
                    now,
                    {
                        "template_id": carrier.template_id,
                        "own_fleet": carrier.own_fleet,
                        **of_carrier.as_data(),
                    },
                )
            )
        for courier in couriers:
            uow.couriers.put(courier)
            events.append(_saved("saved", "courier", courier.courier_id, now, {}))
        uow.events.append(events)
        uow.commit()
        return saved


def list_areas(svc: Services) -> list[ServiceArea]:
    with svc.uow() as uow:
        return uow.areas.list()


def list_templates(svc: Services) -> list[SlotTemplate]:
    with svc.uow() as uow:
        return uow.templates.list()


def list_carriers(svc: Services) -> list[Carrier]:
    """Every courier company, by id."""
    with svc.uow() as uow:
        return uow.carriers.list()


def get_product(svc: Services, sku: str) -> Product:
    with svc.uow() as uow:
        product = uow.products.get(sku)
        if product is None:
            raise NotFound("product", sku)
        return product


def orders_of(svc: Services, buyer_id: str) -> list[Order]:
    with svc.uow() as uow:
        return uow.orders.for_buyer(buyer_id)
