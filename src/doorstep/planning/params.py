"""Solver parameters that check their own values."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SolveParams:
    """How hard and how to search.

    The search stops at `time_limit_s` or after `max_iterations`, whichever comes first. A run
    is reproducible for a seed only when it stops on `max_iterations`: a pure time limit
    depends on how fast the machine is at that moment. `clock` says what `time_limit_s`
    counts: "wall" elapsed seconds, or "cpu" seconds of the solving process's CPU time, which
    other load on the machine does not eat into (benchmarks on shared machines).

    `require_all` makes every stop mandatory (benchmarks); otherwise a stop may be left out
    at a cost of `drop_penalty` (None: large enough that serving always wins when feasible).
    `duration_weight` adds that many cost units per second of route time to the distance.
    """

    seed: int = 0
    time_limit_s: float = 1.0
    max_iterations: int | None = None
    require_all: bool = False
    drop_penalty: int | None = None
    duration_weight: int = 0
    clock: Literal["wall", "cpu"] = "wall"

    def __post_init__(self) -> None:
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if not (math.isfinite(self.time_limit_s) and self.time_limit_s > 0):
            raise ValueError(f"time_limit_s must be a positive number, got {self.time_limit_s!r}")
        if self.max_iterations is not None and self.max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, got {self.max_iterations}")
        if self.drop_penalty is not None and self.drop_penalty < 1:
            raise ValueError(f"drop_penalty must be >= 1, got {self.drop_penalty}")
        if self.duration_weight < 0:
            raise ValueError(f"duration_weight must be >= 0, got {self.duration_weight}")
        if self.clock not in ("wall", "cpu"):
            raise ValueError(f"clock must be 'wall' or 'cpu', got {self.clock!r}")
