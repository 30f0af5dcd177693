"""Does one kind of request block the others? /healthz latency, idle and under upload load.

Starts the API (`doorstep serve --demo`, SQLite in a temporary folder, one process) and probes
`/healthz` one request after another: first with nothing else running (the baseline), then while
parallel clients upload large photos (a 40-megapixel PNG that compresses to a few hundred KB,
within the upload limit, so the server decodes every pixel) and others sign in over and over.
Prints one JSON line: p50/p99/max of /healthz idle and under load, measured in the same run,
and what the load clients got (status counts).

    uv run python bench/blocking.py [--uploads 6] [--signins 4] [--seconds 20] \
        [--server-dir PATH]    # serve another checkout (e.g. a worktree of an older commit)

The machine is shared: compare the two figures of one run, and runs of two checkouts made
back to back, not absolute milliseconds across days.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]


def big_png(width: int, height: int) -> bytes:
    """A photo-sized PNG that compresses well: bands and lines, no noise."""
    image = Image.new("RGB", (width, height), (235, 235, 230))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 97):
        draw.line([(x, 0), (x, height)], fill=(40, 90, 160), width=3)
    for y in range(0, height, 89):
        draw.line([(0, y), (width, y)], fill=(180, 60, 40), width=2)
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(server_dir: Path, port: int, data: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DOORSTEP_ENV": "development",
        "DOORSTEP_DATABASE_URL": f"sqlite:///{data / 'blocking.db'}",
        "DOORSTEP_HOST": "127.0.0.1",
    }
    command = ["uv", "run", "--frozen", "doorstep", "serve", "--demo", "--port", str(port)]
    return subprocess.Popen(
        command,
        cwd=server_dir,
        env=env,
        stdout=(data / "server.log").open("wb"),
        stderr=subprocess.STDOUT,
    )


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited while starting")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not answer /healthz in time")


def sign_in(client: httpx.Client, username: str) -> httpx.Response:
    return client.post("/auth/token", data={"username": username, "password": f"demo-{username}"})


def probe(base: str, seconds: float, pause_s: float) -> list[float]:
    """/healthz latencies in milliseconds, one request at a time for ``seconds``."""
    out: list[float] = []
    with httpx.Client(base_url=base, timeout=60) as client:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            began = time.perf_counter()
            client.get("/healthz").raise_for_status()
            out.append((time.perf_counter() - began) * 1000)
            time.sleep(pause_s)
    return out


def summary(latencies: list[float]) -> dict[str, Any]:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "n": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(max(latencies), 1),
    }


class Load:
    """Upload and sign-in clients that run until stopped, counting what they got back."""

    def __init__(self, base: str, photo: bytes) -> None:
        self.base, self.photo = base, photo
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.uploads: Counter[str] = Counter()
        self.signins: Counter[str] = Counter()

    def _count(self, counter: Counter[str], key: str) -> None:
        with self.lock:
            counter[key] += 1

    def uploader(self, username: str) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as client:
            token = sign_in(client, username).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            while not self.stop.is_set():
                files = {"file": ("door.png", self.photo, "image/png")}
                try:
                    r = client.post("/photos", headers=headers, files=files)
                    self._count(self.uploads, str(r.status_code))
                except httpx.HTTPError as exc:
                    self._count(self.uploads, type(exc).__name__)

    def signer(self, username: str) -> None:
        with httpx.Client(base_url=self.base, timeout=120) as client:
            while not self.stop.is_set():
                try:
                    self._count(self.signins, str(sign_in(client, username).status_code))
                except httpx.HTTPError as exc:
                    self._count(self.signins, type(exc).__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=6, help="parallel upload clients")
    parser.add_argument("--signins", type=int, default=4, help="parallel sign-in clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="probe time per phase")
    parser.add_argument("--pause", type=float, default=0.02, help="seconds between probes")
    parser.add_argument("--width", type=int, default=8000)
    parser.add_argument("--height", type=int, default=5000)
    parser.add_argument("--server-dir", type=Path, default=REPO, help="checkout to serve")
    args = parser.parse_args()

    photo = big_png(args.width, args.height)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="doorstep-blocking-") as folder:
        data = Path(folder)
        server = start_server(args.server_dir.resolve(), port, data)
        try:
            wait_ready(base, server, timeout_s=180)
            probe(base, 2, args.pause)  # warm up
            idle = probe(base, args.seconds, args.pause)
            load = Load(base, photo)
            buyers = [f"buyer{1 + i % 4}" for i in range(args.uploads)]
            signers = [f"courier{1 + i % 8}" for i in range(args.signins)]
            threads = [threading.Thread(target=load.uploader, args=(u,)) for u in buyers]
            threads += [threading.Thread(target=load.signer, args=(u,)) for u in signers]
            for thread in threads:
                thread.start()
            time.sleep(2)  # let the load build up before measuring
            loaded = probe(base, args.seconds, args.pause)
            load.stop.set()
            for thread in threads:
                thread.join(timeout=180)
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    print(
        json.dumps(
            {
                "figure": "healthz_p99_under_upload_and_signin_load",
                "server_dir": str(args.server_dir.resolve()),
                "commit": _commit(args.server_dir),
                "photo": {
                    "width": args.width,
                    "height": args.height,
                    "bytes": len(photo),
                },
                "uploads_parallel": args.uploads,
                "signins_parallel": args.signins,
                "idle": summary(idle),
                "load": summary(loaded),
                "upload_statuses": dict(load.uploads),
                "signin_statuses": dict(load.signins),
                "p99_load_over_idle": round(summary(loaded)["p99_ms"] / summary(idle)["p99_ms"], 2),
            }
        )
    )


def _commit(folder: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


if __name__ == "__main__":
    main()
