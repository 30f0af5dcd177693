"""Load benchmark of the public API: booking, slot offers, opening returns, health; one JSON.

For each preload level (appointments already booked per carrier-day, default 0 and 300) it
builds a fresh database on a throwaway PostgreSQL (scripts/pg-test-cluster, or --pg-url),
starts ``doorstep serve --workers N`` and a bare FastAPI app with the same workers, prepares the
data through the API, and drives each scenario with wrk (Debian's ``wrk``, script
bench/load_wrk.lua) for --duration seconds at --connections:

- ``trivial``: GET / on the bare FastAPI app (what this machine can do at all);
- ``healthz``: GET /healthz;
- ``slots``: GET /returns/{id}/slots over approved returns;
- ``booking``: POST /returns/{id}/pickup, each request a different approved return;
- ``open_returns``: POST /returns, each request a different order;

then pgbench runs a script of the writes one booking makes (slot counter update, appointment
insert, return update with version check, two events) on the same database for as long.

Setup goes through the API (ops raises the slot capacities, imports a small product and the
orders; buyers open the returns; preload bookings are real POST /pickup calls) except one
step: the API has no endpoint for couriers, so the bench fleet (--fleet couriers per carrier in
each bench area, so that --preload visits fit on routes) is written with the catalog service.

Usage (needs ``apt-get install wrk postgresql``)::

    uv run --frozen python bench/load.py                      # 2 workers, 32 conns, 15 s
    uv run --frozen python bench/load.py --preload 0 --duration 5 --returns 500
    uv run --frozen python bench/load.py --pg-url postgresql://postgres@127.0.0.1:5432/postgres

Prints one JSON document (and writes it to --out when given). docs/benchmarks.md explains it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parents[1]
LUA = Path(__file__).resolve().parent / "load_wrk.lua"
SHANGHAI = ZoneInfo("Asia/Shanghai")
BUYERS = ("buyer1", "buyer2", "buyer3")
BUYER_IDS = {"buyer1": "buyer-001", "buyer2": "buyer-002", "buyer3": "buyer-003"}
SKU = "BENCH-SOCKS-01"
SHOP = "shop-bench"
# Windows inside the couriers' 09-19 shift, per carrier template of the demo data.
WINDOWS = {
    "sf": tuple(f"{h:02d}:00" for h in range(9, 19)),
    "yto": tuple(f"{h:02d}:00" for h in range(9, 19, 2)),
}
SCENARIOS = ("trivial", "healthz", "slots", "booking", "open_returns")
STATELESS = ("trivial", "healthz")
SERIAL = 5  # requests sent one at a time per stateful scenario


# --- pure parts: what wrk and pgbench print, and the summary (tested in tests/unit) ---------


def parse_wrk(output: str) -> dict[str, Any]:
    """The WRKJSON line that bench/load_wrk.lua prints at the end of a wrk run."""
    for line in output.splitlines():
        if line.startswith("WRKJSON "):
            parsed: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
            return parsed
    raise ValueError(f"no WRKJSON line in wrk output:\n{output[-2000:]}")


def parse_pgbench(output: str) -> dict[str, float]:
    """tps and mean latency (ms) from pgbench's report."""
    tps = re.search(r"^tps = ([\d.]+)", output, re.M)
    latency = re.search(r"^latency average = ([\d.]+) ms", output, re.M)
    failed = re.search(r"^number of failed transactions: (\d+)", output, re.M)
    if tps is None:
        raise ValueError(f"no tps in pgbench output:\n{output[-2000:]}")
    return {
        "tps": round(float(tps.group(1)), 1),
        "latency_ms_mean": float(latency.group(1)) if latency else float("nan"),
        "failed": int(failed.group(1)) if failed else 0,
    }


