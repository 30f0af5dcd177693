"""compose.yaml and the Dockerfile name commands and options the CLI really has.

Docker is not on the development machines or CI, so the images are not built here; this keeps
the files from drifting away from the CLI (a renamed option fails here, not in production).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
import yaml

from doorstep.config import Settings
from doorstep.entrypoints.cli import app

ROOT = Path(__file__).resolve().parents[2]


def _parses(argv: list[str]) -> None:
    assert argv[0] == "doorstep", argv
    group = typer.main.get_command(app)
    command = group.get_command(group.context_class(group), argv[1])  # type: ignore[attr-defined]
    assert command is not None, f"no such command: {argv[1]}"
    command.make_context(argv[1], list(argv[2:]))  # raises on an unknown option or bad value


def test_compose_runs_postgres_migrations_api_and_workers() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "migrate", "api", "worker"} <= services.keys()
    for name in ("migrate", "api", "worker"):
        _parses(services[name]["command"])
    # The new processes start only after the migrations succeeded.
    for name in ("api", "worker"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully"
    env = services["api"]["environment"]
    assert env["DOORSTEP_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["DOORSTEP_RATE_LIMIT_STORAGE"].startswith("redis://")
    known = {f"DOORSTEP_{field.upper()}" for field in Settings.model_fields}
    assert set(env) <= known, set(env) - known


def test_the_image_serves_with_doorstep() -> None:
    text = (ROOT / "Dockerfile").read_text()
    match = re.search(r"^CMD (\[.*\])$", text, re.M)
    assert match is not None
    _parses(json.loads(match.group(1)))
    assert "uv sync --frozen --no-dev" in text
