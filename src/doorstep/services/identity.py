"""Signing in: a username and password become a short-lived token for one role."""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.domain.errors import Unauthorized
from doorstep.services.context import Services
from doorstep.services.ports import Passwords, StoredUser

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


def sign_in(svc: Services, username: str, password: str) -> Session:
    with svc.uow() as uow:
        user = uow.users.by_username(username)
    if user is None or not user.active:
        svc.passwords.verify(password, _dummy_hash(svc.passwords))
        raise _bad_credentials()
    if not svc.passwords.verify(password, user.password_hash):
        raise _bad_credentials()
    token = svc.tokens.issue(user.user_id, user.role, actor_id=user.actor_id)
    return Session(token, user.role, user.actor_id)


def add_user(
    svc: Services, user_id: str, username: str, password: str, role: str, actor_id: str
) -> StoredUser:
    user = StoredUser(user_id, username, svc.passwords.hash(password), role, actor_id)
    with svc.uow() as uow:
        uow.users.add(user)
        uow.commit()
    return user


def _bad_credentials() -> Unauthorized:
    return Unauthorized("bad_credentials", "Wrong username or password.", "用户名或密码错误。")
