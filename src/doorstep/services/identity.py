"""Signing in: a username and password become a short-lived token for one role."""

from __future__ import annotations

from dataclasses import dataclass

from doorstep.domain.errors import Unauthorized
from doorstep.services.context import Services
from doorstep.services.ports import StoredUser

# Verifying against a real hash when the user is unknown keeps sign-in time the same, so the
# timing does not reveal which usernames exist.
_DUMMY_PLAIN = "doorstep-timing-equaliser"


@dataclass(frozen=True)
class Session:
    access_token: str
    role: str
    actor_id: str


def sign_in(svc: Services, username: str, password: str) -> Session:
    with svc.uow() as uow:
        user = uow.users.by_username(username)
    if user is None or not user.active:
        svc.passwords.verify(password, svc.passwords.hash(_DUMMY_PLAIN))
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
