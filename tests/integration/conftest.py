"""The race suite's figures in the session summary."""

from __future__ import annotations

import pytest
from tests.integration.races import TALLY  # type: ignore[import-not-found]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TALLY.races:
        terminalreporter.write_line(
            f"races: {TALLY.races} races of {TALLY.racers} units of work at once, "
            f"{TALLY.violations} invariant violations"
        )