def merge_wrk(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Several bursts of one scenario as one: counts add up; each latency percentile is the
    median of the bursts' (wrk keeps no histogram to merge), which is exact for one burst."""
    if len(runs) == 1:
        return dict(runs[0])

    def add(key: str) -> dict[str, int]:
        total: dict[str, int] = {}
        for run in runs:
            for k, v in run[key].items():
                total[k] = total.get(k, 0) + int(v)
        return total

    return {
        "duration_us": sum(r["duration_us"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "wraps": sum(r["wraps"] for r in runs),
        "latency_us": {k: median(r["latency_us"][k] for r in runs) for k in runs[0]["latency_us"]},
        "socket_errors": add("socket_errors"),
        "statuses": add("statuses"),
        "codes": add("codes"),
        "bursts": len(runs),
    }


def summarize(
    wrk: dict[str, Any], *, distinct: bool = False, sessions_opened: int | None = None
) -> dict[str, Any]:
    """One scenario's figures: rates, percentiles in ms, and what went wrong, by status/code.

    ``distinct``: every request must differ (a booking per return), so a wrap of the request
    file means the burst ran out of prepared data and its later requests measure errors.
    """
    seconds = wrk["duration_us"] / 1e6
    statuses = {str(k): int(v) for k, v in wrk["statuses"].items()}
    ok = sum(v for k, v in statuses.items() if k.startswith("2"))
    latency = wrk["latency_us"]
    out: dict[str, Any] = {
        "seconds": round(seconds, 2),
        "requests": wrk["requests"],
        "req_per_s": round(wrk["requests"] / seconds, 1),
        "ok_per_s": round(ok / seconds, 1),
        "ok_share": round(ok / wrk["requests"], 4) if wrk["requests"] else 0.0,
        # None, not 0, when nothing completed within the burst (wrk reports zeros then).
        **{
            f"{q}_ms": round(latency[q] / 1000, 1) if wrk["requests"] else None
            for q in ("p50", "p90", "p99")
        },
        "non_2xx": {k: v for k, v in sorted(statuses.items()) if not k.startswith("2")},
        "errors_by_code": dict(sorted(wrk["codes"].items(), key=lambda kv: -kv[1])),
        "socket_errors": {k: v for k, v in wrk["socket_errors"].items() if v},
        "bursts": wrk.get("bursts", 1),
    }
    if distinct:
        out["exhausted"] = wrk["wraps"] > 0
    if sessions_opened is not None:
        out["db_connections_opened"] = sessions_opened
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 4) if a is not None and b else None


def ratios(level: dict[str, Any]) -> dict[str, float | None]:
    """The issue's ratios within one run: bookings vs pgbench, slots vs healthz, healthz vs bare."""
    s = level["scenarios"]

    def rate(name: str) -> float | None:
        return s[name]["ok_per_s"] if name in s else None

    pgbench = level.get("pgbench", {}).get("tps")
    return {
        "bookings_per_pgbench_tps": _ratio(rate("booking"), pgbench),
        "slots_per_healthz": _ratio(rate("slots"), rate("healthz")),
        "healthz_per_trivial": _ratio(rate("healthz"), rate("trivial")),
    }


def cost_ratios(levels: dict[str, dict[str, Any]], low: str, high: str) -> dict[str, Any]:
    """Cost at the high preload over cost at the low one (1.0: flat; the goal is <= 1.3).

    Cost is 1 / successful rate (CPU per success on a saturated machine), p50 latency under
    the burst, and the median latency of requests sent one at a time to an idle server.
    """
    out: dict[str, Any] = {}
    for name in ("booking", "slots", "open_returns"):
        a = levels[low]["scenarios"].get(name)
        b = levels[high]["scenarios"].get(name)
        if a and b:
            out[name] = {
                "per_success": _ratio(a["ok_per_s"], b["ok_per_s"]),
                "p50": _ratio(b["p50_ms"], a["p50_ms"]),  # None where one completed nothing
            }
            if "one_at_a_time" in a and "one_at_a_time" in b:
                out[name]["one_at_a_time"] = _ratio(
                    b["one_at_a_time"]["median_ms"], a["one_at_a_time"]["median_ms"]
                )
    return out


# --- the moving parts -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _log(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextmanager
def postgres(url: str | None, workdir: Path) -> Iterator[str]:
    """A server URL: the one given, or a throwaway cluster stopped afterwards."""
    if url:
        yield url
        return
    script = ROOT / "scripts" / "pg-test-cluster"
    cluster = workdir / "pg"
    started = subprocess.run(
        ["bash", str(script), "start", str(cluster)], capture_output=True, text=True
    )
    if started.returncode:
        raise RuntimeError(f"pg-test-cluster failed: {started.stderr[-2000:]}")
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(["bash", str(script), "stop", str(cluster)], capture_output=True)


def _with_db(url: str, name: str) -> str:
    head, _, _ = url.rpartition("/")
    return f"{head}/{name}"


def _psql(url: str, sql: str) -> str:
    run = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        capture_output=True,
        text=True,
    )
    if run.returncode:
        raise RuntimeError(f"psql failed: {run.stderr}")
    return run.stdout.strip()


def fresh_database(server_url: str, name: str) -> str:
    """Drop and create ``name`` on the server; its URL."""
    admin = _with_db(server_url, "postgres")
    _psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(admin, f'CREATE DATABASE "{name}"')
    return _with_db(server_url, name)


def drain(url: str, timeout_s: float = 900) -> float:
    """Seconds until no session of the API has a statement or transaction open (3 polls)."""
    started = time.monotonic()
    sql = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
    )
    quiet = 0
    while quiet < 3 and time.monotonic() - started < timeout_s:
        quiet = quiet + 1 if _psql(url, sql) == "0" else 0
        time.sleep(0.5)
    return round(time.monotonic() - started, 1)


