"""Password hashing and access tokens."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from doorstep.adapters.auth import Claims, TokenService, hash_password, verify_password
from doorstep.domain.errors import ErrorKind, Unauthorized
from doorstep.domain.identity import Actor, Role

SECRET = "test-secret-that-is-long-enough-for-hs256"


@pytest.fixture
def service() -> TokenService:
    return TokenService(SECRET)


def _b64(part: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _code(service: TokenService, token: str) -> str:
    with pytest.raises(Unauthorized) as info:
        service.verify(token)
    assert info.value.kind is ErrorKind.UNAUTHORIZED
    assert info.value.message_zh and info.value.message_en
    return info.value.code


def test_round_trip(service: TokenService) -> None:
    now = datetime.now(UTC)
    claims = service.verify(service.issue("user-1", "courier", actor_id="courier-7", now=now))

    assert claims == Claims(
        subject="user-1",
        role=Role.COURIER,
        actor_id="courier-7",
        expires_at=datetime.fromtimestamp(int(now.timestamp()) + 3600, UTC),
    )
    assert claims.expires_at.tzinfo is not None
    assert claims.actor == Actor(user_id="user-1", role=Role.COURIER, actor_id="courier-7")


@pytest.mark.parametrize("role", list(Role))
def test_every_role_round_trips(service: TokenService, role: Role) -> None:
    assert service.verify(service.issue("u", role, actor_id="a")).role is role


def test_expired_token(service: TokenService) -> None:
    two_hours_ago = datetime.now(UTC) - timedelta(hours=2)
    token = service.issue("user-1", "buyer", actor_id="buyer-1", now=two_hours_ago)
    assert _code(service, token) == "token_expired"


def test_tampered_payload(service: TokenService) -> None:
    header, _, signature = service.issue("user-1", "buyer", actor_id="buyer-1").split(".")
    now = int(datetime.now(UTC).timestamp())
    forged = {
        "iss": "doorstep",
        "sub": "user-1",
        "role": "ops",
        "actor_id": "buyer-1",
        "iat": now,
        "exp": now + 3600,
    }
    assert _code(service, f"{header}.{_b64(forged)}.{signature}") == "token_invalid"


def test_alg_none_is_refused(service: TokenService) -> None:
    now = int(datetime.now(UTC).timestamp())
    payload = {
        "iss": "doorstep",
        "sub": "u",
        "role": "ops",
        "actor_id": "a",
        "iat": now,
        "exp": now + 60,
    }
    for alg in ("none", "None", "NONE"):
        token = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(payload)}."
        assert _code(service, token) == "token_invalid"


def test_other_hmac_algorithm_is_refused(service: TokenService) -> None:
    token = TokenService(SECRET * 2, algorithm="HS512").issue("u", "ops", actor_id="a")
    assert _code(service, token) == "token_invalid"


def test_wrong_secret(service: TokenService) -> None:
    other = TokenService("another-secret-that-is-also-long-enough")
    assert _code(service, other.issue("u", "buyer", actor_id="a")) == "token_invalid"


def test_wrong_issuer(service: TokenService) -> None:
    other = TokenService(SECRET, issuer="someone-else")
    assert _code(service, other.issue("u", "buyer", actor_id="a")) == "token_invalid"


@pytest.mark.parametrize(
    "missing_or_bad",
    [
        {"exp": None},
        {"iat": None},
        {"iss": None},
        {"sub": None},
        {"role": "admin"},
        {"role": ["ops"]},
        {"actor_id": None},
        {"actor_id": 7},
    ],
)
def test_missing_or_malformed_claims(
    service: TokenService, missing_or_bad: dict[str, object]
) -> None:
    now = int(datetime.now(UTC).timestamp())
    payload = {
        "iss": "doorstep",
        "sub": "u",
        "role": "buyer",
        "actor_id": "a",
        "iat": now,
        "exp": now + 60,
    }
    for key, value in missing_or_bad.items():
        if value is None:
            del payload[key]
        else:
            payload[key] = value
    token = jwt.encode(payload, SECRET, algorithm="HS256")
    assert _code(service, token) == "token_invalid"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "eyJ.eyJ.sig"])
def test_garbage_tokens(service: TokenService, garbage: str) -> None:
    assert _code(service, garbage) == "token_invalid"


def test_configuration_mistakes_fail_fast() -> None:
    with pytest.raises(ValueError):
        TokenService("short")
    with pytest.raises(ValueError):
        TokenService(SECRET, algorithm="HS512")  # 41 bytes is too short for SHA-512
    with pytest.raises(ValueError):
        TokenService(SECRET, algorithm="none")
    with pytest.raises(ValueError):
        TokenService(SECRET, algorithm="RS256")
    with pytest.raises(ValueError):
        TokenService(SECRET).issue("u", "admin", actor_id="a")
    with pytest.raises(ValueError):
        TokenService(SECRET).issue("u", "buyer", actor_id="a", now=datetime(2024, 1, 1))  # noqa: DTZ001


def test_password_hash_and_verify() -> None:
    hashed = hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert hashed != hash_password("correct horse battery staple")  # salted
    assert verify_password("correct horse battery staple", hashed)
    assert not verify_password("correct horse battery stapler", hashed)
    assert verify_password("密码也可以是中文", hash_password("密码也可以是中文"))


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not-a-hash",
        "$2b$12$abcdefghijklmnopqrstuu",
        "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA",
        "$argon2id$v=19$m=65536,t=3,p=4$!!!$???",
    ],
)
def test_garbage_hash_never_verifies(garbage: str) -> None:
    assert verify_password("anything", garbage) is False
