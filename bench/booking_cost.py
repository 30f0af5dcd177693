"""Does a slot offer or a booking cost more when the courier-day is full? (issue 6)

Builds the demo twice on throwaway databases (SQLite by default, ``--database-url`` for
PostgreSQL), fills one courier-day with as many visits as the routes accept (the
route-aware offering refuses the rest), leaves the other empty, then times slot offers and
bookings on both in turns, so machine noise hits both sides alike. Prints one JSON line with
milliseconds per operation on the empty and the full day and their ratio.

With ``--pricing-pair`` both demos are filled the same way, one with legs priced at the
evening peak and one per hour bucket (``travel_pricing=timed``, issue 11 §3), and the line
gives offer and booking milliseconds on each, timed in turns, with their ratio.

    uv run python bench/booking_cost.py --fill 300 --repeat 30 [--pricing-pair]
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


def interleaved_offer_ms(apps: list[tuple[App, list[str]]], repeat: int) -> list[float]:
    """Median ms per offer for each (app, probe returns), timed in turns so that a noisy
    machine slows every side alike. Each offer is for another door (a new buyer's), so no
    memo of a door's legs helps the next one; the first probe only warms the process-level
    route cache, as a busy server has it warm."""
    for app, rids in apps:
        pickup.pickup_options(app.services, app.services.offering, "buyer-001", rids[0])
    times: list[list[float]] = [[] for _ in apps]
    for k in range(repeat):
        for i, (app, rids) in enumerate(apps):
            rid = rids[1 + k % (len(rids) - 1)]
            began = clock.perf_counter()
            pickup.pickup_options(app.services, app.services.offering, "buyer-001", rid)
            times[i].append(clock.perf_counter() - began)
    return [statistics.median(t) * 1000 for t in times]


def book_once(app: App, rid: str, i: int) -> tuple[float, bool]:
    choice = pickup.SlotChoice("yto", DAY, STARTS[i % len(STARTS)])
    began = clock.perf_counter()
    try:
        pickup.book_pickup(app.services, "buyer-001", rid, choice)
        ok = True
    except Conflict:
        ok = False
    return clock.perf_counter() - began, ok


def world(url: str, n: int, radius_km: float, pricing: str = "peak") -> tuple[App, list[str]]:
    settings = Settings(
        env="test",
        database_url=url,
        secret_key="bench-" + "x" * 40,
        travel_pricing="timed" if pricing == "timed" else "peak",
    )
    app = build(settings, clock=FixedClock(T0))
    seed_demo(app)
    with app.services.uow() as uow:
        for start in STARTS:
            window = Window(start, time(start.hour + 2))
            uow.slots.set_capacity(SlotRef("310116", "yto", DAY, window), 10_000)
        uow.commit()
    return app, approved_returns(app, n, radius_km)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fill", type=int, default=300, help="bookings tried to fill the day")
    parser.add_argument("--repeat", type=int, default=30, help="offers timed per phase")
    parser.add_argument("--probe", type=int, default=20, help="bookings timed per phase")
    parser.add_argument("--radius-km", type=float, default=2.0)
    parser.add_argument(
        "--database-url",
        default=None,
        help="two databases, '{side}' replaced by empty and full (default: SQLite files)",
    )
    parser.add_argument(
        "--pricing-pair",
        action="store_true",
        help="compare evening-peak and time-bucketed pricing on two equally filled days",
    )
    args = parser.parse_args()
    if args.pricing_pair:
        pricing_pair(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        urls = [f"sqlite:///{Path(tmp) / f'{side}.db'}" for side in ("empty", "full")]
        if args.database_url:
            urls = [args.database_url.replace("{side}", side) for side in ("empty", "full")]
        # Doors: those offered (a warm-up and one per timed offer), the fill, the bookings.
        offered = args.repeat + 1
        n = offered + args.fill + 2 * args.probe
        empty, empty_ids = world(urls[0], n, args.radius_km)
        full, full_ids = world(urls[1], n, args.radius_km)
        fill = full_ids[offered : offered + args.fill]
        filled = sum(book_once(full, rid, i)[1] for i, rid in enumerate(fill))
        offer_empty, offer_full = interleaved_offer_ms(
            [(empty, empty_ids[:offered]), (full, full_ids[:offered])], args.repeat
        )
        # Bookings in turns: one on the empty day, one on the full day (refusals included:
        # on a full day most attempts are, and they must stay as cheap as a booking).
        book: dict[str, list[float]] = {"empty": [], "full_booked": [], "full_refused": []}
        probes = zip(empty_ids[-args.probe :], full_ids[-args.probe :], strict=True)
        for i, (e_rid, f_rid) in enumerate(probes):
            book["empty"].append(book_once(empty, e_rid, i)[0])
            seconds, ok = book_once(full, f_rid, i)
            book["full_booked" if ok else "full_refused"].append(seconds)
        with full.services.uow() as uow:
            routes = uow.routes.for_carrier_day("yto", DAY)
        per_route = sorted((len(r.stops) for r in routes), reverse=True)
        empty.engine.dispose()
        full.engine.dispose()

    def ms(values: list[float]) -> float | None:
        return round(statistics.median(values) * 1000, 2) if values else None

    book_empty = ms(book["empty"])
    print(
        json.dumps(
            {
                "benchmark": "booking_cost",
                "backend": urls[0].split(":")[0],
                "stops_per_courier_day": per_route,
                "filled": filled,
                "offer_ms": {
                    "empty": round(offer_empty, 2),
                    "full": round(offer_full, 2),
                    "ratio": round(offer_full / offer_empty, 3),
                },
                "book_ms": {
                    "empty": book_empty,
                    "full_booked": ms(book["full_booked"]),
                    "full_refused": ms(book["full_refused"]),
                    "attempts": {k: len(v) for k, v in book.items()},
                },
            }
        )
    )


def pricing_pair(args: argparse.Namespace) -> None:
    """Offers and bookings on a filled day, legs priced at the peak vs per hour bucket."""
    sides = ("peak", "timed")
    with tempfile.TemporaryDirectory() as tmp:
        urls = [f"sqlite:///{Path(tmp) / f'{side}.db'}" for side in sides]
        if args.database_url:
            urls = [args.database_url.replace("{side}", side) for side in sides]
        offered = args.repeat + 1
        n = offered + args.fill + args.probe
        worlds = [
            world(url, n, args.radius_km, side) for url, side in zip(urls, sides, strict=True)
        ]
        filled = {
            side: sum(
                book_once(app, rid, i)[1]
                for i, rid in enumerate(ids[offered : offered + args.fill])
            )
            for side, (app, ids) in zip(sides, worlds, strict=True)
        }
        offers = interleaved_offer_ms([(app, ids[:offered]) for app, ids in worlds], args.repeat)
        book: dict[str, list[float]] = {side: [] for side in sides}
        for i in range(args.probe):
            for side, (app, ids) in zip(sides, worlds, strict=True):
                book[side].append(book_once(app, ids[-1 - i], i)[0])
        for app, _ in worlds:
            app.engine.dispose()
    book_ms = {side: round(statistics.median(v) * 1000, 2) for side, v in book.items()}
    print(
        json.dumps(
            {
                "benchmark": "booking_cost_pricing",
                "backend": urls[0].split(":")[0],
                "filled": filled,
                "offer_ms": {
                    "peak": round(offers[0], 2),
                    "timed": round(offers[1], 2),
                    "ratio": round(offers[1] / offers[0], 3),
                },
                "book_ms": {**book_ms, "ratio": round(book_ms["timed"] / book_ms["peak"], 3)},
            }
        )
    )


if __name__ == "__main__":
    main()
