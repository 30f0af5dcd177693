"""The simulated city: which districts, which couriers, and a seeded throwaway database.

The demo dataset is the starting point. Each simulated district is served by the one carrier
that has a depot courier there, so a district's day is planned for its own couriers only.
Where a carrier's windows run later than its couriers' shift (SF books until 22:00, its demo
couriers work 09–19), a late-shift courier joins at the same depot: otherwise every policy
would sell evening windows nobody can keep, and the comparison would measure the data gap.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from doorstep.adapters.demo import DemoDataset, demo_dataset
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App, build, seed_demo
from doorstep.config import Settings
from doorstep.domain.address import Address
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import SlotTemplate
from doorstep.domain.fleet import Courier
from doorstep.domain.order import Buyer, Channel, Order, OrderLine
from doorstep.services import catalog
from doorstep.simulation.demand import Request
from doorstep.simulation.params import SimParams

LATE_SHIFT_HOURS = 9
# Couriers of the simulated carriers who are not simulated work a minute after midnight: no
# window fits them, so the booking path (which also looks at nearby depots' couriers) can never
# hand them a visit that nobody in the simulation would drive.
OFF_DUTY = (time(0, 0), time(0, 1))
ORDER_PRICE_FEN = 19_900


@dataclass(frozen=True)
class District:
    adcode: str
    name_en: str
    carrier_id: str
    centre: tuple[float, float]
    courier_ids: tuple[str, ...]


@dataclass(frozen=True)
class City:
    """The districts simulated, their couriers and the slot template of each carrier."""

    districts: dict[str, District]
    couriers: dict[str, Courier]
    templates: dict[str, SlotTemplate]

    def expected_per_window(self, per_day: float) -> float:
        """Mean requests a district window sees at ``per_day`` requests over the city."""
        windows = sum(len(self.templates[d.carrier_id].windows) for d in self.districts.values())
        return per_day / max(1, windows)


def requests_per_day(params: SimParams, city: City) -> float:
    """The arrival rate's daily base: as given, or the couriers' pickups per day."""
    if params.requests_per_day is not None:
        return float(params.requests_per_day)
    return float(len(city.couriers) * params.pickups_per_courier_day)


def district_weights(city: City) -> dict[str, float]:
    """How requests split over districts: by the number of couriers each has."""
    return {a: float(len(d.courier_ids)) for a, d in city.districts.items()}


def demo_now(params: SimParams) -> datetime:
    """The simulated "now" at which the demo data is seeded: the day before the first day."""
    return datetime.combine(params.start - timedelta(days=1), time(8, 0), tzinfo=SHANGHAI)


def plan_city(params: SimParams, data: DemoDataset | None = None) -> City:
    """Pick each district's carrier and couriers from the demo data (pure)."""
    data = data or demo_dataset(demo_now(params))
    templates = {c.carrier_id: next(t for t in data.templates if t.template_id == c.template_id)
                 for c in data.carriers}  # fmt: skip
    districts: dict[str, District] = {}
    couriers: dict[str, Courier] = {}
    for adcode in params.districts:
        area = next((a for a in data.areas if a.adcode == adcode), None)
        local = [c for c in data.couriers if c.depot_adcode == adcode]
        if area is None or area.lat is None or area.lon is None or not local:
            raise ValueError(f"district {adcode} has no demo area or depot courier")
        carrier_id = local[0].carrier_id
        mine = [c for c in local if c.carrier_id == carrier_id]
        last_end = max(w.end for w in templates[carrier_id].windows)
        if all(c.shift_end < last_end for c in mine):
            start = time(max(0, last_end.hour - LATE_SHIFT_HOURS), 0)
            late = replace(mine[0], courier_id=f"sim-{mine[0].courier_id}-late",
                           shift_start=start, shift_end=last_end)  # fmt: skip
            mine.append(late)
        couriers.update({c.courier_id: c for c in mine})
        districts[adcode] = District(
            adcode, area.name_en, carrier_id, (area.lat, area.lon),
            tuple(c.courier_id for c in mine),
        )  # fmt: skip
    return City(districts, couriers, templates)


def _address(request: Request, district: District) -> Address:
    return Address(
        request.adcode, "上海市", "上海市", district.name_en,
        f"模拟路{request.index % 997 + 1}号", f"买家{request.index}",
        f"139{request.index:08d}", request.lat, request.lon,
    )  # fmt: skip


def make_template(params: SimParams, city: City, requests: list[Request], path: Path) -> None:
    """Migrate, seed the demo, restrict the districts, add buyers and yesterday's orders."""
    now = demo_now(params)
    # Orders are signed the day before each return is filed, some of them after the demo's
    # "now"; the template is built at a moment after the last signature, since imports
    # refuse orders signed in the future.
    latest = max((r.at - timedelta(days=1) for r in requests), default=now)
    built_at = max(now, latest + timedelta(minutes=1))
    app = build(Settings(env="development", database_url=f"sqlite:///{path}"),
                clock=FixedClock(built_at.astimezone(UTC)))  # fmt: skip
    seed_demo(app, now)
    svc = app.services
    data = demo_dataset(now)
    carriers = {d.carrier_id for d in city.districts.values()}
    off_duty = [
        replace(c, shift_start=OFF_DUTY[0], shift_end=OFF_DUTY[1])
        for c in data.couriers
        if c.carrier_id in carriers and c.courier_id not in city.couriers
    ]
    catalog.upsert_fleet(svc, [], [*city.couriers.values(), *off_duty])
    for district in city.districts.values():
        area = data.area(district.adcode)
        template_id = city.templates[district.carrier_id].template_id
        catalog.upsert_area(svc, replace(area, carrier_ids=(district.carrier_id,),
                                         template_id=template_id))  # fmt: skip
    buyers, orders = [], []
    for request in requests:
        address = _address(request, city.districts[request.adcode])
        buyers.append(Buyer(request.buyer_id, address.contact_name, address.contact_phone,
                            trust_score=650 + request.index % 300, addresses=[address]))  # fmt: skip
        # Signed the day before the return is filed: well inside seven days.
        signed = request.at - timedelta(days=1)
        product = data.product(request.sku)
        line = OrderLine("L1", request.sku, 1, ORDER_PRICE_FEN)
        orders.append(Order(request.order_id, request.buyer_id, product.shop_id,
                            Channel.DOMESTIC, signed - timedelta(days=2), address, (line,),
                            signed_at=signed))  # fmt: skip
    catalog.upsert_buyers(svc, buyers)
    catalog.import_orders(svc, orders, None)
    app.engine.dispose()


def open_copy(template: Path, target: Path, clock: FixedClock) -> App:
    """A fresh copy of the seeded database, wired with the simulation's clock."""
    shutil.copy(template, target)
    settings = Settings(env="development", database_url=f"sqlite:///{target}")
    return build(settings, clock=clock, run_migrations=False)


def set_capacity(app: App, city: City, capacity: int | None) -> None:
    """Capacity per window in every simulated district (None: the template's own)."""
    for adcode in city.districts:
        area = next(a for a in catalog.list_areas(app.services) if a.adcode == adcode)
        catalog.upsert_area(app.services, replace(area, capacity_override=capacity))
