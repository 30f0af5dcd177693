"""City-day re-planning on the PostgreSQL job queue with 1, 2 and 4 worker processes; one JSON.

A city-day is prepared once through the services (demo data, then --carriers courier companies
serving three Shanghai districts, --couriers each, --visits booked visits per carrier for
tomorrow) and kept as a template database. For each worker count the template is cloned, the
workers are started (``entrypoints.queue.run_one``, the code ``doorstep worker`` runs) and wait
registered, then one ``plan_carrier_day`` job per carrier-day is queued and the clock runs until
every job has succeeded. The planner stops on --iterations (not on time), so each run solves
the same problems and must reach the same cost: the sum of the stored routes' travel seconds.

The 1-worker run is the baseline of the same run (``speedup`` = its median wall time / this
one's); the counts take turns for --rounds rounds. Worker start-up (imports, connection pools)
is outside the timed part.

Usage::

    nice -n 10 uv run --frozen python bench/replan_workers.py --pg-url postgresql://postgres@127.0.0.1:5432/postgres
    nice -n 10 uv run --frozen python bench/replan_workers.py --carriers 8 --visits 30 --workers 1 2 4

Without --pg-url (or DOORSTEP_TEST_PG_URL) a throwaway cluster is started with
scripts/pg-test-cluster. Prints one JSON document (and writes it to --out when given).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from doorstep.bootstrap import App, build, configure_logging, migrate, seed_demo
from doorstep.config import Settings
from doorstep.domain.address import Address
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.coverage import GENERIC_TWO_HOUR
from doorstep.domain.fleet import Carrier, Courier
from doorstep.domain.order import Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.entrypoints import jobs
from doorstep.entrypoints.queue import build_queue, ensure_schema, run_one
from doorstep.services import catalog, pickup, returns, routing
from doorstep.services.returns import LineRequest, OpenReturn

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-replan-secret-" + "z" * 40
SKU = "CN-LATEX-PILLOW"  # a demo product
BUYER = "buyer-001"


def _log(message: str) -> None:
    print(f"[replan {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextmanager
def postgres(url: str | None) -> Iterator[str]:
    """A server URL: the one given, or a throwaway cluster stopped afterwards."""
    if url:
        yield url
        return
    workdir = Path(tempfile.mkdtemp(prefix="doorstep-replan-"))
    script = ROOT / "scripts" / "pg-test-cluster"
    started = subprocess.run(
        ["bash", str(script), "start", str(workdir / "pg")], capture_output=True, text=True
    )
    if started.returncode:
        raise RuntimeError(f"pg-test-cluster failed: {started.stderr[-2000:]}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(["bash", str(script), "stop", str(workdir / "pg")], capture_output=True)


def _admin(server: str, sql: str) -> None:
    admin = make_url(server).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(False), autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _db(server: str, name: str) -> str:
    return make_url(server).set(drivername="postgresql", database=name).render_as_string(False)


def settings_for(url: str, iterations: int) -> Settings:
    """What the bench's processes run with: the planner bounded by iterations, not time."""
    return Settings(
        env="test",
        database_url=url,
        secret_key=SECRET,
        slot_offering="fixed",
        replan_time_limit_s=600,
        replan_max_iterations=iterations,
        log_level="WARNING",
    )