def serial(base: str, lines: Sequence[tuple[str, str, str, Any]]) -> dict[str, Any]:
    """Send ``lines`` one after another: median and max latency (ms) and statuses."""
    took, statuses = [], []
    with httpx.Client(base_url=base, timeout=300) as client:
        for method, target, token, body in lines:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            t0 = time.perf_counter()
            r = client.request(method, target, headers=headers, json=body)
            took.append((time.perf_counter() - t0) * 1000)
            statuses.append(r.status_code)
    return {
        "median_ms": round(median(took), 1),
        "max_ms": round(max(took), 1),
        "statuses": statuses,
    }


def sessions_opened(url: str) -> int:
    """Connections ever opened to this database (pg_stat_database.sessions, PostgreSQL 14+)."""
    return int(
        _psql(url, "SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
    )


@dataclass
class Server:
    """A child process serving HTTP on a port, its output in a log file."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self, ready_path: str, processes: int, timeout_s: float = 600) -> None:
        """Start and wait until every worker process has started and ``ready_path`` is 200."""
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.cmd, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout_s
        url = f"http://127.0.0.1:{self.port}{ready_path}"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}")
            started = self.log.read_text(errors="replace").count("Application startup complete")
            try:
                if started >= processes and httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} not ready after {timeout_s} s; see {self.log}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def trivial_app() -> Any:
    """The bare FastAPI baseline (uvicorn --factory load:trivial_app)."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/")
    async def root() -> dict[str, str]:
        return {"status": "ok"}

    return app


# --- preparing data through the API ---------------------------------------------------------


