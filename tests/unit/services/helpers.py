"""Builders for the service unit tests: orders, approved returns, booked visits, photos."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from tests.unit.services.fakes import World  # type: ignore[import-not-found]

from doorstep.domain.address import Address
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import GENERIC_TWO_HOUR, SF_ONE_HOUR, Window
from doorstep.domain.inspection import UnitAnswer
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.pickup import Appointment, SlotRef
from doorstep.domain.returns import Reason, ReturnKind, ReturnRequest, ReturnStatus
from doorstep.services import courier, photos, pickup, returns
from doorstep.services.returns import LineRequest, OpenReturn

TODAY = date(2026, 11, 25)  # T0 is 09:00 on this Shanghai day
TOMORROW = date(2026, 11, 26)
DAY_AFTER = date(2026, 11, 27)
MINHANG = "310112"  # yto first, then sf; couriers: yto-02 (depot here, 08–17)
XUHUI = "310104"  # sf first, then yto; couriers: sf-01 (depot here)
PILLOW = "CN-LATEX-PILLOW"  # 39 900 fen, domestic, no flags
B3 = "buyer-003"  # trust 600: no express refund
B1 = "buyer-001"  # trust 850: express refund
ALL_PASS = dict.fromkeys(courier.CHECKLIST, True)

B3_HOME = Address(
    MINHANG,
    "上海市",
    "上海市",
    "闵行区",
    "闵行区莘松路958弄12号402室",
    "王浩然",
    "13800001003",
    31.1110,
    121.3850,
)
B1_HOME = Address(
    XUHUI,
    "上海市",
    "上海市",
    "徐汇区",
    "徐汇区漕溪北路88号3号楼1202室",
    "林晓雯",
    "13800001001",
    31.1890,
    121.4370,
)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def yto(hour: int, day: date = TOMORROW) -> pickup.SlotChoice:
    return pickup.SlotChoice("yto", day, time(hour))


def sf(hour: int, day: date = TOMORROW) -> pickup.SlotChoice:
    return pickup.SlotChoice("sf", day, time(hour))


def slot_of(choice: pickup.SlotChoice, adcode: str = MINHANG) -> SlotRef:
    template = SF_ONE_HOUR if choice.carrier_id == "sf" else GENERIC_TWO_HOUR
    window = template.window(choice.start)
    assert window is not None
    return SlotRef(adcode, choice.carrier_id, choice.day, Window(window.start, window.end))


def new_order(
    world: World,
    *,
    buyer_id: str = B3,
    address: Address = B3_HOME,
    sku: str = PILLOW,
    quantity: int = 1,
    unit_price_fen: int = 39_900,
    tax_fen: int = 0,
    channel: Channel = Channel.DOMESTIC,
    signed_days_ago: int = 1,
    released_days_ago: int | None = None,
    lines: tuple[OrderLine, ...] | None = None,
) -> Order:
    """A fresh order committed to the store, signed ``signed_days_ago`` days before now."""
    now = world.clock.now()
    order = Order(
        world.ids.new("O"),
        buyer_id,
        "shop-test",
        channel,
        now - timedelta(days=signed_days_ago + 2),
        address,
        lines or (OrderLine("L1", sku, quantity, unit_price_fen, tax_fen),),
        signed_at=now - timedelta(days=signed_days_ago),
        customs_released_at=(
            None if released_days_ago is None else now - timedelta(days=released_days_ago)
        ),
    )
    world.store.put("orders", order.order_id, order)
    return order


def open_return(
    world: World,
    order: Order,
    *,
    line: str = "L1",
    quantity: int = 1,
    reason: Reason = Reason.NO_REASON,
    kind: ReturnKind = ReturnKind.REFUND,
    photo_ids: tuple[str, ...] = (),
    address: Address | None = None,
) -> ReturnRequest:
    return returns.open_return(
        world.svc,
        OpenReturn(
            order.buyer_id,
            order.order_id,
            kind,
            (LineRequest(line, quantity, reason),),
            address=address,
            photo_ids=photo_ids,
        ),
    )


def approved(world: World, **order_kw: object) -> ReturnRequest:
    """An approved no-reason return of one pillow (buyer-003 in Minhang by default)."""
    request = open_return(world, new_order(world, **order_kw))  # type: ignore[arg-type]
    assert request.status.value == "approved", request.decision
    return request


def booked(
    world: World, choice: pickup.SlotChoice | None = None, **order_kw: object
) -> tuple[ReturnRequest, Appointment]:
    request = approved(world, **order_kw)
    appt = pickup.book_pickup(world.svc, request.buyer_id, request.return_id, choice or yto(13))
    return request, appt


def photo(world: World, owner: str) -> str:
    return photos.upload_photo(world.svc, owner, b"\xff\xd8 photo of " + owner.encode()).photo_id


def at_the_door(world: World, appt: Appointment) -> str:
    """The assigned courier arrives; returns their id."""
    assert appt.courier_id is not None, "the visit has no courier"
    courier.arrive(world.svc, appt.courier_id, appt.appointment_id)
    return appt.courier_id


def inspect(
    world: World,
    appt: Appointment,
    return_id: str,
    courier_id: str,
    checklist: dict[str, bool] | None = None,
) -> None:
    courier.inspect(
        world.svc,
        courier_id,
        appt.appointment_id,
        courier.InspectionInput(
            return_id, checklist or ALL_PASS, (photo(world, courier_id),), 1_500
        ),
    )


def picked_up(world: World, **order_kw: object) -> tuple[ReturnRequest, Appointment]:
    """A return booked, inspected (passed) and picked up; refunds as the rules say."""
    request, appt = booked(world, **order_kw)  # type: ignore[arg-type]
    courier_id = at_the_door(world, appt)
    inspect(world, appt, request.return_id, courier_id)
    done = courier.pick_up(world.svc, courier_id, appt.appointment_id, appt.pickup_code)
    return returns.get_return(world.svc, request.return_id), done


def trusted(world: World) -> dict[str, object]:
    """Order keywords for buyer-001 (trust 850) at home in Xuhui, booked with sf."""
    return {"buyer_id": B1, "address": B1_HOME}


def with_area(world: World, adcode: str, **changes: object) -> None:
    area = world.store.item("areas", adcode)
    world.store.put("areas", adcode, replace(area, **changes))


def two_of_three_taken(world: World, buyer: str, return_id: str, slot: pickup.SlotChoice) -> None:
    """At the door the second of three units fails a check; the courier takes the others."""
    appt = pickup.book_pickup(world.svc, buyer, return_id, slot)
    courier_id = at_the_door(world, appt)
    (lines,) = courier.visit_checklists(world.svc, courier_id, appt.appointment_id)
    keys = [c.key for c in lines.checks]
    units = tuple(
        UnitAnswer(
            {k: not (n == 1 and k == keys[0]) for k in keys}, None, (photo(world, courier_id),)
        )
        for n in range(3)
    )
    (sku,) = {ln.sku for ln in returns.get_return(world.svc, return_id).lines}
    weight = 3 * world.store.item("products", sku).weight_g
    courier.inspect(
        world.svc,
        courier_id,
        appt.appointment_id,
        courier.InspectionInput(return_id, {}, (), weight, "", (courier.LineAnswer("L1", units),)),
    )
    appt = world.store.item("appointments", appt.appointment_id)
    courier.pick_up(world.svc, courier_id, appt.appointment_id, appt.pickup_code)
    after = returns.get_return(world.svc, return_id)
    assert after.status is ReturnStatus.PICKED_UP and [ln.quantity for ln in after.lines] == [2]