def prepare(app: App, carriers: int, couriers: int, visits: int, day: date) -> dict[str, int]:
    """Carriers b00.. serving three districts with a courier team each; ``visits`` booked
    visits per carrier on ``day`` at points within ~4 km of the districts' centres."""
    svc = app.services
    areas = [a for a in catalog.list_areas(svc) if a.adcode.startswith("3101") and not a.remote]
    areas = [a for a in areas if a.lat is not None and a.lon is not None][:3]
    template = replace(GENERIC_TWO_HOUR, template_id="bench-2h", capacity=10_000)
    catalog.upsert_template(svc, template)
    fleet = [
        Carrier(f"b{n:02d}", f"测试快递{n}", f"Bench {n}", f"B{n:02d}", template.template_id)
        for n in range(carriers)
    ]
    team = []
    for carrier in fleet:
        for k in range(couriers):
            home = areas[k % len(areas)]
            assert home.lat is not None and home.lon is not None
            team.append(
                Courier(
                    f"{carrier.carrier_id}-{k:02d}",
                    f"Bench {k}",
                    f"1390000{k:04d}",
                    carrier.carrier_id,
                    home.adcode,
                    home.lat,
                    home.lon,
                )
            )
    catalog.upsert_fleet(svc, fleet, team)
    for area in areas:
        ids = tuple(dict.fromkeys([*area.carrier_ids, *(c.carrier_id for c in fleet)]))
        catalog.upsert_area(svc, replace(area, carrier_ids=ids, capacity_override=None))
    rng = random.Random(7)
    signed = datetime.now(UTC) - timedelta(days=1)
    windows = [w.start for w in template.windows]
    booked = refused = 0
    for carrier in fleet:
        orders = []
        for v in range(visits):
            area = areas[v % len(areas)]
            assert area.lat is not None and area.lon is not None
            r_km, angle = 4 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            lat = area.lat + r_km / 111 * math.cos(angle)
            lon = area.lon + r_km / 95 * math.sin(angle)
            address = Address(
                area.adcode,
                "上海市",
                "上海市",
                area.name_zh,
                f"测试路{v}号",
                "测试",
                "13800002222",
                round(lat, 6),
                round(lon, 6),
            )
            orders.append(
                Order(
                    f"RW-{carrier.carrier_id}-{v:04d}",
                    BUYER,
                    "shop-cn-home",
                    Channel.DOMESTIC,
                    signed - timedelta(days=1),
                    address,
                    (OrderLine("L1", SKU, 1, 19900),),
                    signed_at=signed,
                )
            )
        catalog.import_orders(svc, orders, None)
        for v, order in enumerate(orders):
            request = returns.open_return(
                svc,
                OpenReturn(
                    BUYER,
                    order.order_id,
                    ReturnKind.REFUND,
                    (LineRequest("L1", 1, Reason.NO_REASON),),
                ),
            )
            choice = pickup.SlotChoice(carrier.carrier_id, day, windows[v % len(windows)])
            try:
                pickup.book_pickup(svc, BUYER, request.return_id, choice)
                booked += 1
            except Exception as exc:  # a full window or an unreachable point: count it
                refused += 1
                _log(f"refused {order.order_id}: {exc}")
    return {"booked": booked, "refused": refused, "areas": len(areas)}


def route_cost(app: App, carrier_days: Sequence[tuple[str, date]]) -> dict[str, int]:
    """Travel seconds of every stored route of these carrier-days, and visits not on one."""
    travel = on_routes = 0
    with app.services.uow() as uow:
        for carrier_id, day in carrier_days:
            for route in uow.routes.for_carrier_day(carrier_id, day):
                travel += sum(s.leg_s for s in route.stops) + route.return_leg_s
                on_routes += len(route.stops)
    return {"travel_s": travel, "visits_on_routes": on_routes}


def _worker(url: str, iterations: int) -> None:
    settings = settings_for(url, iterations)
    configure_logging(settings)  # to stderr: stdout is the JSON result
    run_one(settings, 3600, periodic=False)


