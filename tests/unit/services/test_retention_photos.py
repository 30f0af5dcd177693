"""Which of a departed buyer's photos the retention sweep erases (services/retention.py,
"Photos"): those of the door go, those of the goods stay, read from records the services
made (a contactless pickup disputed by the buyer, an in-person inspection, the buyer's
evidence on a return)."""

from __future__ import annotations

from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    approved,
    at_the_door,
    inspect,
    new_order,
    open_return,
    photo,
    yto,
)

from doorstep.domain.pickup import Handover
from doorstep.services import contactless, courier, pickup, retention


def test_the_door_photos_are_erased_and_the_goods_photos_kept(world: World) -> None:
    # A parcel left at the door: the courier photographs it there, the buyer disputes with
    # a photo of their doorstep.
    request = approved(world)
    buyer = request.buyer_id
    choice = pickup.SlotChoice("yto", yto(13).day, yto(13).start, Handover.DOOR)
    visit = pickup.book_pickup(world.svc, buyer, request.return_id, choice)
    cid = at_the_door(world, visit)
    at_door = photo(world, cid)
    courier.inspect(
        world.svc,
        cid,
        visit.appointment_id,
        courier.InspectionInput(request.return_id, {}, (at_door,), 1_480),
    )
    courier.pick_up(world.svc, cid, visit.appointment_id, None)
    doorstep = photo(world, buyer)
    contactless.dispute_contactless(
        world.svc, buyer, visit.appointment_id, "放在鞋柜上的不是这个", (doorstep,)
    )
    # Another return of the same buyer, inspected in person, with the buyer's own photo.
    goods = photo(world, buyer)
    other = open_return(world, new_order(world), photo_ids=(goods,))
    assert other.buyer_id == buyer
    in_person = pickup.book_pickup(world.svc, buyer, other.return_id, yto(15))
    inspect(world, in_person, other.return_id, at_the_door(world, in_person))

    with world.svc.uow() as uow:
        files = uow.retention.files_for_update([buyer])
    door, kept = retention.photos_of(files)

    assert door == {at_door, doorstep}
    [inspected] = [r for r in files[0].returns if r.return_id == other.return_id]
    assert inspected.inspection is not None
    assert kept == {goods, *inspected.inspection.photo_ids}
