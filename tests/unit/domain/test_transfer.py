"""The one transfer aggregate: each purpose's key, provider call, events and what it waits for."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from doorstep.domain.errors import IllegalTransition
from doorstep.domain.transfer import (
    ProviderCall,
    Transfer,
    TransferPurpose,
    TransferStatus,
    transfer_key,
)

T = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("purpose", "key", "call", "prefix"),
    [
        (TransferPurpose.EXCHANGE_COLLECTION, "exchange-diff:R1", ProviderCall.COLLECT, "money"),
        (
            TransferPurpose.EXCHANGE_REFUND,
            "exchange-diff-refund:R1",
            ProviderCall.PAY_OUT,
            "money",
        ),
        (TransferPurpose.EXCHANGE_PAYBACK, "exchange-diff-back:R1", ProviderCall.PAY_OUT, "money"),
        (
            TransferPurpose.EXCHANGE_PART_BACK,
            "exchange-diff-part:R1",
            ProviderCall.PAY_OUT,
            "money",
        ),
        (TransferPurpose.EXCHANGE_TOP_UP, "exchange-diff-more:R1", ProviderCall.COLLECT, "money"),
        (
            TransferPurpose.EXCHANGE_TOP_UP_BACK,
            "exchange-diff-more-back:R1",
            ProviderCall.PAY_OUT,
            "money",
        ),
        (TransferPurpose.CUSTOMS_TAX, "customs-tax:R1", ProviderCall.PAY_OUT, "money"),
        (
            TransferPurpose.CUSTOMS_TAX_RETURN,
            "customs-tax-return:R1",
            ProviderCall.PAY_OUT,
            "money",
        ),
        (TransferPurpose.CLAWBACK, "clawback:R1", ProviderCall.CLAWBACK, "clawback"),
        (
            TransferPurpose.EXCHANGE_RECOVERY,
            "exchange-recover:R1",
            ProviderCall.COLLECT,
            "recovery",
        ),
        (TransferPurpose.CLAIM_PAYOUT, "claim:R1", ProviderCall.PAY_OUT, "compensation"),
        (TransferPurpose.TAX_CLAWBACK, "tax-clawback:R1", ProviderCall.CLAWBACK, "tax_clawback"),
    ],
)
def test_each_purpose_keeps_the_key_and_event_names_from_before_the_merge(
    purpose: TransferPurpose, key: str, call: ProviderCall, prefix: str
) -> None:
    x = Transfer.request("T1", purpose, "R1", "b1", 700, T)
    assert x.idempotency_key == transfer_key(purpose, "R1") == key
    assert purpose.call is call and purpose.from_buyer == (call is not ProviderCall.PAY_OUT)
    assert len(purpose.value) <= 16  # the column's width
    (event,) = x.take_events()
    assert event.name == f"{prefix}.requested"
    assert (event.aggregate_type, event.aggregate_id) == ("transfer", "T1")
    assert event.data["purpose"] == purpose.value and event.data["subject_id"] == "R1"
    assert event.data["direction"] == call.value and event.data["amount_fen"] == 700


def test_no_two_purposes_share_a_key_for_one_subject() -> None:
    # A shared key makes the second purpose's transfer the first's repeat: never paid (a
    # mixed exchange's refund once shared the collection's "exchange-diff").
    keys = [transfer_key(p, "R1") for p in TransferPurpose]
    assert len(set(keys)) == len(keys)


def test_only_paybacks_wait_and_they_wait_for_the_collection_of_their_return() -> None:
    waiting = (TransferPurpose.EXCHANGE_PAYBACK, TransferPurpose.EXCHANGE_PART_BACK)
    for purpose in waiting:
        payback = Transfer.request("T2", purpose, "R9", "b1", 100, T)
        assert payback.awaited_key == "exchange-diff:R9"
    rest = Transfer.request("T3", TransferPurpose.EXCHANGE_TOP_UP_BACK, "R9", "b1", 100, T)
    assert rest.awaited_key == "exchange-diff-more:R9"  # the rest's payback, for the rest
    waiting = (*waiting, TransferPurpose.EXCHANGE_TOP_UP_BACK)
    others = [p for p in TransferPurpose if p not in waiting]
    assert all(Transfer.request("T", p, "R9", "b1", 1, T).awaited_key is None for p in others)


def test_a_retryable_failure_then_success_settles_once() -> None:
    x = Transfer.request("T1", TransferPurpose.CUSTOMS_TAX, "CR1", "b1", 500, T)
    x.attempt_failed("provider_timeout", T, final=False)
    x.succeed("PAY1", T)
    x.succeed("PAY1", T)  # the same answer seen twice
    x.attempt_failed("late", T, final=True)  # a late failure changes nothing settled
    assert x.status is TransferStatus.SUCCEEDED and x.attempts == 1 and x.settled_at == T
    assert [e.name for e in x.take_events()] == [
        "money.requested",
        "money.attempt_failed",
        "money.succeeded",
    ]


def test_a_final_failure_is_settled_and_refuses_a_later_success() -> None:
    x = Transfer.request("T1", TransferPurpose.CLAWBACK, "R1", "b1", 500, T)
    x.attempt_failed("account_closed", T, final=True)
    assert x.status is TransferStatus.FAILED and x.settled_at == T
    assert [e.name for e in x.take_events()][-1] == "clawback.failed"
    with pytest.raises(IllegalTransition):
        x.succeed("CLW1", T)


def test_amounts_are_positive() -> None:
    with pytest.raises(ValueError):
        Transfer.request("T1", TransferPurpose.EXCHANGE_REFUND, "R1", "b1", 0, T)
