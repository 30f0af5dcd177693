"""Cross-border returns (RULES.md §2): 30 days to declare, 45 to arrive, per-method cut-offs."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from doorstep.domain.audit import audit, customs_deadline
from doorstep.domain.clock import SHANGHAI
from doorstep.domain.decision import Outcome, ReturnMethod, Verdict
from doorstep.domain.order import Channel

RELEASED = datetime(2025, 2, 1, 15, 0, tzinfo=SHANGHAI)
M = ReturnMethod


def day(n: int, hour: int = 12) -> datetime:
    """Noon (or ``hour``) of the n-th Shanghai day after release."""
    return datetime(2025, 2, 1, hour, tzinfo=SHANGHAI) + timedelta(days=n)


def end_of(n: int) -> datetime:
    return customs_deadline(RELEASED, n)


def reasons(findings) -> set[str]:  # type: ignore[no-untyped-def]
    return {f.reason for f in findings}


@pytest.mark.parametrize("channel", [Channel.BONDED, Channel.DIRECT_MAIL])
def test_day_30_open_day_31_rejected(world, channel: Channel) -> None:  # type: ignore[no-untyped-def]
    at_30 = world.input(channel=channel, released_at=RELEASED, signed_at=day(25), now=end_of(30))
    found = world.rule("cross_border_deadline", at_30)
    assert "customs_application_open" in reasons(found)
    assert audit(world.policy(), at_30).outcome is Outcome.APPROVE
    later = end_of(30) + timedelta(microseconds=1)
    at_31 = world.input(channel=channel, released_at=RELEASED, signed_at=day(25), now=later)
    (only,) = world.rule("cross_border_deadline", at_31)
    assert (only.verdict, only.reason, only.until) == (
        Verdict.REJECT,
        "customs_application_expired",
        end_of(30),
    )
    decision = audit(world.policy(), at_31)
    assert decision.outcome is Outcome.REJECT
    assert decision.methods == ()


def test_domestic_orders_ignore_customs(world) -> None:  # type: ignore[no-untyped-def]
    assert world.rule("cross_border_deadline", world.input(channel=Channel.DOMESTIC)) == []


def test_release_unknown_needs_review(world) -> None:  # type: ignore[no-untyped-def]
    ctx = world.input(channel=Channel.BONDED, released_at=None)
    (only,) = world.rule("cross_border_deadline", ctx)
    assert (only.verdict, only.reason) == (Verdict.REVIEW, "customs_release_unknown")
    assert audit(world.policy(), ctx).outcome is Outcome.REVIEW


def test_early_return_offers_each_method_until_its_own_cutoff(world) -> None:  # type: ignore[no-untyped-def]
    ctx = world.input(channel=Channel.BONDED, released_at=RELEASED, signed_at=day(3), now=day(5))
    found = world.rule("cross_border_deadline", ctx)
    caps = {f.caps: f.until for f in found if f.caps}
    assert caps == {(M.PICKUP,): end_of(38), (M.DROPOFF,): end_of(40), (M.SELF_SHIP,): end_of(36)}
    assert all(f.verdict in (Verdict.PASS, Verdict.INFO) for f in found)
    # ship_within (day 5 + 7 = day 12) is the tighter cap for every method
    decision = audit(world.policy(), ctx)
    assert {m.method: m.until for m in decision.methods} == {
        M.PICKUP: end_of(12),
        M.DROPOFF: end_of(12),
        M.SELF_SHIP: end_of(12),
    }


def test_customs_cutoffs_bound_methods_when_tighter_than_ship_within(world) -> None:  # type: ignore[no-untyped-def]
    ctx = world.input(channel=Channel.BONDED, released_at=RELEASED, signed_at=day(25), now=day(30))
    decision = audit(world.policy(), ctx)
    assert decision.outcome is Outcome.APPROVE
    assert {m.method: m.until for m in decision.methods} == {
        M.PICKUP: end_of(37),  # ship_within: day 30 + 7
        M.DROPOFF: end_of(37),
        M.SELF_SHIP: end_of(36),  # its customs cut-off is earlier
    }


# The audit may run after day 30 (e.g. re-run at review time, or with a longer application
# period): the per-method cut-offs must then still hold. application_days=40 isolates them.
LATE = {"cross_border_deadline": {"application_days": 40}}


def test_day_37_pickup_offered_until_end_of_day_38(world) -> None:  # type: ignore[no-untyped-def]
    ctx = world.input(channel=Channel.BONDED, released_at=RELEASED, signed_at=day(33), now=day(37))
    decision = audit(world.policy(**LATE), ctx)
    assert decision.outcome is Outcome.APPROVE
    assert decision.offers(M.PICKUP).until == end_of(38)
    assert decision.offers(M.DROPOFF).until == end_of(40)
    assert decision.offers(M.SELF_SHIP) is None
    assert decision.unavailable == {"self_ship": "self_ship_too_late_for_customs"}


def test_day_39_pickup_withdrawn_but_dropoff_offered(world) -> None:  # type: ignore[no-untyped-def]
    ctx = world.input(channel=Channel.BONDED, released_at=RELEASED, signed_at=day(33), now=day(39))
    found = world.rule("cross_border_deadline", ctx, application_days=40)
    pickup = next(f for f in found if f.reason == "pickup_too_late_for_customs")
    assert (pickup.verdict, pickup.withdraws) == (Verdict.RESTRICT, (M.PICKUP,))
    decision = audit(world.policy(**LATE), ctx)
    assert decision.outcome is Outcome.APPROVE  # restrict only withdraws methods
    assert [m.method for m in decision.methods] == [M.DROPOFF]
    assert decision.offers(M.DROPOFF).until == end_of(40)
    assert decision.unavailable["pickup"] == "pickup_too_late_for_customs"


def test_day_38_last_moment_still_offers_pickup(world) -> None:  # type: ignore[no-untyped-def]
    ctx = world.input(
        channel=Channel.BONDED, released_at=RELEASED, signed_at=day(33), now=end_of(38)
    )
    assert audit(world.policy(**LATE), ctx).offers(M.PICKUP) is not None
    ctx = world.input(
        channel=Channel.BONDED,
        released_at=RELEASED,
        signed_at=day(33),
        now=end_of(38) + timedelta(microseconds=1),
    )
    assert audit(world.policy(**LATE), ctx).offers(M.PICKUP) is None


def test_default_policy_rejects_on_day_37(world) -> None:  # type: ignore[no-untyped-def]
    ctx = world.input(channel=Channel.BONDED, released_at=RELEASED, signed_at=day(33), now=day(37))
    assert audit(world.policy(), ctx).outcome is Outcome.REJECT


def test_cutoff_parameters(world) -> None:  # type: ignore[no-untyped-def]
    ctx = world.input(channel=Channel.BONDED, released_at=RELEASED, signed_at=day(20), now=day(25))
    found = world.rule("cross_border_deadline", ctx, pickup_cutoff_day=24)
    assert "pickup_too_late_for_customs" in reasons(found)
    assert (
        audit(world.policy(cross_border_deadline={"pickup_cutoff_day": 24}), ctx).offers(M.PICKUP)
        is None
    )
