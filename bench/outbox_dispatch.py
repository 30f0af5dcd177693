"""What the outbox's bookkeeping costs per webhook: ``dispatch_pending`` against bare posts.

Builds doorstep on a throwaway database (SQLite by default, or ``--database-url``), seeds the
demo, opens ``--returns`` returns for the demo buyers (each stores two or three events) and
points the shop's webhook at a loopback HTTP server that answers 200. Then, timed:

- *outbox*: ``dispatch_pending`` (fan-out, claim with a lease, signed post, one outcome
  transaction per delivery) by ``--threads`` dispatchers until every delivery is delivered;
- *baseline* (same run, same receiver): the same bodies posted one after another through
  the same ``HttpWebhooks`` adapter (signing included), with no database at all.

Prints one JSON line: deliveries, seconds, milliseconds per delivery for both, and the ratio.

    uv run python bench/outbox_dispatch.py [--returns 150] [--buyers 5] [--threads 1]
        [--database-url URL]

Events of one buyer go out one at a time (in order), so ``--buyers`` sets how many can be in
one batch: 5 is a worst case (about 90 events per buyer), 150 is closer to real traffic.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import func, select

from doorstep.adapters.db import tables as t
from doorstep.adapters.ids import FixedClock
from doorstep.adapters.notify.webhooks import HttpWebhooks
from doorstep.bootstrap import build, seed_demo
from doorstep.config import Settings
from doorstep.domain.address import Address
from doorstep.domain.order import Buyer, Channel, Order, OrderLine
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import catalog, outbox, returns
from doorstep.services.returns import LineRequest, OpenReturn

NOW = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
SHOP = "shop-cn-home"
SECRET = "bench-webhook-secret-" + "b" * 24
BUYERS = ("buyer-001", "buyer-002", "buyer-003", "buyer-004", "buyer-006")
HOME = Address("310104", "上海市", "上海市", "徐汇区", "漕溪北路88号", "林晓雯", "13800001111")


def receiver() -> tuple[ThreadingHTTPServer, str]:
    """A loopback endpoint that reads the body and answers 200."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--returns", type=int, default=150)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--buyers", type=int, default=len(BUYERS))
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="outbox-bench-")
    url = args.database_url or f"sqlite:///{os.path.join(tmp, 'bench.db')}"
    server, hook_url = receiver()
    settings = Settings(
        env="development",
        database_url=url,
        merchant_webhooks={SHOP: {"url": hook_url, "secret": SECRET}},
    )
    app = build(settings, clock=FixedClock(NOW))
    seed_demo(app)
    svc = app.services
    outbox.dispatch_pending(svc, NOW, 100_000)  # the seed's own events, out of the timing
    batch = uuid.uuid4().hex[:6]
    buyers = list(BUYERS[: args.buyers])
    extra = [
        Buyer(f"bench-{batch}-{i}", f"买家{i}", f"1390000{i:04d}", 600)
        for i in range(max(0, args.buyers - len(buyers)))
    ]
    catalog.upsert_buyers(svc, extra)
    buyers += [b.buyer_id for b in extra]
    orders = [
        Order(
            f"BENCH-{batch}-{i}", buyers[i % len(buyers)], SHOP, Channel.DOMESTIC, NOW, HOME,
            (OrderLine("L1", "CN-LATEX-PILLOW", 1, 19900),), signed_at=NOW,
        )
        for i in range(args.returns)
    ]  # fmt: skip
    catalog.import_orders(svc, orders, None)
    for o in orders:
        returns.open_return(
            svc,
            OpenReturn(
                o.buyer_id, o.order_id, ReturnKind.REFUND, (LineRequest("L1", 1, Reason.NO_REASON),)
            ),
        )

    def drain() -> None:
        while outbox.dispatch_pending(svc, NOW, 500):
            pass

    started = time.perf_counter()
    workers = [threading.Thread(target=drain) for _ in range(args.threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    drain()  # what a dispatcher that stopped early (nothing due at that moment) left
    outbox_s = time.perf_counter() - started

    c = t.deliveries.c
    with app.engine.connect() as conn:
        rows = conn.execute(select(c.payload).where(c.receiver == f"merchant:{SHOP}")).all()
        open_left = conn.execute(select(func.count()).where(c.status != "delivered")).scalar_one()
    bodies = [outbox.webhook_bytes(dict(r.payload)) for r in rows]
    sender = HttpWebhooks()
    started = time.perf_counter()
    for i, body in enumerate(bodies):
        assert sender.post(hook_url, SECRET, f"evt_{i}", body, NOW).ok
    baseline_s = time.perf_counter() - started
    sender.close()
    server.shutdown()
    n = len(bodies)
    print(
        json.dumps(
            {
                "bench": "outbox_dispatch",
                "backend": app.engine.dialect.name,
                "dispatchers": args.threads,
                "buyers": len(buyers),
                "deliveries": n,
                "not_delivered": int(open_left),
                "outbox_s": round(outbox_s, 3),
                "outbox_ms_per_delivery": round(1000 * outbox_s / n, 3),
                "baseline_ms_per_post": round(1000 * baseline_s / n, 3),
                "ratio": round(outbox_s / baseline_s, 2),
            }
        )
    )
    app.engine.dispose()


if __name__ == "__main__":
    main()