@dataclass
class Plan:
    """What the run books into: areas x carriers x days, the carrier-days."""

    areas: tuple[str, ...]
    days: tuple[date, ...]
    carriers: tuple[str, ...] = ("sf", "yto")

    @property
    def carrier_days(self) -> list[tuple[str, str, date]]:
        return [(a, c, d) for a in self.areas for c in self.carriers for d in self.days]

    def booking_body(self, i: int) -> tuple[str, dict[str, str]]:
        """The area and window of the i-th booking: round robin over carrier-days, then windows."""
        cds = self.carrier_days
        area, carrier, day = cds[i % len(cds)]
        windows = WINDOWS[carrier]
        start = windows[(i // len(cds)) % len(windows)]
        return area, {"carrier_id": carrier, "day": day.isoformat(), "start": start}


@dataclass
class Api:
    """An httpx client on the API with tokens of the demo accounts."""

    base: str
    client: httpx.Client = field(init=False)
    tokens: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.base, timeout=120)

    def login(self, username: str) -> str:
        r = self.client.post(
            "/auth/token", data={"username": username, "password": f"demo-{username}"}
        )
        r.raise_for_status()
        self.tokens[username] = r.json()["access_token"]
        return self.tokens[username]

    def call(self, method: str, path: str, user: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        return self.client.request(method, path, headers=headers, json=body)


def raise_capacities(api: Api) -> dict[str, tuple[float, float]]:
    """Slot counts out of the way (ops); returns each area's centre."""
    for tpl in api.call("GET", "/ops/templates", "ops1").json():
        body = {k: tpl[k] for k in ("template_id", "name", "windows", "holiday_capacity_pct")}
        body["windows"] = [{"start": w["start"], "end": w["end"]} for w in tpl["windows"]]
        body["capacity"] = 10_000
        api.call("PUT", f"/ops/templates/{tpl['template_id']}", "ops1", body).raise_for_status()
    centres = {}
    for area in api.call("GET", "/ops/areas", "ops1").json():
        centres[area["adcode"]] = (area["lat"], area["lon"])
        if area.get("capacity_override") is not None:
            body = {k: area[k] for k in area if k != "depot"} | {"capacity_override": None}
            api.call("PUT", f"/ops/areas/{area['adcode']}", "ops1", body).raise_for_status()
    return centres


def add_bench_fleet(
    db_url: str, plan: Plan, centres: dict[str, tuple[float, float]], k: int
) -> int:
    """``k`` couriers per carrier with a depot in each bench area (the one non-API step)."""
    from doorstep.bootstrap import build
    from doorstep.config import Settings
    from doorstep.domain.fleet import Courier
    from doorstep.services import catalog

    couriers = [
        Courier(f"bench-{c}-{a}-{n:02d}", f"Bench {n}", f"1390000{n:04d}", c, a, *centres[a])
        for a in plan.areas
        for c in plan.carriers
        for n in range(k)
    ]
    app = build(Settings(env="development", database_url=db_url), run_migrations=False)
    catalog.upsert_fleet(app.services, [], couriers)
    app.engine.dispose()
    return len(couriers)


def _address(adcode: str, centre: tuple[float, float], rng: random.Random) -> dict[str, Any]:
    lat, lon = centre
    return {
        "adcode": adcode,
        "province": "上海市",
        "city": "上海市",
        "district": adcode,
        "detail": f"测试路{rng.randint(1, 999)}号{rng.randint(101, 2999)}室",
        "contact_name": "测试",
        "contact_phone": f"1380000{rng.randint(0, 9999):04d}",
        # About one kilometre around the district centre.
        "lat": round(lat + rng.uniform(-0.01, 0.01), 6),
        "lon": round(lon + rng.uniform(-0.01, 0.01), 6),
    }


def import_orders(
    api: Api, areas: Sequence[str], centres: dict[str, tuple[float, float]], prefix: str
) -> list[tuple[str, str]]:
    """One domestic order of the bench product per entry of ``areas``; (order id, buyer)."""
    now = datetime.now(UTC)
    rng = random.Random(prefix)
    made, batch = [], []
    for i, adcode in enumerate(areas):
        buyer = BUYERS[i % len(BUYERS)]
        order_id = f"{prefix}{i:06d}"
        made.append((order_id, buyer))
        batch.append(
            {
                "order_id": order_id,
                "buyer_id": BUYER_IDS[buyer],
                "shop_id": SHOP,
                "channel": "domestic",
                "placed_at": (now - timedelta(days=3)).isoformat(),
                "signed_at": (now - timedelta(days=1)).isoformat(),
                "shipping_address": _address(adcode, centres[adcode], rng),
                "lines": [{"line_id": "L1", "sku": SKU, "quantity": 1, "unit_price_fen": 2900}],
            }
        )
        if len(batch) == 500 or i == len(areas) - 1:
            api.call("POST", "/partner/orders", "ops1", {"orders": batch}).raise_for_status()
            batch = []
    return made


def import_product(api: Api) -> None:
    """A small, light product so that vehicle capacity never limits a route."""
    product = {
        "sku": SKU,
        "name_zh": "棉袜",
        "name_en": "Cotton socks",
        "category": "home",
        "weight_g": 100,
        "dimensions": {"length_mm": 150, "width_mm": 100, "height_mm": 30},
        "shop_id": SHOP,
    }
    api.call("POST", "/partner/products", "ops1", {"products": [product]}).raise_for_status()


def _open_body(order_id: str) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "lines": [{"order_line_id": "L1", "quantity": 1, "reason": "no_reason"}],
    }


def open_returns(api: Api, orders: Sequence[tuple[str, str]], threads: int) -> list[str]:
    """Open a return per order (approving any held for review); the approved return ids."""

    def one(order: tuple[str, str]) -> str:
        order_id, buyer = order
        r = api.call("POST", "/returns", buyer, _open_body(order_id))
        r.raise_for_status()
        ret = r.json()
        if ret["status"] != "approved":
            review = {"approve": True, "note": "bench"}
            api.call("POST", f"/ops/reviews/{ret['return_id']}", "ops1", review).raise_for_status()
        return str(ret["return_id"])

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, orders))


