"""Precheck before filing, policy versions, sign-in and photo upload."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from tests.unit.services.fakes import World  # type: ignore[import-not-found]
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    B3,
    MINHANG,
    PILLOW,
    TOMORROW,
    approved,
)

from doorstep.domain.clock import SHANGHAI
from doorstep.domain.decision import Verdict
from doorstep.domain.errors import InvalidInput, NotFound, Unauthorized
from doorstep.domain.policy import RuleConfig
from doorstep.services import identity, photos, policies, precheck
from doorstep.services.ports import StoredUser


def _verdicts(result: precheck.Precheck) -> dict[str, Verdict]:
    return {f.reason: f.verdict for f in result.findings}


# --- precheck ---------------------------------------------------------------------------------


def test_precheck_available(world: World) -> None:
    result = precheck.precheck(world.svc, PILLOW, MINHANG)
    assert result.pickup and result.until is None and result.policy_version == 1
    assert _verdicts(result) == {"pickup_available": Verdict.PASS}


@pytest.mark.parametrize(
    ("sku", "adcode", "reason"),
    [
        ("CN-TRUNK-36IN", MINHANG, "oversize_for_pickup"),
        ("CN-DUMBBELLS-2X16KG", MINHANG, "overweight_for_pickup"),
        (PILLOW, "542523", "area_not_covered"),
        (PILLOW, "310151", "area_remote"),
        (PILLOW, "110101", "area_not_covered"),  # no such area stored
    ],
)
def test_precheck_withdraws_pickup(world: World, sku: str, adcode: str, reason: str) -> None:
    result = precheck.precheck(world.svc, sku, adcode)
    assert not result.pickup and result.until is None
    assert _verdicts(result)[reason] is Verdict.RESTRICT


def test_precheck_informs_of_a_legal_exclusion_but_keeps_pickup(world: World) -> None:
    result = precheck.precheck(world.svc, "CN-CHILLED-BRIE-200G", MINHANG)
    assert result.pickup and _verdicts(result) == {"excluded_perishable": Verdict.INFO}


def test_precheck_with_an_order_counts_the_return_window(world: World) -> None:
    inside = precheck.precheck(
        world.svc, "AU-FORMULA-S1-900G", "310106", buyer_id="buyer-002", order_id="TM2026000103"
    )
    assert inside.pickup
    assert inside.until == datetime.combine(TOMORROW, time.max, tzinfo=SHANGHAI)
    assert _verdicts(inside)["within_window"] is Verdict.INFO
    assert _verdicts(inside)["pickup_customs_cutoff"] is Verdict.INFO
    expired = precheck.precheck(
        world.svc, "JP-SONIC-TOOTHBRUSH", "310106", buyer_id="buyer-002", order_id="TM2026000104"
    )
    assert not expired.pickup and expired.until is None
    assert _verdicts(expired)["window_expired"] is Verdict.REJECT


def test_precheck_customs_pickup_cut_off(world: World) -> None:
    result = precheck.precheck(
        world.svc, "KR-SERUM-50ML", "310110", buyer_id="buyer-004", order_id="TM2026000116"
    )
    assert not result.pickup
    cutoff = next(f for f in result.findings if f.reason == "pickup_customs_cutoff")
    assert cutoff.verdict is Verdict.RESTRICT and cutoff.until is not None
    assert cutoff.until < world.clock.now()


def test_precheck_foreign_order_or_unknown_product(world: World) -> None:
    with pytest.raises(NotFound, match="order_not_found"):
        precheck.precheck(world.svc, PILLOW, MINHANG, buyer_id="buyer-001", order_id="TM2026000105")
    with pytest.raises(NotFound, match="order_not_found"):
        precheck.precheck(world.svc, PILLOW, MINHANG, order_id="TM2026000105")
    with pytest.raises(NotFound, match="product_not_found"):
        precheck.precheck(world.svc, "NOPE", MINHANG)


def test_precheck_follows_the_current_policy(world: World) -> None:
    policies.revise_policy(
        world.svc, (RuleConfig("pickup_size_weight", True, {"max_weight_g": 1_000}),), "ops", ""
    )
    result = precheck.precheck(world.svc, PILLOW, MINHANG)  # 1.5 kg
    assert not result.pickup and result.policy_version == 2


# --- policies ---------------------------------------------------------------------------------


def test_revise_merges_rules_and_bumps_the_version(world: World) -> None:
    v2 = policies.revise_policy(
        world.svc, (RuleConfig("ship_within", True, {"days": 3}),), "ops-001", "faster"
    )
    assert (v2.version, v2.created_by, v2.note) == (2, "ops-001", "faster")
    assert v2.rule("ship_within").param("days") == 3
    assert v2.rule("return_window").param("no_reason_days") == 7
    v3 = policies.revise_policy(
        world.svc, (RuleConfig("high_value_review", False),), "ops-002", "no value review"
    )
    assert v3.version == 3 and v3.rule("high_value_review") is None
    assert v3.rule("ship_within").param("days") == 3  # kept from v2
    assert [p.version for p in world.store.items("policies")] == [1, 2, 3]
    assert policies.current_policy(world.svc) == v3
    assert policies.policy_version(world.svc, 2) == v2
    assert len({r.code for r in v3.rules}) == len(v3.rules)


def test_revise_refuses_unknown_rules_and_stores_nothing(world: World) -> None:
    with pytest.raises(InvalidInput, match="policy_unknown_rule"):
        policies.revise_policy(world.svc, (RuleConfig("free_money"),), "ops", "")
    with pytest.raises(InvalidInput, match="policy_param_out_of_range"):
        policies.revise_policy(world.svc, (RuleConfig("ship_within", True, {"days": 0}),), "x", "")
    assert world.store.items("policies") == []


def test_decisions_keep_the_version_they_were_made_under(world: World) -> None:
    before = approved(world)
    policies.revise_policy(world.svc, (RuleConfig("ship_within", True, {"days": 3}),), "ops", "")
    after = approved(world)
    assert (before.decision.policy_version, after.decision.policy_version) == (1, 2)
    stored = world.store.item("returns", before.return_id)
    assert stored.decision.policy_version == 1


def test_default_policy_until_one_is_stored(world: World) -> None:
    assert policies.current_policy(world.svc).version == 1
    assert world.store.items("policies") == []
    with pytest.raises(NotFound):
        policies.policy_version(world.svc, 1)
    policies.ensure_policy(world.svc)
    policies.ensure_policy(world.svc)
    assert [p.version for p in world.store.items("policies")] == [1]


# --- identity ---------------------------------------------------------------------------------


def test_sign_in_issues_a_token_for_the_role(world: World) -> None:
    session = identity.sign_in(world.svc, "buyer3", "demo-buyer3", address="10.0.0.1")
    assert (session.role, session.actor_id) == ("buyer", B3)
    assert world.tokens.verify(session.access_token).subject == "u-buyer3"
    assert world.tokens.issued == [("u-buyer3", "buyer", B3)]


@pytest.mark.parametrize(
    ("username", "password"),
    [("buyer3", "demo-buyer4"), ("nobody", "demo-buyer3"), ("buyer3", "")],
)
def test_sign_in_refuses_bad_credentials(world: World, username: str, password: str) -> None:
    with pytest.raises(Unauthorized) as err:
        identity.sign_in(world.svc, username, password, address="10.0.0.1")
    assert err.value.code == "bad_credentials"
    assert world.tokens.issued == []


def test_unknown_user_costs_a_password_check_too(world: World) -> None:
    checked: list[str] = []
    verify = world.svc.passwords.verify

    def spy(plain: str, hashed: str) -> bool:
        checked.append(hashed)
        return verify(plain, hashed)

    world.svc.passwords.verify = spy  # type: ignore[method-assign]
    with pytest.raises(Unauthorized):
        identity.sign_in(world.svc, "nobody", "guess", address="10.0.0.1")
    assert len(checked) == 1  # against a dummy hash, so timing does not reveal usernames


def test_sign_in_refuses_an_inactive_user(world: World) -> None:
    world.store.put("users", "u-gone", StoredUser("u-gone", "gone", "h:pw", "ops", "ops-9", False))
    with pytest.raises(Unauthorized, match="bad_credentials"):
        identity.sign_in(world.svc, "gone", "pw", address="10.0.0.1")


def test_add_user_stores_only_the_hash(world: World) -> None:
    user = identity.add_user(world.svc, "u-new", "newbie", "s3cret", "courier", "courier-x")
    assert user.password_hash == "h:s3cret"
    assert world.store.item("users", "u-new") == user
    assert (
        identity.sign_in(world.svc, "newbie", "s3cret", address="10.0.0.1").actor_id == "courier-x"
    )


# --- photos -----------------------------------------------------------------------------------


def test_upload_stores_the_cleaned_image_for_its_owner(world: World) -> None:
    stored = photos.upload_photo(world.svc, B3, b"raw jpeg with exif")
    assert stored.owner == B3 and stored.media_type == "image/jpeg"
    assert stored.content.startswith(b"clean:") and stored.created_at == world.clock.now()
    assert photos.get_photo(world.svc, stored.photo_id) == stored


def test_upload_refused_stores_nothing(world: World) -> None:
    with pytest.raises(InvalidInput, match="image_empty"):
        photos.upload_photo(world.svc, B3, b"")
    assert world.store.items("photos") == []
    with pytest.raises(NotFound, match="photo_not_found"):
        photos.get_photo(world.svc, "P-nope")
