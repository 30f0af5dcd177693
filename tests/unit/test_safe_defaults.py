"""Production unless development is asked for: no public secret exposed, no demo accounts."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from doorstep.bootstrap import DemoRefused, build, make_offering, seed_demo, timed_travel
from doorstep.config import DEV_SECRET, Settings
from doorstep.entrypoints.cli import app
from doorstep.planning.timed import TimedTravel
from doorstep.planning.travel import HaversineTravel

SECRET = "a-real-secret-" + "y" * 40
# A production deployment names the stand-ins it runs on (config.STAND_INS).
NAMED = {"payments": "local", "customs_broker_mode": "pending", "notifications": "off"}
NAMED_ENV = {f"DOORSTEP_{k.upper()}": v for k, v in NAMED.items()}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("DOORSTEP_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DOORSTEP_DATABASE_URL", f"sqlite:///{tmp_path}/d.db")


def _run(*args: str, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def test_without_env_settings_are_production_and_refuse_the_dev_secret() -> None:
    with pytest.raises(ValidationError, match="DOORSTEP_SECRET_KEY"):
        Settings()
    assert Settings(secret_key=SECRET, **NAMED).env == "production"
    assert Settings(env="development").uses_dev_secret


@pytest.mark.parametrize("left_out", sorted(NAMED))
def test_production_names_every_stand_in_it_runs_on(left_out: str) -> None:
    named = {k: v for k, v in NAMED.items() if k != left_out}
    with pytest.raises(ValidationError, match=f"DOORSTEP_{left_out.upper()}"):
        Settings(secret_key=SECRET, **named)  # type: ignore[arg-type]
    # ... from the environment too, as a deployment sets them.
    code, out = _run(
        "serve",
        DOORSTEP_SECRET_KEY=SECRET,
        **{k: v for k, v in NAMED_ENV.items() if k != f"DOORSTEP_{left_out.upper()}"},
    )
    assert code == 2 and f"DOORSTEP_{left_out.upper()}" in out and "Traceback" not in out
    # Development and tests run on them without naming them.
    assert Settings(env="development").payments == "local"
    assert Settings(env="test", secret_key=SECRET).customs_broker_mode == "accept"


def test_bad_limit_settings_are_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(env="development", signin_limit_account="lots")
    with pytest.raises(ValidationError):
        Settings(env="development", rate_limit_storage="mongodb://x")


def test_serve_without_env_refuses_with_a_readable_message() -> None:
    code, out = _run("serve")
    assert code == 2 and "DOORSTEP_SECRET_KEY" in out and "Traceback" not in out


def test_demo_data_is_refused_outside_development() -> None:
    code, out = _run("serve", "--demo", DOORSTEP_SECRET_KEY=SECRET, **NAMED_ENV)
    assert code == 2 and "DOORSTEP_ENV=development" in out
    code, out = _run("seed", DOORSTEP_SECRET_KEY=SECRET, DOORSTEP_ENV="test")
    assert code == 2 and "DOORSTEP_ENV=development" in out
    wired = build(Settings(secret_key=SECRET, **NAMED), run_migrations=True)
    with pytest.raises(DemoRefused):
        seed_demo(wired)
    wired.engine.dispose()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_the_dev_secret_is_never_served_beyond_loopback(host: str) -> None:
    code, out = _run("serve", "--host", host, DOORSTEP_ENV="development")
    assert code == 2 and "development secret" in out
    assert DEV_SECRET not in out


@pytest.mark.parametrize("host", ["bad host", "x;rm -rf /", "a" * 300, "-lead.example", "é.cn"])
def test_a_bind_address_that_is_no_address_is_refused_in_both_languages(host: str) -> None:
    code, out = _run("serve", "--host", host, DOORSTEP_SECRET_KEY=SECRET, **NAMED_ENV)
    assert code == 2 and "bind_host_invalid" in out and "Traceback" not in out, out
    assert "neither an IP address" in out and "既不是 IP 地址" in out


def test_several_processes_need_shared_limits_in_production() -> None:
    code, out = _run("serve", "--workers", "2", DOORSTEP_SECRET_KEY=SECRET, **NAMED_ENV)
    assert code == 2 and "DOORSTEP_RATE_LIMIT_STORAGE" in out
    assert "shared_limits_needed" in out and "成倍" in out


def test_timed_pricing_defaults_are_the_ones_that_kept_every_window_on_held_out_seeds() -> None:
    """Timed pricing's shipped margin, reserve and chain z are the measured safe point
    (session 4's 1.2 / 120 s / 2.33: every pickup inside its window on simulator seeds
    101-120), not a looser pick that left visits late there (1.0 / 0 / 1.64: seeds 106 and
    118). Changing them takes a new measurement on held-out seeds (docs/benchmarks.md)."""
    timed = timed_travel(Settings(env="test", secret_key=SECRET), HaversineTravel())
    assert (timed.margin, timed.reserve_s, timed.chain_z) == (1.2, 120, 2.33)
    assert timed.chained  # the chain reserve is on: both sd's above zero


def test_paid_time_is_priced_only_with_timed_pricing_and_the_call_out_cost_is_off(
    tmp_path: Path,
) -> None:
    """The shipped pair is timed pricing with paid time in the plan (weight 10): +14-18 %
    pickups per courier-hour with every visit inside on held-out seeds 301-320, where peak
    pricing with the weight left visits late in 7 of 40 runs; the call-out cost stays off,
    since with the incentive offering it hid idle couriers' windows (docs/benchmarks.md,
    "Session 20"). Changing one without the other takes a new measurement."""
    settings = Settings(env="test", secret_key=SECRET)
    assert settings.travel_pricing == "timed" and settings.plan_duration_weight == 10
    assert settings.booking_call_out_s == 0
    wired = Settings(env="test", secret_key=SECRET, database_url=f"sqlite:///{tmp_path}/d.db")
    app = build(wired, run_migrations=False)
    assert isinstance(app.services.travel, TimedTravel)
    assert app.services.booking.call_out_s == 0
    app.engine.dispose()


def test_the_hiding_rule_is_set_from_the_environment_within_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``DOORSTEP_INCENTIVE_NEAR_PCT`` / ``_SHOW_WITHIN_S`` reach the offer's rules; the
    defaults are the live rules (150 / 2400) and values out of bounds are refused."""
    defaults: Any = make_offering(Settings(env="development"), _services())
    assert (defaults.incentives.near_pct, defaults.incentives.show_within_s) == (150, 2400)
    monkeypatch.setenv("DOORSTEP_INCENTIVE_NEAR_PCT", "130")
    monkeypatch.setenv("DOORSTEP_INCENTIVE_SHOW_WITHIN_S", "1800")
    chosen: Any = make_offering(Settings(env="development"), _services())
    assert (chosen.incentives.near_pct, chosen.incentives.show_within_s) == (130, 1800)
    for name, bad in (
        ("incentive_near_pct", -1),
        ("incentive_near_pct", 10_001),
        ("incentive_show_within_s", 7201),
        ("incentive_show_within_s", -5),
    ):
        with pytest.raises(ValidationError, match=name):
            Settings(env="development", **{name: bad})  # type: ignore[arg-type]


def _services() -> Any:
    """What ``make_offering`` reads of the services: the travel model and the route cache."""
    return SimpleNamespace(travel=HaversineTravel(), route_cache=None)
