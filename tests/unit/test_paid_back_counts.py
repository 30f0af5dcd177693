"""The SQL invariant "paid back more than paid" (tests/integration/races.py) sums every
transfer to and from the buyer: a purpose added without being placed there would leave its
money out of the sum, as exchange differences and customs tax once were."""

from __future__ import annotations

from tests.integration.races import (  # type: ignore[import-not-found]
    COUNTED_APART,
    FROM_BUYER,
    TO_BUYER,
)

from doorstep.domain.transfer import TransferPurpose


def test_every_transfer_purpose_is_counted_once_in_its_direction() -> None:
    placed = [*TO_BUYER, *FROM_BUYER, *COUNTED_APART]
    assert sorted(placed) == sorted(p.value for p in TransferPurpose)
    assert all(not TransferPurpose(p).from_buyer for p in TO_BUYER)
    assert all(TransferPurpose(p).from_buyer for p in FROM_BUYER)
