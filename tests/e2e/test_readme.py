"""The README's curl walk-through runs as written against `doorstep serve --demo`."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_readme_walkthrough(tmp_path: Path) -> None:
    assert shutil.which("curl"), "curl is needed for the README walk-through"
    script = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert script is not None
    port = _free_port()
    env = {
        **os.environ,
        "DOORSTEP_DATABASE_URL": f"sqlite:///{tmp_path}/readme.db",
        "DOORSTEP_PORT": str(port),
        "DOORSTEP_ENV": "development",
    }
    server = subprocess.Popen(
        ["uv", "run", "--frozen", "doorstep", "serve", "--demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise AssertionError("server did not start")
        # Run as written: the script must find the server from DOORSTEP_PORT by itself.
        body = script.group(1)
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", body],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr + run.stdout
        out = run.stdout
        assert '"status":"refunded"' in out, out
        assert '"name":"return.picked_up"' in out and '"waybill_no":"' in out, out
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()