def _count(url: str, sql: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(sql).fetchone()  # type: ignore[arg-type]
        return int(row[0]) if row else 0


def run_with(
    url: str, n_workers: int, iterations: int, days: Sequence[tuple[str, date]]
) -> dict[str, Any]:
    """Queue one job per carrier-day and time ``n_workers`` processes doing them all."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(url, iterations)) for _ in range(n_workers)]
    for proc in procs:
        proc.start()
    try:
        deadline = time.monotonic() + 600
        while _count(url, "SELECT count(*) FROM procrastinate_workers") < n_workers:
            if time.monotonic() > deadline or any(p.exitcode not in (None, 0) for p in procs):
                raise RuntimeError("workers did not start")
            time.sleep(0.2)
        settings = settings_for(url, iterations)
        queue = build_queue(url, settings, 3600, periodic=False)
        started = time.perf_counter()
        with queue.open():
            for carrier_id, day in days:
                key = f"plan:{carrier_id}:{day.isoformat()}"
                queue.tasks[jobs.PLAN_JOB].configure(lock=key, queueing_lock=key).defer(
                    carrier_id=carrier_id, day=day.isoformat()
                )
        pending = "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
        while _count(url, pending):
            time.sleep(0.05)
        wall = time.perf_counter() - started
    finally:
        for proc in procs:
            if proc.pid is not None and proc.is_alive():
                os.kill(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.join(timeout=120)
    failed = _count(url, "SELECT count(*) FROM procrastinate_jobs WHERE status <> 'succeeded'")
    app = build(settings_for(url, iterations), run_migrations=False)
    try:
        cost = route_cost(app, days)
        violations = sum(len(routing.check_routes(app.services, c, d)) for c, d in days)
    finally:
        app.engine.dispose()
    return {
        "workers": n_workers,
        "wall_s": round(wall, 2),
        "jobs": len(days),
        "jobs_not_succeeded": failed,
        "route_violations": violations,
        **cost,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default=os.environ.get("DOORSTEP_TEST_PG_URL"))
    parser.add_argument("--carriers", type=int, default=8)
    parser.add_argument("--couriers", type=int, default=3, help="per carrier")
    parser.add_argument("--visits", type=int, default=24, help="per carrier")
    parser.add_argument("--iterations", type=int, default=1500, help="planner iterations")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=2, help="timed runs per count")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    configure_logging(settings_for("sqlite://", args.iterations))
    counts = sorted(set(args.workers) | {1})
    day = (datetime.now(SHANGHAI) + timedelta(days=1)).date()
    tag = uuid.uuid4().hex[:6]
    with postgres(args.pg_url) as server:
        template = f"doorstep_replan_tpl_{tag}"
        _admin(server, f'CREATE DATABASE "{template}"')
        made: list[str] = [template]
        try:
            url = _db(server, template)
            _log("preparing the city-day")
            migrate(url)
            ensure_schema(url)
            app = build(settings_for(url, args.iterations), run_migrations=False)
            seed_demo(app)
            prepared = prepare(app, args.carriers, args.couriers, args.visits, day)
            days = [
                cd for cd in routing.carrier_days_to_plan(app.services) if cd[0].startswith("b")
            ]
            app.engine.dispose()
            rounds: dict[int, list[dict[str, Any]]] = {n: [] for n in counts}
            # Counts in turns (1, 2, 4, 1, 2, 4, ...): a machine shared with other work drifts,
            # and turns spread the drift over every count instead of one.
            for r in range(args.rounds):
                for n in counts:
                    name = f"doorstep_replan_{tag}_{n}_{r}"
                    _admin(server, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                    made.append(name)
                    _log(f"round {r + 1}, {n} worker(s): {len(days)} carrier-day jobs")
                    rounds[n].append(run_with(_db(server, name), n, args.iterations, days))
                    _log(f"round {r + 1}, {n} worker(s): {rounds[n][-1]['wall_s']} s")
                    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            for name in made:
                _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    runs = []
    for n in counts:
        first = rounds[n][0]
        runs.append(
            {
                **first,
                "wall_s": round(median(r["wall_s"] for r in rounds[n]), 2),
                "wall_s_each_round": [r["wall_s"] for r in rounds[n]],
                "travel_s_each_round": [r["travel_s"] for r in rounds[n]],
            }
        )
    base = runs[0]
    for run in runs:
        run["speedup_vs_1"] = round(base["wall_s"] / run["wall_s"], 2) if run["wall_s"] else None
        run["same_cost_as_1"] = set(run["travel_s_each_round"]) == {base["travel_s"]}
    result = {
        "bench": "replan_workers",
        "city_day": {
            "day": day.isoformat(),
            "carriers": args.carriers,
            "couriers_per_carrier": args.couriers,
            "visits_per_carrier": args.visits,
            **prepared,
        },
        "planner_iterations": args.iterations,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        "baseline": {"workers": 1, "wall_s_median": base["wall_s"]},
        "runs": runs,
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()