def preload(
    api: Api, plan: Plan, returns: Sequence[tuple[str, str]], threads: int
) -> dict[str, int]:
    """Book every preload return through the API, moving to the next window when refused."""

    def one(item: tuple[int, tuple[str, str]]) -> str:
        i, (return_id, buyer) = item
        tried = 0
        while tried < 40:
            _, body = plan.booking_body(i + tried * len(plan.carrier_days))
            r = api.call("POST", f"/returns/{return_id}/pickup", buyer, body)
            if r.status_code == 201:
                return "booked"
            code = r.json().get("code", "")
            if code != "stale_write":  # a lost race: the same window again
                tried += 1
        return "refused"

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(one, enumerate(returns)))
    return {"booked": results.count("booked"), "refused": results.count("refused")}


# --- driving --------------------------------------------------------------------------------


def request_file(path: Path, lines: Sequence[tuple[str, str, str, Any]]) -> Path:
    """Lines for bench/load_wrk.lua: method, path, token, JSON body."""
    with path.open("w") as out:
        for method, target, token, body in lines:
            text = "-" if body is None else json.dumps(body, separators=(",", ":"))
            out.write(f"{method}\t{target}\t{token or '-'}\t{text}\n")
    return path


def run_wrk(
    url: str, requests: Path, connections: int, duration: int, threads: int
) -> dict[str, Any]:
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        url,
        "--",
        str(requests),
        str(threads),
    ]
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return parse_wrk(run.stdout)


PGBENCH_SQL = """\
\\set s random(1, :nslots)
\\set r random(1, :nreturns)
BEGIN;
UPDATE slot_capacity AS sc SET booked = sc.booked + 1 FROM bench_slots AS b
  WHERE b.n = :s AND sc.adcode = b.adcode AND sc.carrier_id = b.carrier_id
    AND sc.day = b.day AND sc.start = b.start AND sc.booked < sc.capacity;
INSERT INTO appointments
  (appointment_id, doc, buyer_id, courier_id, adcode, carrier_id, day, status, version)
  SELECT 'pgb-' || nextval('bench_ids'), appt_doc, 'buyer-001', 'bench', '310104', 'sf',
    CURRENT_DATE + 1, 'booked', 1 FROM bench_tpl;
SELECT version AS v FROM returns WHERE return_id = 'pgb-' || :r \\gset
UPDATE returns SET doc = (SELECT return_doc FROM bench_tpl), status = 'awaiting_pickup',
  version = :v + 1, updated_at = now() WHERE return_id = 'pgb-' || :r AND version = :v;
INSERT INTO events (aggregate_type, aggregate_id, name, occurred_at, data)
  SELECT 'appointment', 'pgb', 'appointment.booked', now(), event_data FROM bench_tpl;
INSERT INTO events (aggregate_type, aggregate_id, name, occurred_at, data)
  SELECT 'return', 'pgb', 'return.pickup_scheduled', now(), event_data FROM bench_tpl;
END;
"""

PGBENCH_SETUP = """\
DROP TABLE IF EXISTS bench_tpl, bench_slots; DROP SEQUENCE IF EXISTS bench_ids;
CREATE SEQUENCE bench_ids;
CREATE TABLE bench_tpl AS SELECT
  (SELECT doc FROM appointments ORDER BY appointment_id LIMIT 1) AS appt_doc,
  (SELECT doc FROM returns WHERE status = 'awaiting_pickup' LIMIT 1) AS return_doc,
  (SELECT data FROM events WHERE aggregate_type = 'appointment' LIMIT 1) AS event_data;
CREATE TABLE bench_slots AS SELECT row_number() OVER () AS n, adcode, carrier_id, day, start
  FROM slot_capacity;
INSERT INTO returns (return_id, doc, buyer_id, order_id, status, version, created_at, updated_at)
  SELECT 'pgb-' || g, r.doc, r.buyer_id, r.order_id, r.status, 1, r.created_at, r.updated_at
  FROM (SELECT * FROM returns WHERE status = 'approved' LIMIT 1) AS r,
       generate_series(1, {n}) AS g;
SELECT count(*) FROM bench_slots;
"""


