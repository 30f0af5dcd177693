"""Password hashing and access tokens."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from doorstep.adapters.auth import Argon2Passwords, Claims, TokenService
from doorstep.adapters.auth.tokens import MAX_TOKEN_CHARS
from doorstep.domain.errors import ErrorKind, Unauthorized, Unavailable
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
    # Our own words only: no library exception class names reach the client.
    assert "Error" not in str(info.value.as_dict())
    return info.value.code


def test_round_trip(service: TokenService) -> None:
    now = datetime.now(UTC)
    token = service.issue("user-1", "courier", actor_id="courier-7", generation=3, now=now)
    claims = service.verify(token)

    assert claims == Claims(
        subject="user-1",
        role=Role.COURIER,
        actor_id="courier-7",
        expires_at=datetime.fromtimestamp(int(now.timestamp()) + 3600, UTC),
        token_id=claims.token_id,
        generation=3,
    )
    assert len(claims.token_id) >= 16
    assert service.verify(service.issue("user-1", "courier", actor_id="c")).token_id != (
        claims.token_id
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
        "jti": "forged-token-id",
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
        {"jti": None},
        {"jti": "short"},
        {"gen": -1},
        {"gen": "1"},
        {"gen": True},
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
        "jti": "a-token-id",
        "gen": 0,
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


def test_an_overlong_token_is_refused_before_decoding(
    service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = service.issue("u", "buyer", actor_id="a")
    decoded: list[str] = []
    monkeypatch.setattr(jwt, "decode", lambda token, *a, **k: decoded.append(token))
    padded = real + "A" * (MAX_TOKEN_CHARS + 1 - len(real))
    assert _code(service, padded) == "token_invalid"
    assert decoded == []


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


@pytest.fixture(scope="module")
def passwords() -> Argon2Passwords:
    return Argon2Passwords()


def test_password_hash_and_verify(passwords: Argon2Passwords) -> None:
    hashed = passwords.hash("correct horse battery staple")
    # OWASP's Argon2id parameters: 19 MiB, 2 passes, 1 lane (was 64 MiB, 3 passes, 4 lanes).
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hashed != passwords.hash("correct horse battery staple")  # salted
    assert passwords.verify("correct horse battery staple", hashed)
    assert not passwords.verify("correct horse battery stapler", hashed)
    assert passwords.verify("密码也可以是中文", passwords.hash("密码也可以是中文"))
    assert not passwords.needs_rehash(hashed)


def test_hashes_with_old_parameters_are_verified_and_flagged(passwords: Argon2Passwords) -> None:
    old = Argon2Passwords(memory_kib=65_536, time_cost=3).hash("pw-from-before")
    assert passwords.verify("pw-from-before", old)
    assert passwords.needs_rehash(old)
    assert passwords.needs_rehash("not-a-hash")


def test_a_full_hashing_queue_asks_to_retry() -> None:
    import threading

    passwords = Argon2Passwords(concurrency=1, queue=0)
    hashed = passwords.hash("pw")
    started, release = threading.Event(), threading.Event()
    original = passwords._hasher.verify

    def slow(plain: str, stored: str) -> bool:
        started.set()
        release.wait(10)
        return original(plain, stored)

    passwords._hasher.verify = slow  # type: ignore[method-assign]
    worker = threading.Thread(target=passwords.verify, args=("pw", hashed))
    worker.start()
    try:
        assert started.wait(10)
        with pytest.raises(Unavailable) as info:
            passwords.verify("pw", hashed)
        assert info.value.code == "sign_in_busy" and info.value.details["retry_after_s"] >= 1
    finally:
        release.set()
        worker.join()
    passwords._hasher.verify = original  # type: ignore[method-assign]
    assert passwords.verify("pw", hashed)  # the turn was given back


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
def test_garbage_hash_never_verifies(passwords: Argon2Passwords, garbage: str) -> None:
    assert passwords.verify("anything", garbage) is False
