"""Does a slot offer or a booking cost more when the courier-day is full? (issue 6)

Builds the demo on a throwaway database (SQLite by default, ``--database-url`` for
PostgreSQL), then times slot offers and bookings through the services on an empty
courier-day and again after the day was filled with as many visits as the routes accept
(bookings the route-aware offering refuses stop the filling). Prints one JSON line with
milliseconds per operation on the empty and the full day and their ratio (same run).

    uv run python bench/booking_cost.py --fill 300 --repeat 30
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time as clock
import uuid
from datetime import UTC, date, datetime, time
from pathlib import Path

from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App, build, seed_demo
from doorstep.config import Settings
from doorstep.domain.address import Address
from doorstep.domain.coverage import Window
from doorstep.domain.errors import Conflict
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.pickup import SlotRef
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import catalog, pickup, returns
from doorstep.services.returns import LineRequest, OpenReturn

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
DAY = date(2026, 11, 26)
JINSHAN = (30.7417, 121.3418)  # one YTO courier has its depot here
STARTS = [time(h) for h in (9, 11, 13, 15, 17)]


def approved_returns(app: App, n: int, radius_km: float) -> list[str]:
    """``n`` approved returns of buyer-001 at doors spread over a disc in Jinshan."""
    signed = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    batch = uuid.uuid4().hex[:6]
    orders = []
    for i in range(n):
        r = radius_km * math.sqrt((i + 0.5) / n)
        lat = JINSHAN[0] + r / 111 * math.cos(2.4 * i)
        lon = JINSHAN[1] + r / 95 * math.sin(2.4 * i)
        address = Address(
            "310116", "上海市", "上海市", "金山区", f"{i}号", "测试", "13800002222", lat, lon
        )
        orders.append(
            Order(
                f"BC-{batch}-{i}",
                "buyer-001",
                "shop-cn-home",
                Channel.DOMESTIC,
                signed,
                address,
                (OrderLine("L1", "CN-LATEX-PILLOW", 1, 19900),),
                signed_at=signed,
            )
        )
    catalog.import_orders(app.services, orders, None)
    return [
        returns.open_return(
            app.services,
            OpenReturn(
                "buyer-001",
                o.order_id,
                ReturnKind.REFUND,
                (LineRequest("L1", 1, Reason.NO_REASON),),
            ),
        ).return_id
        for o in orders
    ]


def offer_ms(app: App, return_id: str, repeat: int) -> float:
    pickup.pickup_options(app.services, app.services.offering, "buyer-001", return_id)  # warm
    times = []
    for _ in range(repeat):
        began = clock.perf_counter()
        pickup.pickup_options(app.services, app.services.offering, "buyer-001", return_id)
        times.append(clock.perf_counter() - began)
    return statistics.median(times) * 1000


def book_ms(app: App, ids: list[str]) -> tuple[float, int, int]:
    """Median milliseconds per booking attempt, bookings made, refusals."""
    times, made, refused = [], 0, 0
    for i, rid in enumerate(ids):
        choice = pickup.SlotChoice("yto", DAY, STARTS[i % len(STARTS)])
        began = clock.perf_counter()
        try:
            pickup.book_pickup(app.services, "buyer-001", rid, choice)
            made += 1
        except Conflict:
            refused += 1
        times.append(clock.perf_counter() - began)
    return statistics.median(times) * 1000, made, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fill", type=int, default=300, help="bookings tried to fill the day")
    parser.add_argument("--repeat", type=int, default=30, help="offers timed per phase")
    parser.add_argument("--probe", type=int, default=20, help="bookings timed per phase")
    parser.add_argument("--radius-km", type=float, default=2.0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(env="test", database_url=url, secret_key="bench-" + "x" * 40)
        app = build(settings, clock=FixedClock(T0))
        seed_demo(app)
        with app.services.uow() as uow:
            for start in STARTS:
                window = Window(start, time(start.hour + 2))
                uow.slots.set_capacity(SlotRef("310116", "yto", DAY, window), 10_000)
            uow.commit()
        ids = approved_returns(app, args.fill + 2 * args.probe + 2, args.radius_km)
        probe_empty, probe_full = ids[0], ids[1]
        empty_offer = offer_ms(app, probe_empty, args.repeat)
        empty_book, _, _ = book_ms(app, ids[2 : 2 + args.probe])
        _, filled, refused_fill = book_ms(app, ids[2 + args.probe : 2 + args.probe + args.fill])
        full_offer = offer_ms(app, probe_full, args.repeat)
        full_book, _, refused = book_ms(app, ids[2 + args.probe + args.fill :])
        with app.services.uow() as uow:
            routes = uow.routes.for_carrier_day("yto", DAY)
        per_route = sorted((len(r.stops) for r in routes), reverse=True)
        app.engine.dispose()
    print(
        json.dumps(
            {
                "benchmark": "booking_cost",
                "backend": url.split(":")[0],
                "stops_per_courier_day": per_route,
                "filled": filled,
                "refused_while_filling": refused_fill,
                "offer_ms": {
                    "empty": round(empty_offer, 2),
                    "full": round(full_offer, 2),
                    "ratio": round(full_offer / empty_offer, 3),
                },
                "book_ms": {
                    "empty": round(empty_book, 2),
                    "full": round(full_book, 2),
                    "ratio": round(full_book / empty_book, 3),
                    "refused_when_full": refused,
                },
            }
        )
    )


if __name__ == "__main__":
    main()