def run_pgbench(db_url: str, workdir: Path, clients: int, duration: int, n: int) -> dict[str, Any]:
    """The booking's writes as a pgbench script on the same database."""
    nslots = int(_psql(db_url, PGBENCH_SETUP.format(n=n)).splitlines()[-1])
    script = workdir / "booking_writes.sql"
    script.write_text(PGBENCH_SQL)
    cmd = [
        "pgbench", "-n", "-f", str(script), "-c", str(clients), "-j", "2", "-T", str(duration),
        "-D", f"nslots={nslots}", "-D", f"nreturns={n}", db_url,
    ]  # fmt: skip
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode:
        raise RuntimeError(f"pgbench failed: {run.stderr[-2000:]}")
    return parse_pgbench(run.stdout) | {"clients": clients, "slots": nslots}


@dataclass
class Options:
    workers: int
    connections: int
    duration: int
    threads: int
    returns: int
    slot_returns: int
    open_orders: int
    fleet: int
    setup_threads: int
    pool_size: int | None
    scenarios: tuple[str, ...]
    rounds: int


def run_level(
    server_url: str, workdir: Path, plan: Plan, preload_n: int, o: Options
) -> dict[str, Any]:
    """Everything for one preload level on its own database and servers."""
    db_url = fresh_database(server_url, f"doorstep_load_p{preload_n}")
    port, trivial_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "DOORSTEP_DATABASE_URL": db_url,
        "DOORSTEP_ENV": "development",
        "DOORSTEP_BOOKING_HORIZON_DAYS": str(len(plan.days) + 1),
    }
    if o.pool_size:
        env["DOORSTEP_DB_POOL_SIZE"] = str(o.pool_size)
    cli = [sys.executable, "-m", "doorstep.entrypoints.cli"]
    api_server = Server(
        "api",
        [*cli, "serve", "--demo", "--workers", str(o.workers), "--worker-every", "0",
         "--port", str(port)],
        env,
        port,
        workdir / f"api_p{preload_n}.log",
    )  # fmt: skip
    trivial = Server(
        "trivial",
        [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent), "--factory",
         "load:trivial_app", "--workers", str(o.workers), "--port", str(trivial_port),
         "--timeout-worker-healthcheck", "60"],
        env,
        trivial_port,
        workdir / f"trivial_p{preload_n}.log",
    )  # fmt: skip
    started = time.monotonic()
    _log(f"preload {preload_n}: starting the API ({o.workers} workers) on {db_url}")
    api_server.start("/readyz", o.workers)
    trivial.start("/", o.workers)
    try:
        result = _drive(db_url, port, trivial_port, workdir, plan, preload_n, o)
    finally:
        api_server.stop()
        trivial.stop()
    result["setup_and_run_s"] = round(time.monotonic() - started, 1)
    return result


