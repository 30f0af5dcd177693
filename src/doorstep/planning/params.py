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
    `on_duty_until_s` (a second of the day, None: off): a courier who has driven stays on duty
    until then (open for same-day bookings), so route time runs from the first departure to
    the later of the return and that second; with `duration_weight` the plan pays for a
    courier's day as the courier is paid, and an early visit given to an otherwise late or
    idle courier costs the hours it adds.

    The search's own settings (PyVRP's iterated local search; the defaults are PyVRP's):
    `exhaustive_on_best` re-searches every new best solution over all stops, `history_length`
    is how many iterations back its late-acceptance rule compares with, `num_neighbours` the
    size of each stop's granular neighbourhood, `max_perturbations` the most stops moved at
    random per iteration. A short search on a large part (a few seconds for 1,000 stops) gets
    only a few hundred iterations: the exhaustive re-search then takes about half of them, and
    a history of 300 keeps it accepting anything better than the start for most of the run.
    """

    seed: int = 0
    time_limit_s: float = 1.0
    max_iterations: int | None = None
    require_all: bool = False
    drop_penalty: int | None = None
    duration_weight: int = 0
    on_duty_until_s: int | None = None
    clock: Literal["wall", "cpu"] = "wall"
    exhaustive_on_best: bool = True
    history_length: int = 300
    num_neighbours: int = 50
    max_perturbations: int = 25

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
        if self.on_duty_until_s is not None and not 0 <= self.on_duty_until_s <= 2 * 86_400:
            raise ValueError(
                f"on_duty_until_s must be within [0, 172800], got {self.on_duty_until_s}"
            )
        if self.history_length < 1:
            raise ValueError(f"history_length must be >= 1, got {self.history_length}")
        if self.num_neighbours < 1:
            raise ValueError(f"num_neighbours must be >= 1, got {self.num_neighbours}")
        if self.max_perturbations < 1:
            raise ValueError(f"max_perturbations must be >= 1, got {self.max_perturbations}")
        if self.clock not in ("wall", "cpu"):
            raise ValueError(f"clock must be 'wall' or 'cpu', got {self.clock!r}")
