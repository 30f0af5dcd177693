"""What observing a request costs: the doorstep app with and without ``RequestObserver``.

Builds the real app twice over one throwaway SQLite database: as ``create_app`` makes it
(request id, one JSON log line to /dev/null, the latency histogram, the dependency binding
the route's ids) and with the observer left out (``observe.install`` and the dependency
replaced by no-ops). Both answer ``GET /healthz`` (the cheapest route, so the overhead shows
most) and ``GET /returns/{return_id}`` without a token (401: routing, the id dependency, the
error handler) through plain ASGI calls, no network, in alternating rounds; prints one JSON
line with microseconds per request (best round) and the ratio.

    uv run python bench/request_overhead.py [--requests 500] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from typing import Any
from unittest import mock

from fastapi import FastAPI

from doorstep.adapters.observability.logs import configure_logging
from doorstep.bootstrap import build
from doorstep.config import Settings
from doorstep.entrypoints.api import observe
from doorstep.entrypoints.api.app import create_app


async def _request(app: FastAPI, path: str) -> None:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
        "state": {},
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: dict[str, Any]) -> None:
        return None

    await app(scope, receive, send)


async def _best(
    apps: dict[str, FastAPI], path: str, requests: int, rounds: int
) -> dict[str, float]:
    best = dict.fromkeys(apps, float("inf"))
    for app in apps.values():
        for _ in range(100):
            await _request(app, path)
    for _ in range(rounds):
        for name, app in apps.items():
            started = time.perf_counter()
            for _ in range(requests):
                await _request(app, path)
            best[name] = min(best[name], (time.perf_counter() - started) / requests * 1e6)
    return best


async def _no_ids() -> None:
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    configure_logging("json", "INFO")
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the log lines are written, not kept
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(env="development", database_url=f"sqlite:///{tmp}/bench.db")
        wired = build(settings)
        apps = {"observed": create_app(wired)}
        with (
            mock.patch.object(observe, "install", lambda api: None),
            mock.patch.object(observe, "bind_route_ids", _no_ids),
        ):
            apps["bare"] = create_app(wired)
        figures: dict[str, Any] = {}
        for label, path in (("healthz", "/healthz"), ("return_401", "/returns/R-bench")):
            best = asyncio.run(_best(apps, path, args.requests, args.rounds))
            figures[label] = {
                "bare_us": round(best["bare"], 1),
                "observed_us": round(best["observed"], 1),
                "overhead_us": round(best["observed"] - best["bare"], 1),
                "ratio": round(best["observed"] / best["bare"], 2),
            }
        wired.engine.dispose()
    print(json.dumps({"benchmark": "request_overhead", **figures}, sort_keys=True))


if __name__ == "__main__":
    main()
