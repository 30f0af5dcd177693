"""Accounts and sessions: signing in under attempt limits, checking and ending sessions.

Attempt limits (rules of the ``Throttle`` port, limits set in config):

- ``sign_in.address``: failed sign-ins from one client address, whatever the account, so one
  address cannot spray passwords over many accounts.
- ``sign_in.account_address``: attempts on one account from one address; a success clears it.
- ``sign_in.account``: attempts on one account from addresses that have not signed in to it
  recently (``sign_in.known_address``). Guessing from many addresses is bounded by it, and
  the owner, signing in from an address they used before, is not locked out by it.

The account rules count an attempt before the password is checked, so a burst of parallel
guesses cannot slip past them; the address rule counts failures only, so one office behind
one address can sign in all its people.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NoReturn

from doorstep.domain.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    StaleWrite,
    TooManyAttempts,
    Unauthorized,
)
from doorstep.domain.events import Event
from doorstep.domain.identity import Actor, Role
from doorstep.services import erasure
from doorstep.services.context import Services
from doorstep.services.ports import Passwords, StoredUser, UnitOfWork
from doorstep.services.route import Contention

SIGN_IN_ADDRESS = "sign_in.address"
SIGN_IN_ACCOUNT_ADDRESS = "sign_in.account_address"
SIGN_IN_ACCOUNT = "sign_in.account"
KNOWN_ADDRESS = "sign_in.known_address"

MIN_PASSWORD_LENGTH = 8
# A deletion that lost its visits to a change made meanwhile starts over this often.
DELETE_ATTEMPTS = 3

# Verifying against a real hash when the user is unknown keeps sign-in time the same, so the
# timing does not reveal which usernames exist.
_DUMMY_PLAIN = "doorstep-timing-equaliser"
# One dummy hash per hasher, made on first use: hashing it on every unknown-user attempt would
# make those attempts cost twice a real sign-in, and so leak the timing it is meant to hide.
_dummy_hashes: dict[int, str] = {}


def _dummy_hash(passwords: Passwords) -> str:
    key = id(passwords)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = passwords.hash(_DUMMY_PLAIN)
    return _dummy_hashes[key]


@dataclass(frozen=True)
class Session:
    access_token: str
    role: str
    actor_id: str


def sign_in(svc: Services, username: str, password: str, *, address: str) -> Session:
    """A token for ``username`` if the password matches and no attempt limit is spent.

    ``address`` is the client's network address. Raises ``TooManyAttempts`` (with the wait)
    before any hashing when a limit is spent, ``Unauthorized`` for wrong credentials.
    """
    account = username.strip().casefold()
    pair = f"{account}|{address}"
    known = svc.throttle.remembers(KNOWN_ADDRESS, pair)
    _admit(svc, address, pair, account, known)
    with svc.uow() as uow:
        # No username holds control characters (and PostgreSQL cannot compare a NUL): such a
        # name is unknown, answered like any other unknown name, at the same cost.
        user = uow.users.by_username(username) if username.isprintable() else None
    if user is None or not user.active:
        svc.passwords.verify(password, _dummy_hash(svc.passwords))
        _failed(svc, address)
    if not svc.passwords.verify(password, user.password_hash):
        _failed(svc, address)
    svc.throttle.clear(SIGN_IN_ACCOUNT_ADDRESS, pair)
    svc.throttle.remember(KNOWN_ADDRESS, pair)
    if svc.passwords.needs_rehash(user.password_hash):
        # Hashes made with older parameters (64 MiB before) are replaced at the next sign-in.
        user = _rehash(svc, user, svc.passwords.hash(password))
    return _session(svc, user)


def _rehash(svc: Services, user: StoredUser, new_hash: str) -> StoredUser:
    """Store the stronger hash unless the account changed since it was read (then that
    change stands: the row is never written back over a delete, disable or new password)."""
    with svc.uow() as uow:
        locked = uow.users.get_for_update(user.user_id)
        if locked != user:  # as if signing in a moment later: refused like any stale password
            raise _bad_credentials()
        changed = replace(locked, password_hash=new_hash)
        uow.users.add(changed)
        _record(uow, svc, "user.password_rehashed", changed)
        uow.commit()
    return changed


def _admit(svc: Services, address: str, pair: str, account: str, known: bool) -> None:
    # All checks before any count, so an attempt refused by one rule does not use up another.
    waits = [
        svc.throttle.check(SIGN_IN_ADDRESS, address),
        svc.throttle.check(SIGN_IN_ACCOUNT_ADDRESS, pair),
        None if known else svc.throttle.check(SIGN_IN_ACCOUNT, account),
    ]
    _raise_if_waiting(waits)
    waits = [svc.throttle.hit(SIGN_IN_ACCOUNT_ADDRESS, pair)]
    if not known:
        waits.append(svc.throttle.hit(SIGN_IN_ACCOUNT, account))
    _raise_if_waiting(waits)


def _raise_if_waiting(waits: list[int | None]) -> None:
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise TooManyAttempts(
            "sign_in_throttled",
            f"Too many sign-in attempts. Please try again in {wait} seconds.",
            f"登录尝试次数过多，请在 {wait} 秒后重试。",
            retry_after_s=wait,
        )


def _failed(svc: Services, address: str) -> NoReturn:
    svc.throttle.hit(SIGN_IN_ADDRESS, address)
    raise _bad_credentials()


def authenticate(svc: Services, token: str) -> Actor:
    """The actor a token stands for, if its session is still open.

    One read of the user row (with the token's revocation): signed out, password changed,
    disabled or deleted users are refused at once, not when the token expires.
    """
    claims = svc.tokens.verify(token)
    with svc.uow() as uow:
        found = uow.users.session(claims.subject, claims.token_id)
    if found is None:
        raise _session_ended()
    user, revoked = found
    if (
        revoked
        or not user.active
        or user.session_generation != claims.generation
        or user.role != claims.role
        or user.actor_id != claims.actor_id
    ):
        raise _session_ended()
    return Actor(user_id=user.user_id, role=Role(user.role), actor_id=user.actor_id)


def sign_out(svc: Services, token: str) -> None:
    """End the session of ``token``; an already invalid or expired token has none to end."""
    claims = svc.tokens.verify(token)
    with svc.uow() as uow:
        uow.users.revoke(claims.token_id, claims.subject, claims.expires_at, svc.clock.now())
        uow.commit()


def change_password(
    svc: Services, actor: Actor, current: str, new: str, *, address: str
) -> Session:
    """Replace the password and end every session of the user; returns a fresh session."""
    if not MIN_PASSWORD_LENGTH <= len(new) <= 256:
        raise InvalidInput(
            "password_length",
            f"The new password needs {MIN_PASSWORD_LENGTH} to 256 characters.",
            f"新密码长度需为 {MIN_PASSWORD_LENGTH} 到 256 个字符。",
        )
    with svc.uow() as uow:
        user = uow.users.get(actor.user_id)
    if user is None:
        raise _session_ended()
    # The current password is a guess like any sign-in: same limits, so a stolen session
    # cannot be used to try passwords without bound.
    pair = f"{user.username.casefold()}|{address}"
    _admit(svc, address, pair, user.username.casefold(), known=False)
    if not svc.passwords.verify(current, user.password_hash):
        _failed(svc, address)
    svc.throttle.clear(SIGN_IN_ACCOUNT_ADDRESS, pair)
    new_hash = svc.passwords.hash(new)  # slow on purpose: outside the transaction
    with svc.uow() as uow:
        locked = uow.users.get_for_update(user.user_id)
        # Disabled, deleted or its sessions ended (another change) since it was read: this
        # session is over, and writing the read row back would undo that change.
        if (
            locked is None
            or not locked.active
            or locked.session_generation != user.session_generation
        ):
            raise _session_ended()
        changed = replace(
            locked, password_hash=new_hash, session_generation=locked.session_generation + 1
        )
        uow.users.add(changed)
        _record(uow, svc, "user.password_changed", changed)
        uow.commit()
    return _session(svc, changed)


def set_active(svc: Services, username: str, active: bool) -> StoredUser:
    """Disable (ending every session at once) or re-enable an account."""
    with svc.uow() as uow:
        user = _locked(uow, username)
        if active and user.active:
            return user  # nothing changes, nothing to record
        generation = user.session_generation + (0 if active else 1)
        changed = replace(user, active=active, session_generation=generation)
        uow.users.add(changed)
        _record(uow, svc, "user.enabled" if active else "user.disabled", changed)
        uow.commit()
    return changed


def delete_user(svc: Services, username: str) -> None:
    """Remove an account; its tokens stop working with it. The last account of a courier
    or buyer takes that party's open visits with it, or is refused while they cannot go
    yet (``erasure.party_leaves``). A visit changed under it (a booking, plan or cancel
    committed first) makes it start over, a few times, before it answers ``stale_write``."""
    for _ in range(DELETE_ATTEMPTS - 1):
        try:
            return _delete_user(svc, username)
        except (StaleWrite, Contention):
            continue
    return _delete_user(svc, username)


def _delete_user(svc: Services, username: str) -> None:
    with svc.uow() as uow:
        # Every account of the party locked at once, in one order: two deletions of its
        # accounts go one after the other, so the second sees that it deletes the last.
        found = uow.users.by_username(username)
        party = uow.users.acting_as_for_update(found.role, found.actor_id) if found else []
        user = next((u for u in party if found and u.user_id == found.user_id), None)
        if user is None:
            raise NotFound("user", username)
        last = len(party) == 1
        after = erasure.party_leaves(svc, uow, user, svc.clock.now()) if last else _nothing
        uow.users.remove(user.user_id)
        _record(uow, svc, "user.deleted", user)
        uow.commit()
    after()


def _nothing() -> None:
    return None


def _locked(uow: UnitOfWork, username: str) -> StoredUser:
    """The account, its row locked until commit: ops and the owner change it one at a time,
    and a change never writes back a row another one deleted or disabled meanwhile."""
    found = uow.users.by_username(username)
    user = uow.users.get_for_update(found.user_id) if found is not None else None
    if user is None:
        raise NotFound("user", username)
    return user


def _record(uow: UnitOfWork, svc: Services, name: str, user: StoredUser) -> None:
    # Who and what, never the hash: the event log feeds the outbox and the audit trail.
    data = {
        "username": user.username,
        "role": user.role,
        "actor_id": user.actor_id,
        "active": user.active,
    }
    uow.events.append([Event(name, "user", user.user_id, svc.clock.now(), data)])


def add_user(
    svc: Services, user_id: str, username: str, password: str, role: str, actor_id: str
) -> StoredUser:
    if role == Role.STATION.value:
        # Station staff work for an operator of at least one station (a station run on its
        # own is its own operator): the account cannot name one that runs none.
        with svc.uow() as uow:
            if not uow.places.stations_run_by(actor_id, 1):
                raise NotFound("station", actor_id)
    user = StoredUser(user_id, username, svc.passwords.hash(password), role, actor_id)
    return _store(svc, user)


def _store(svc: Services, user: StoredUser) -> StoredUser:
    with svc.uow() as uow:
        if user.role == Role.BUYER.value:
            _buyer_returns(uow, user.actor_id)
        uow.users.add(user)
        uow.commit()
    return user


def _buyer_returns(uow: UnitOfWork, buyer_id: str) -> None:
    # The buyer's row locked as the retention sweep locks it: the sweep either sees this
    # account (and erases nothing) or has erased the buyer, whose id is then retired.
    buyer = uow.buyers.get_for_update(buyer_id)
    if buyer is None:
        return  # an account made before the shop sent the buyer's record
    if buyer.erased_at is not None:
        raise Conflict(
            "buyer_erased",
            "This buyer's personal information was erased after the retention period; an "
            "account cannot act as that buyer again.",
            "该买家的个人信息已在保存期满后删除，不能再为此买家开设账号。",
            buyer_id=buyer_id,
        )
    if buyer.departed_at is not None:
        buyer.came_back()
        uow.buyers.put(buyer)


def _session(svc: Services, user: StoredUser) -> Session:
    token = svc.tokens.issue(
        user.user_id, user.role, actor_id=user.actor_id, generation=user.session_generation
    )
    return Session(token, user.role, user.actor_id)


def _bad_credentials() -> Unauthorized:
    return Unauthorized("bad_credentials", "Wrong username or password.", "用户名或密码错误。")


def _session_ended() -> Unauthorized:
    return Unauthorized(
        "session_ended",
        "This session has ended. Please sign in again.",
        "登录已失效，请重新登录。",
    )


def forget_expired_attempts(svc: Services) -> int:
    """The worker's sweep: attempt counts kept in the database that no longer count anything
    are deleted (expired ones already read as none; this keeps the table small)."""
    return svc.throttle.forget_expired()
