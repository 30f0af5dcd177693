"""Loading stock (imports, the demo) is a state change like any other: each row written is a
``stock.loaded`` event in the same transaction, saying what it was before."""

from __future__ import annotations

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]

from doorstep.domain.errors import InvalidInput
from doorstep.domain.exchange import StockLevel
from doorstep.services import exchanges

LIP_2 = "KR-LIPSTICK-V02"  # 3 on hand, 34,000 fen in the demo stock


def test_each_loaded_row_is_an_event_with_its_previous_level(world: World) -> None:
    exchanges.upsert_stock(
        world.svc,
        [
            StockLevel(LIP_2, "lipstick-velvet", 35_000, 7),
            StockLevel("KR-LIPSTICK-V03", "lipstick-velvet", 34_000, 2),
        ],
    )
    loaded = {e.aggregate_id: e for e in world.store.events_named("stock.loaded")}
    assert set(loaded) == {LIP_2, "KR-LIPSTICK-V03"}
    changed = loaded[LIP_2]
    assert changed.aggregate_type == "stock" and changed.occurred_at == world.clock.now()
    assert changed.data["on_hand"] == 7 and changed.data["on_hand_before"] == 3
    assert changed.data["unit_price_fen"] == 35_000
    assert changed.data["unit_price_fen_before"] == 34_000
    assert loaded["KR-LIPSTICK-V03"].data["on_hand_before"] is None


def test_a_refused_load_writes_no_event(world: World) -> None:
    world.store.put("stock", LIP_2, StockLevel(LIP_2, "lipstick-velvet", 34_000, 3, reserved=2))
    with pytest.raises(InvalidInput, match="stock_below_reserved"):
        exchanges.upsert_stock(world.svc, [StockLevel(LIP_2, "lipstick-velvet", 34_000, 1)])
    assert world.store.events_named("stock.loaded") == []
