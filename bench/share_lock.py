"""What the booking's share lock costs PostgreSQL when many bookings hit one slot template.

A booking counts against a figure that template and area edits change, so it keeps that
figure from changing until it commits. Three ways it has been done:

- ``plain`` (before ad7a6f2): the template and the area read without a lock;
- ``template_share`` (ad7a6f2 .. 169e7b9): the template row read ``FOR SHARE``: every booking
  of that template, in every area, shares one row;
- ``area_share`` (session 6): the area row read ``FOR SHARE``, the template read plainly.

pgbench (Debian's ``postgresql-client``) runs a booking's lock and counter writes as one
transaction (read the template and the area, the conditional counter UPDATE, one event
INSERT) on a fresh database with doorstep's real tables, all bookings on ONE template across
``--areas`` areas, ``--clients`` at once, for ``--duration`` seconds per run. The variants run
in turns, the order rotated each round, so the machine's load hits them alike; each round's
``plain`` run is the baseline of that round's ratios. A real booking sends 17 more
statements (return, routes, visit: 21 in all), so these ratios bound the lock's share from
above.

    flock /work/notes/bench.lock uv run --frozen python bench/share_lock.py \
        --pg-url postgresql://postgres@127.0.0.1:55811/postgres --rounds 5
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from doorstep.adapters.db import tables as t

VARIANTS = ("plain", "template_share", "area_share")
WINDOWS = ("09:00", "11:00", "13:00", "15:00", "17:00")
DAY = date(2026, 12, 3)
TEMPLATE = "bench-one"

_LOCKS = {
    "plain": ("", ""),
    "template_share": (" FOR SHARE", ""),
    "area_share": ("", " FOR SHARE"),
}


def script(variant: str, areas: int) -> str:
    """The pgbench transaction of one booking under ``variant``."""
    template_lock, area_lock = _LOCKS[variant]
    return f"""\\set a random(1, {areas})
\\set w random(0, {len(WINDOWS) - 1})
BEGIN;
SELECT doc FROM service_areas WHERE adcode = 'B' || lpad(:a::text, 5, '0'){area_lock};
SELECT doc FROM slot_templates WHERE template_id = '{TEMPLATE}'{template_lock};
UPDATE slot_capacity SET booked = booked + 1
  WHERE adcode = 'B' || lpad(:a::text, 5, '0') AND carrier_id = 'c1' AND day = '{DAY}'
  AND start = (ARRAY{list(WINDOWS)})[:w + 1] AND booked < capacity;
INSERT INTO events (aggregate_type, aggregate_id, name, occurred_at, data)
  VALUES ('appointment', 'bench', 'appointment.booked', now(), '{{}}');
COMMIT;
"""


def _load_bench() -> ModuleType:
    """bench/load.py, whose pgbench reader this bench shares (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("bench_load", Path(__file__).with_name("load.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def parse_pgbench(output: str) -> dict[str, float]:
    """tps and mean latency (ms) from pgbench's report (as bench/load.py reads it)."""
    read = _load_bench().parse_pgbench(output)
    return {"tps": read["tps"], "latency_ms": read["latency_ms_mean"]}


def summary(rounds: Sequence[dict[str, dict[str, float]]]) -> dict[str, Any]:
    """Per variant: tps of every round and its median, and the in-round ratio to ``plain``
    (mean, sd, [min, max]): the figure, each against the baseline measured beside it."""
    out: dict[str, Any] = {}
    for variant in VARIANTS:
        tps = [r[variant]["tps"] for r in rounds]
        ratios = [r[variant]["tps"] / r["plain"]["tps"] for r in rounds]
        out[variant] = {
            "tps": tps,
            "tps_median": statistics.median(tps),
            "latency_ms": [r[variant]["latency_ms"] for r in rounds],
            "ratio_to_plain_mean": round(statistics.fmean(ratios), 4),
            "ratio_to_plain_sd": round(statistics.stdev(ratios), 4) if len(ratios) > 1 else 0.0,
            "ratio_to_plain_range": [round(min(ratios), 4), round(max(ratios), 4)],
        }
    return out


def _prepare(url: str, areas: int) -> None:
    engine = create_engine(url)
    t.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(t.slot_templates),
            [{"template_id": TEMPLATE, "doc": {"template_id": TEMPLATE, "capacity": 10**9}}],
        )
        adcodes = [f"B{i:05d}" for i in range(1, areas + 1)]
        conn.execute(
            insert(t.service_areas), [{"adcode": a, "doc": {"adcode": a}} for a in adcodes]
        )
        conn.execute(
            insert(t.slot_capacity),
            [
                {
                    "adcode": a,
                    "carrier_id": "c1",
                    "day": DAY,
                    "start": s,
                    "capacity": 10**9,
                    "booked": 0,
                }
                for a in adcodes
                for s in WINDOWS
            ],
        )
    engine.dispose()


def _run(url: str, path: Path, clients: int, jobs: int, duration: int) -> dict[str, float]:
    cmd = ["pgbench", "-n", "-c", str(clients), "-j", str(jobs), "-T", str(duration)]
    out = subprocess.run([*cmd, "-f", str(path), url], capture_output=True, text=True, check=True)
    return parse_pgbench(out.stdout)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("DOORSTEP_TEST_PG_URL"))
    parser.add_argument("--areas", type=int, default=8, choices=range(1, 1001), metavar="1-1000")
    parser.add_argument("--clients", type=int, default=16, choices=range(1, 65), metavar="1-64")
    parser.add_argument("--jobs", type=int, default=2, choices=range(1, 9), metavar="1-8")
    parser.add_argument("--duration", type=int, default=10, choices=range(1, 301), metavar="s")
    parser.add_argument("--rounds", type=int, default=5, choices=range(1, 51), metavar="1-50")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if not args.pg_url:
        parser.error("--pg-url (or DOORSTEP_TEST_PG_URL) is needed")
    server = make_url(args.pg_url)
    name = f"bench_share_lock_{os.getpid()}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    db = server.set(database=name)
    rounds: list[dict[str, dict[str, float]]] = []
    loads: list[float] = []
    try:
        _prepare(db.render_as_string(hide_password=False), args.areas)
        libpq = db.set(drivername="postgresql").render_as_string(hide_password=False)
        with tempfile.TemporaryDirectory() as tmp:
            paths = {}
            for variant in VARIANTS:
                paths[variant] = Path(tmp) / f"{variant}.sql"
                paths[variant].write_text(script(variant, args.areas))
            for i in range(args.rounds):
                order = VARIANTS[i % 3 :] + VARIANTS[: i % 3]
                this: dict[str, dict[str, float]] = {}
                for variant in order:
                    loads.append(os.getloadavg()[0])
                    this[variant] = _run(
                        libpq, paths[variant], args.clients, args.jobs, args.duration
                    )
                rounds.append(this)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    result = {
        "bench": "share_lock",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "areas": args.areas,
        "clients": args.clients,
        "jobs": args.jobs,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "loadavg_1m": [round(min(loads), 2), round(max(loads), 2)],
        "variants": summary(rounds),
    }
    line = json.dumps(result, ensure_ascii=False)
    print(line)
    if args.out:
        with args.out.open("a") as f:
            f.write(line + "\n")
    return result


if __name__ == "__main__":
    main()
