"""Sign-in limits, sessions that end, and pickup-code limits, on the fakes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.unit.services.fakes import (  # type: ignore[import-not-found]
    FakeThrottle,
    World,
    make_world,
)
from tests.unit.services.helpers import (  # type: ignore[import-not-found]
    at_the_door,
    booked,
    inspect,
)

from doorstep.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    TooManyAttempts,
    Unauthorized,
)
from doorstep.domain.identity import Role
from doorstep.services import courier, identity

HOME, ELSEWHERE = "10.0.0.1", "203.0.113.9"
YTO2 = "courier-yto-02"


@pytest.fixture
def throttle() -> FakeThrottle:
    return FakeThrottle(
        {
            identity.SIGN_IN_ADDRESS: 20,
            identity.SIGN_IN_ACCOUNT_ADDRESS: 5,
            identity.SIGN_IN_ACCOUNT: 10,
            courier.PICKUP_CODE: 5,
        },
        wait_s=120,
    )


@pytest.fixture
def world(throttle: FakeThrottle) -> World:
    return make_world(throttle=throttle)


def _sign_in(world: World, password: str, address: str = HOME, user: str = "buyer3") -> str:
    return identity.sign_in(world.svc, user, password, address=address).access_token


def _wrong(world: World, times: int, address: str = HOME, user: str = "buyer3") -> None:
    for _ in range(times):
        with pytest.raises(Unauthorized):
            _sign_in(world, "wrong", address, user)


# --- sign-in limits ---------------------------------------------------------------------------


def test_wrong_passwords_from_one_address_are_throttled_before_hashing(world: World) -> None:
    _wrong(world, 5)
    hashed_before = world.svc.passwords.hashed  # type: ignore[attr-defined]
    with pytest.raises(TooManyAttempts) as info:
        _sign_in(world, "demo-buyer3")  # even the right password waits
    assert info.value.code == "sign_in_throttled"
    assert info.value.retry_after_s == 120
    assert "120" in info.value.message_en and "120" in info.value.message_zh
    assert world.svc.passwords.hashed == hashed_before  # type: ignore[attr-defined]


def test_a_success_clears_the_address_count(world: World) -> None:
    _wrong(world, 4)
    _sign_in(world, "demo-buyer3")
    _wrong(world, 4)  # four more are allowed again
    _sign_in(world, "demo-buyer3")


def test_guesses_from_many_addresses_hit_the_account_limit(world: World) -> None:
    for n in range(10):
        _wrong(world, 1, address=f"198.51.100.{n}")
    with pytest.raises(TooManyAttempts):
        _sign_in(world, "demo-buyer3", address="198.51.100.99")


def test_the_owner_at_a_known_address_is_not_locked_out(
    world: World, throttle: FakeThrottle
) -> None:
    _sign_in(world, "demo-buyer3", address=HOME)  # the owner signed in here before
    for n in range(30):  # an attacker far past the account limit
        with pytest.raises((Unauthorized, TooManyAttempts)):
            _sign_in(world, "guess", address=f"198.51.100.{n}")
    assert _sign_in(world, "demo-buyer3", address=HOME)
    # From a new address the owner waits, but only for the window the limit reports.
    with pytest.raises(TooManyAttempts) as info:
        _sign_in(world, "demo-buyer3", address=ELSEWHERE)
    assert info.value.retry_after_s <= 120
    throttle.pass_time()
    assert _sign_in(world, "demo-buyer3", address=ELSEWHERE)


def test_one_address_spraying_many_accounts_is_throttled(world: World) -> None:
    for n in range(20):
        with pytest.raises(Unauthorized):
            _sign_in(world, "guess", user=f"nobody{n}")
    with pytest.raises(TooManyAttempts):
        _sign_in(world, "demo-buyer3")


def test_usernames_are_counted_whatever_their_case(world: World) -> None:
    _wrong(world, 3, user="buyer3")
    _wrong(world, 2, user="BUYER3 ")
    with pytest.raises(TooManyAttempts):
        _sign_in(world, "demo-buyer3")


def test_old_hashes_are_replaced_at_sign_in(world: World) -> None:
    with world.uow() as uow:
        user = uow.users.by_username("buyer3")
        uow.users.add(replace(user, password_hash="legacy$demo-buyer3"))
        uow.commit()
    world.svc.passwords.verify = lambda plain, hashed: hashed.endswith(plain)  # type: ignore[method-assign]
    _sign_in(world, "demo-buyer3")
    assert world.store.item("users", user.user_id).password_hash == "h:demo-buyer3"


# --- sessions ---------------------------------------------------------------------------------


def test_a_token_authenticates_its_user(world: World) -> None:
    actor = identity.authenticate(world.svc, _sign_in(world, "demo-buyer3"))
    assert (actor.role, actor.actor_id) == (Role.BUYER, "buyer-003")


def test_sign_out_ends_only_that_session(world: World) -> None:
    first, second = _sign_in(world, "demo-buyer3"), _sign_in(world, "demo-buyer3")
    identity.sign_out(world.svc, first)
    with pytest.raises(Unauthorized, match="session_ended"):
        identity.authenticate(world.svc, first)
    assert identity.authenticate(world.svc, second).actor_id == "buyer-003"


def test_password_change_ends_every_other_session(world: World) -> None:
    old = _sign_in(world, "demo-buyer3")
    actor = identity.authenticate(world.svc, old)
    fresh = identity.change_password(
        world.svc, actor, "demo-buyer3", "a-new-password", address=HOME
    ).access_token
    with pytest.raises(Unauthorized, match="session_ended"):
        identity.authenticate(world.svc, old)
    assert identity.authenticate(world.svc, fresh).actor_id == "buyer-003"
    assert _sign_in(world, "a-new-password")
    with pytest.raises(Unauthorized, match="bad_credentials"):
        _sign_in(world, "demo-buyer3")


def test_password_change_needs_the_current_password_under_the_same_limits(world: World) -> None:
    actor = identity.authenticate(world.svc, _sign_in(world, "demo-buyer3"))
    for _ in range(5):
        with pytest.raises(Unauthorized, match="bad_credentials"):
            identity.change_password(world.svc, actor, "guess", "a-new-password", address=HOME)
    with pytest.raises(TooManyAttempts):
        identity.change_password(world.svc, actor, "demo-buyer3", "a-new-password", address=HOME)
    with pytest.raises(InvalidInput, match="password_length"):
        identity.change_password(world.svc, actor, "demo-buyer3", "short", address=HOME)


def test_disabled_and_deleted_users_lose_access_at_once(world: World) -> None:
    buyer, ops = _sign_in(world, "demo-buyer3"), _sign_in(world, "demo-ops1", user="ops1")
    identity.set_active(world.svc, "buyer3", False)
    with pytest.raises(Unauthorized, match="session_ended"):
        identity.authenticate(world.svc, buyer)
    identity.set_active(world.svc, "buyer3", True)
    with pytest.raises(Unauthorized, match="session_ended"):  # old sessions stay ended
        identity.authenticate(world.svc, buyer)
    assert identity.authenticate(world.svc, _sign_in(world, "demo-buyer3"))

    identity.delete_user(world.svc, "ops1")
    with pytest.raises(Unauthorized, match="session_ended"):
        identity.authenticate(world.svc, ops)
    with pytest.raises(NotFound):
        identity.delete_user(world.svc, "ops1")


def test_a_token_whose_role_no_longer_matches_is_refused(world: World) -> None:
    token = _sign_in(world, "demo-buyer3")
    with world.uow() as uow:
        user = uow.users.by_username("buyer3")
        uow.users.add(replace(user, role="ops"))
        uow.commit()
    with pytest.raises(Unauthorized, match="session_ended"):
        identity.authenticate(world.svc, token)


# --- pickup codes -----------------------------------------------------------------------------


def test_pickup_code_tries_are_limited_per_appointment(throttle: FakeThrottle) -> None:
    world = make_world(throttle=throttle)
    r, appt = booked(world)
    at_the_door(world, appt)
    inspect(world, appt, r.return_id, YTO2)
    wrong = "000000" if appt.pickup_code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(Conflict, match="pickup_code_mismatch"):
            courier.pick_up(world.svc, YTO2, appt.appointment_id, wrong)
    with pytest.raises(TooManyAttempts) as info:  # even the right code: call the buyer, wait
        courier.pick_up(world.svc, YTO2, appt.appointment_id, appt.pickup_code)
    assert info.value.code == "pickup_code_attempts_exhausted"
    assert info.value.retry_after_s == 120
    assert "buyer" in info.value.message_en and "买家" in info.value.message_zh
    throttle.pass_time()
    done = courier.pick_up(world.svc, YTO2, appt.appointment_id, appt.pickup_code)
    assert done.status.value == "completed"


def test_pickup_before_inspection_does_not_use_a_try(throttle: FakeThrottle) -> None:
    world = make_world(throttle=throttle)
    r, appt = booked(world)
    at_the_door(world, appt)
    for _ in range(8):
        with pytest.raises(Conflict, match="nothing_to_pick_up"):
            courier.pick_up(world.svc, YTO2, appt.appointment_id, appt.pickup_code)
    inspect(world, appt, r.return_id, YTO2)
    assert courier.pick_up(world.svc, YTO2, appt.appointment_id, appt.pickup_code)
