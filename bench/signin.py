"""Sign-in under attack: server memory during a burst, and guesses accepted per account.

Starts ``doorstep serve --demo`` (development, SQLite in a temporary folder) from the project
at ``--project`` (default: this checkout; point it at a checkout of an older commit for the
"before" figure) and prints one JSON line per figure:

- ``burst``: 40 parallel sign-ins with unknown usernames (each costs one Argon2 hash); the
  server's resident memory before, at its peak (VmHWM) and after, and the status counts. The
  per-address limit is lifted for this figure so that every attempt reaches the hashing bound.
- ``one_address`` / ``many_addresses``: wrong passwords for one account for ``--seconds``,
  from one client address, then spread over 50 loopback addresses (127.0.0.x), as a botnet
  would; attempts the server evaluated (401) versus refused (429), per minute.

    uv run python bench/signin.py [--project PATH] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    raise KeyError(field)


def _serve(
    project: Path, workdir: Path, extra_env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **os.environ,
        "DOORSTEP_ENV": "development",
        "DOORSTEP_DATABASE_URL": f"sqlite:///{workdir}/bench.db",
        "DOORSTEP_PORT": str(port),
        **extra_env,
    }
    server = subprocess.Popen(
        [str(project / ".venv/bin/doorstep"), "serve", "--demo", "--worker-every", "0"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return server, base
        except httpx.HTTPError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("server did not start")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


def burst(project: Path, parallel: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        server, base = _serve(
            project, Path(tmp), {"DOORSTEP_SIGNIN_LIMIT_ADDRESS": "100000/minute"}
        )
        try:
            time.sleep(1)
            before = _mib(server.pid, "VmRSS")

            def attempt(n: int) -> int:
                r = httpx.post(
                    f"{base}/auth/token",
                    data={"username": f"nobody{n}", "password": "guess"},
                    timeout=120,
                )
                return r.status_code

            started = time.monotonic()
            with ThreadPoolExecutor(parallel) as pool:
                statuses = Counter(pool.map(attempt, range(parallel)))
            elapsed = time.monotonic() - started
            return {
                "figure": "burst",
                "parallel": parallel,
                "rss_before_mib": before,
                "rss_peak_mib": _mib(server.pid, "VmHWM"),
                "rss_after_mib": _mib(server.pid, "VmRSS"),
                "statuses": dict(sorted(statuses.items())),
                "seconds": round(elapsed, 2),
            }
        finally:
            _stop(server)


def guesses(project: Path, seconds: float, addresses: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        server, base = _serve(project, Path(tmp), {})
        try:
            clients = [
                httpx.Client(
                    transport=httpx.HTTPTransport(local_address=f"127.0.0.{2 + i}"), timeout=30
                )
                for i in range(addresses)
            ]
            statuses: Counter[int] = Counter()
            deadline = time.monotonic() + seconds
            n = 0
            while time.monotonic() < deadline:
                client = clients[n % addresses]
                r = client.post(
                    f"{base}/auth/token", data={"username": "buyer1", "password": f"guess{n}"}
                )
                statuses[r.status_code] += 1
                n += 1
            for client in clients:
                client.close()
            per_minute = 60 / seconds
            return {
                "figure": "one_address" if addresses == 1 else "many_addresses",
                "addresses": addresses,
                "seconds": seconds,
                "statuses": dict(sorted(statuses.items())),
                "evaluated_per_minute": round(statuses[401] * per_minute, 1),
                "refused_per_minute": round(statuses[429] * per_minute, 1),
            }
        finally:
            _stop(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--parallel", type=int, default=40)
    parser.add_argument("--only", choices=["burst", "guesses"], default=None)
    args = parser.parse_args()
    project = args.project.resolve()
    if args.only in (None, "burst"):
        print(json.dumps({"project": str(project), **burst(project, args.parallel)}), flush=True)
    if args.only in (None, "guesses"):
        for addresses in (1, 50):
            result = guesses(project, args.seconds, addresses)
            print(json.dumps({"project": str(project), **result}), flush=True)


if __name__ == "__main__":
    main()
