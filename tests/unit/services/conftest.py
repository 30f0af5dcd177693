"""Service unit tests run on in-memory fakes of the ports: no database, no network."""

from __future__ import annotations

import pytest
from tests.unit.services.fakes import World, make_world  # type: ignore[import-not-found]


@pytest.fixture
def world() -> World:
    """Services over a fresh fake store seeded with the demo dataset, at 09:00 on 25 Nov 2026."""
    return make_world()