def _drive(
    db_url: str, port: int, trivial_port: int, workdir: Path, plan: Plan, preload_n: int,
    o: Options,
) -> dict[str, Any]:  # fmt: skip
    api = Api(f"http://127.0.0.1:{port}")
    for user in ("ops1", *BUYERS):
        api.login(user)
    centres = raise_capacities(api)
    import_product(api)
    fleet = add_bench_fleet(db_url, plan, centres, o.fleet)
    cds = plan.carrier_days
    n_pre = preload_n * len(cds)
    n_book = o.returns + o.slot_returns
    # Preload and booking returns live where their bookings go (round robin over carrier-days).
    pre_areas = [plan.booking_body(i)[0] for i in range(n_pre)]
    book_areas = [plan.booking_body(i)[0] for i in range(n_book)]
    open_areas = [plan.areas[i % len(plan.areas)] for i in range(o.open_orders)]
    t0 = time.monotonic()
    pre_orders = import_orders(api, pre_areas, centres, "BP")
    book_orders = import_orders(api, book_areas, centres, "BB")
    open_orders = import_orders(api, open_areas, centres, "BO")
    _log(f"imported {n_pre + n_book + o.open_orders} orders in {time.monotonic() - t0:.0f} s")
    t0 = time.monotonic()
    pre_returns = open_returns(api, pre_orders, o.setup_threads)
    book_returns = open_returns(api, book_orders, o.setup_threads)
    _log(f"opened {n_pre + n_book} returns in {time.monotonic() - t0:.0f} s")
    t0 = time.monotonic()
    pre_buyers = [b for _, b in pre_orders]
    preloaded = preload(api, plan, list(zip(pre_returns, pre_buyers, strict=True)), o.setup_threads)
    _log(f"preloaded {preloaded} in {time.monotonic() - t0:.0f} s")

    token = api.tokens
    book_lines = []
    for i, (rid, (_, buyer)) in enumerate(zip(book_returns, book_orders, strict=True)):
        _, body = plan.booking_body(i)
        book_lines.append(("POST", f"/returns/{rid}/pickup", token[buyer], body))
    slot_lines = [
        ("GET", f"/returns/{rid}/slots", token[buyer], None)
        for rid, (_, buyer) in list(zip(book_returns, book_orders, strict=True))[o.returns :]
    ]
    open_lines = [("POST", "/returns", token[b], _open_body(oid)) for oid, b in open_orders]
    base = f"http://127.0.0.1:{port}"
    runs: dict[str, tuple[str, list[tuple[str, str, str, Any]]]] = {
        "trivial": (f"http://127.0.0.1:{trivial_port}", [("GET", "/", "", None)]),
        "healthz": (base, [("GET", "/healthz", "", None)]),
        # Offers on the preloaded days, before the booking burst adds to them.
        "slots": (base, slot_lines),
        "booking": (base, book_lines[: o.returns - SERIAL]),
        "open_returns": (base, open_lines[:-SERIAL]),
    }
    # A few requests one at a time on an idle server, apart from the bursts' data: the cost of
    # one request even where a burst completes almost none (the old booking at 300).
    serial_lines = {
        "slots": slot_lines[:SERIAL],
        "booking": book_lines[o.returns - SERIAL : o.returns],
        "open_returns": open_lines[-SERIAL:],
    }

    def burst(name: str, seconds: int) -> tuple[dict[str, Any], int]:
        url, lines = runs[name]
        path = request_file(workdir / f"{name}_p{preload_n}.tsv", lines)
        before = sessions_opened(db_url)
        _log(f"preload {preload_n}: {name} {seconds} s ({len(lines)} distinct requests)")
        wrk = run_wrk(url, path, o.connections, seconds, o.threads)
        return wrk, sessions_opened(db_url) - before - 1  # less our own psql session

    bursts: dict[str, list[tuple[dict[str, Any], int]]] = {}
    # The two baselines alternate in short bursts so that the other tenants' load drifts over
    # both alike; the stateful scenarios run once each, in the order their data needs.
    paired = [n for n in o.scenarios if n in STATELESS]
    for _ in range(o.rounds):
        for name in paired:
            bursts.setdefault(name, []).append(burst(name, max(1, o.duration // o.rounds)))
    one_at_a_time: dict[str, dict[str, Any]] = {}
    drained: dict[str, float] = {}
    for name in o.scenarios:
        if name not in STATELESS:
            # The previous burst's requests still queued in the server must not run into this
            # one: wait until no transaction of the API is open.
            drained[name] = drain(db_url)
            one_at_a_time[name] = serial(base, serial_lines[name])
            bursts[name] = [burst(name, o.duration)]
    scenarios = {}
    for name in o.scenarios:
        wrk = merge_wrk([w for w, _ in bursts[name]])
        scenarios[name] = summarize(
            wrk,
            distinct=name in ("booking", "open_returns"),
            sessions_opened=sum(n for _, n in bursts[name]) if name != "trivial" else None,
        )
        if name in one_at_a_time:
            scenarios[name]["one_at_a_time"] = one_at_a_time[name]
            scenarios[name]["drain_before_s"] = drained[name]
        _log(f"  {name}: {json.dumps(scenarios[name])}")
    level_drain = drain(db_url)
    level: dict[str, Any] = {
        "preload_per_carrier_day": preload_n,
        "carrier_days": len(cds),
        "bench_couriers": fleet,
        "preloaded": preloaded,
        "scenarios": scenarios,
    }
    level["drain_after_s"] = level_drain
    _log(f"preload {preload_n}: pgbench")
    level["pgbench"] = run_pgbench(db_url, workdir, o.connections, o.duration, 10_000)
    level["ratios"] = ratios(level)
    return level


def _shanghai_days(n: int, first: int) -> tuple[date, ...]:
    today = datetime.now(SHANGHAI).date()
    return tuple(today + timedelta(days=first + k) for k in range(n))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="a PostgreSQL server to use (default: a throwaway one)")
    parser.add_argument("--workers", type=int, default=2, help="API processes")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=15, help="seconds per scenario")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--preload",
        type=int,
        nargs="+",
        default=[0, 300],
        help="appointments already booked per carrier-day; one run per value",
    )
    parser.add_argument(
        "--areas",
        nargs="+",
        default=["310104", "310115"],
        help="districts the bookings go to (both carriers serve each)",
    )
    parser.add_argument("--days", type=int, default=1, help="booking days, from tomorrow")
    parser.add_argument(
        "--returns", type=int, default=3000, help="distinct approved returns for the booking burst"
    )
    parser.add_argument("--slot-returns", type=int, default=200)
    parser.add_argument(
        "--open-orders", type=int, default=5000, help="distinct orders for the open-returns burst"
    )
    parser.add_argument(
        "--fleet",
        type=int,
        default=10,
        help="bench couriers per carrier in each area (routes must hold the preload)",
    )
    parser.add_argument("--setup-threads", type=int, default=8)
    parser.add_argument("--pool-size", type=int, help="DOORSTEP_DB_POOL_SIZE for the API")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="trivial and healthz alternate in this many bursts of duration/rounds",
    )
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)  # fmt: skip
    for tool in ("wrk", "pgbench", "psql"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: apt-get install wrk postgresql")
    plan = Plan(tuple(args.areas), _shanghai_days(args.days, 1))
    opts = Options(
        args.workers, args.connections, args.duration, args.threads, args.returns,
        args.slot_returns, args.open_orders, args.fleet, args.setup_threads, args.pool_size,
        tuple(args.scenarios), args.rounds,
    )  # fmt: skip
    # SIGTERM unwinds like ^C, so the servers and the throwaway cluster are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    head = _git_head()  # at the start: the tree may change during a long run
    workdir = Path(tempfile.mkdtemp(prefix="doorstep-load-"))
    workdir.chmod(0o755)  # the cluster runs as the postgres user when we are root
    started = datetime.now(UTC)
    levels: dict[str, Any] = {}
    try:
        with postgres(args.pg_url, workdir) as server_url:
            for n in args.preload:
                levels[str(n)] = run_level(server_url, workdir, plan, n, opts)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report: dict[str, Any] = {
        "bench": "load",
        "started": started.isoformat(timespec="seconds"),
        "git": head,
        "machine": {"cpus": os.cpu_count(), "load_avg_at_end": os.getloadavg()},
        "config": {
            "workers": args.workers,
            "connections": args.connections,
            "duration_s": args.duration,
            "areas": list(plan.areas),
            "days": [d.isoformat() for d in plan.days],
            "fleet_per_carrier_area": args.fleet,
            "returns": args.returns,
            "pool_size": args.pool_size or "default",
            "rounds_trivial_healthz": args.rounds,
        },
        "levels": levels,
    }
    keys = sorted(levels, key=int)
    if len(keys) >= 2:
        report["cost_high_vs_low"] = {
            "low": int(keys[0]),
            "high": int(keys[-1]),
            **cost_ratios(levels, keys[0], keys[-1]),
        }
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return report


def _git_head() -> str:
    run = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True)
    return run.stdout.decode().strip()


if __name__ == "__main__":
    main()
