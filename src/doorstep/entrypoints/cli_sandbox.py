"""``doorstep sandbox-carrier``: the sandbox courier company, and its start beside ``serve``."""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import threading
import time
from enum import StrEnum

import httpx
import typer
from rich.console import Console

from doorstep.config import (
    SANDBOX_CARRIER_ID,
    SANDBOX_DEV_API_KEY,
    SANDBOX_DEV_CALLBACK_SECRET,
    CarrierGateway,
    Settings,
)

console = Console()


MAX_SECRET_CHARS = 200


class FailCreate(StrEnum):
    """How the sandbox answers an order (``sandbox_carrier.callbacks.Faults.fail_create``)."""

    NONE = "none"
    TRANSIENT = "transient"  # 503
    PERMANENT = "permanent"  # 400


def _bounded_secret(value: str) -> str:
    """A key or secret of 1-200 printable ASCII characters (it goes into HTTP headers)."""
    if not (0 < len(value) <= MAX_SECRET_CHARS and value.isascii() and value.isprintable()):
        raise typer.BadParameter(
            f"1-{MAX_SECRET_CHARS} printable ASCII characters"
            f" / 须为 1–{MAX_SECRET_CHARS} 个可打印 ASCII 字符"
        )
    return value


def register(app: typer.Typer) -> None:
    """Add the ``sandbox-carrier`` command to the CLI."""

    @app.command("sandbox-carrier")
    def sandbox_carrier(
        port: int = typer.Option(8100, min=1, max=65535, help="Port on 127.0.0.1."),
        api_key: str = typer.Option(
            SANDBOX_DEV_API_KEY, help="Key doorstep must send.", callback=_bounded_secret
        ),
        callback_secret: str = typer.Option(
            SANDBOX_DEV_CALLBACK_SECRET,
            help="Secret the callbacks are signed with.",
            callback=_bounded_secret,
        ),
        auto_advance: float = typer.Option(
            0.0,
            min=0,
            max=3_600,
            help="Walk every order one stage on every N seconds (0: only by hand).",
        ),
        delay: float = typer.Option(0.0, min=0, max=30, help="Fault: delay each callback (s)."),
        duplicate: bool = typer.Option(False, help="Fault: send each callback twice."),
        reorder: bool = typer.Option(False, help="Fault: send each callback after the next."),
        drop: bool = typer.Option(False, help="Fault: send no callbacks (polling finds them)."),
        fail_create: FailCreate = typer.Option(
            FailCreate.NONE, help="Fault: none, transient or permanent."
        ),
        forge: bool = typer.Option(False, help="Fault: sign callbacks with a wrong secret."),
        parent_pid: int = typer.Option(
            0, min=0, max=2**22, hidden=True, help="Exit when this process is gone."
        ),
    ) -> None:
        """Run the sandbox courier company on loopback (faults can be changed at runtime:
        PUT /sandbox/faults)."""
        import uvicorn

        from doorstep.sandbox_carrier.app import create_app
        from doorstep.sandbox_carrier.callbacks import Faults

        faults = Faults(delay, duplicate, reorder, drop, fail_create.value, forge)
        if parent_pid:
            _exit_with(parent_pid)
        app_ = create_app(
            api_key=api_key,
            callback_secret=callback_secret,
            faults=faults,
            auto_advance_s=auto_advance,
        )
        console.print(f"sandbox courier company on http://127.0.0.1:{port}  (faults: {faults})")
        uvicorn.run(app_, host="127.0.0.1", port=port, log_config=None, access_log=False)


def free_port() -> int:
    """A port on loopback nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_beside(settings: Settings, public_url: str, auto_advance_s: float = 20.0) -> Settings:
    """Development: start the sandbox company as a child process on a free loopback port and
    return settings that send it the sandbox carrier's orders (``make run``: one command)."""
    port = free_port()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "doorstep.entrypoints.cli",
            "sandbox-carrier",
            "--port",
            str(port),
            "--auto-advance",
            str(auto_advance_s),
            "--parent-pid",
            str(os.getpid()),
        ],
    )
    atexit.register(_stop, child)
    url = f"http://127.0.0.1:{port}"
    _wait_ready(f"{url}/sandbox/faults", child)
    console.print(f"[green]sandbox courier company[/green] {url} (carrier {SANDBOX_CARRIER_ID})")
    gateways = dict(settings.carrier_gateways)
    gateways.setdefault(
        SANDBOX_CARRIER_ID,
        CarrierGateway(
            url=url, api_key=SANDBOX_DEV_API_KEY, callback_secret=SANDBOX_DEV_CALLBACK_SECRET
        ),
    )
    return settings.model_copy(update={"carrier_gateways": gateways, "public_url": public_url})


def _wait_ready(url: str, child: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError("the sandbox courier company exited on start")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the sandbox courier company did not start in time")


def _exit_with(parent_pid: int) -> None:
    """A child started by ``serve --demo`` ends with it, even if the parent was killed and
    could not stop it (re-parented, ``getppid`` no longer names it)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
