"""When the search stops: on elapsed time, on the solving process's CPU time, or on iterations.

A wall-clock limit buys less search when other processes share the cores, so a figure measured
with it depends on the machine's load; a CPU-time limit gives the search the same work however
busy the machine is (it only takes longer to arrive).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, StoppingCriterion

from doorstep.planning.params import SolveParams


class MaxCpuTime:
    """Stop once the process has used `max_seconds` of CPU time since the first call.

    Counted from the first call, as PyVRP's own `MaxRuntime` is, so building the model is not
    charged to the search. `clock` is injectable so tests need not burn CPU.
    """

    def __init__(self, max_seconds: float, clock: Callable[[], float] = time.process_time):
        if max_seconds < 0:
            raise ValueError(f"max_seconds must be >= 0, got {max_seconds}")
        self._max_seconds = max_seconds
        self._clock = clock
        self._start: float | None = None

    def __call__(self, best_cost: float) -> bool:
        """True when the search should stop (`best_cost` is part of PyVRP's protocol)."""
        now = self._clock()
        if self._start is None:
            self._start = now
        return now - self._start > self._max_seconds


def stopping(params: SolveParams) -> StoppingCriterion:
    """The criterion `params` asks for: its time limit on its clock, and its iteration cap."""
    runtime: StoppingCriterion = (
        MaxCpuTime(params.time_limit_s)
        if params.clock == "cpu"
        else MaxRuntime(params.time_limit_s)
    )
    if params.max_iterations is None:
        return runtime
    return MultipleCriteria([runtime, MaxIterations(params.max_iterations)])
