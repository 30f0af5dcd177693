"""The pure parts of bench/share_lock.py: the scripts lock what each variant names, the
pgbench report is read, and ratios are taken within a round."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "share_lock.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_share_lock", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_variant_shares_only_the_row_it_names(bench: ModuleType) -> None:
    locked = {
        v: [ln.split()[3] for ln in bench.script(v, 8).splitlines() if "FOR SHARE" in ln]
        for v in bench.VARIANTS
    }
    assert locked == {
        "plain": [],
        "template_share": ["slot_templates"],
        "area_share": ["service_areas"],
    }
    assert "random(1, 8)" in bench.script("plain", 8)


def test_pgbench_report_is_read(bench: ModuleType) -> None:
    out = "latency average = 5.252 ms\ninitial connection time = 9.1 ms\ntps = 761.632750 (without initial connection time)\n"
    assert bench.parse_pgbench(out) == {"tps": 761.6, "latency_ms": 5.252}
    with pytest.raises(ValueError, match="no tps"):
        bench.parse_pgbench("connection refused")


def test_ratios_are_taken_within_each_round(bench: ModuleType) -> None:
    rounds = [
        {"plain": {"tps": 100.0, "latency_ms": 1.0}, "template_share": {"tps": 50.0, "latency_ms": 2.0},
         "area_share": {"tps": 100.0, "latency_ms": 1.0}},
        {"plain": {"tps": 10.0, "latency_ms": 1.0}, "template_share": {"tps": 7.0, "latency_ms": 2.0},
         "area_share": {"tps": 11.0, "latency_ms": 1.0}},
    ]  # fmt: skip
    got = bench.summary(rounds)
    assert got["template_share"]["ratio_to_plain_range"] == [0.5, 0.7]
    assert got["template_share"]["ratio_to_plain_mean"] == 0.6
    assert got["area_share"]["ratio_to_plain_range"] == [1.0, 1.1]
    assert got["plain"]["ratio_to_plain_sd"] == 0.0
    assert got["plain"]["tps_median"] == 55.0
