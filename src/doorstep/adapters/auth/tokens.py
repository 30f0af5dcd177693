"""Signed access tokens (JWT, HMAC) carrying who the caller is and which role they act in."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from doorstep.domain.errors import Unauthorized
from doorstep.domain.identity import Actor, Role

# Tolerates small clock drift between the API nodes that issue and verify tokens.
_LEEWAY = timedelta(seconds=10)
# The tokens issued here are a few hundred characters (ids are bounded); anything far longer
# is refused before it is decoded, so a header of megabytes costs no parsing.
MAX_TOKEN_CHARS = 2048
# Only symmetric algorithms: the service holds one shared secret, and a fixed allow-list
# rules out "none" and RS/HS key-confusion tricks. Values are the minimum secret sizes
# (RFC 7518 section 3.2: at least the hash size); PyJWT warns below them, and a warning is
# an error under pytest.
_HMAC_MIN_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "sub", "jti"]
# Our own words for what was wrong: the library's exception class names are no business of
# the client's, and change between versions.
_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.InvalidAlgorithmError, "bad_algorithm"),
    (jwt.InvalidIssuerError, "bad_issuer"),
    (jwt.MissingRequiredClaimError, "missing_claim"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
)
_ROLE_VALUES = frozenset(role.value for role in Role)


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says about its bearer."""

    subject: str
    """The user id of the login account."""
    role: Role
    actor_id: str
    """The buyer id, courier id, ... the user acts as."""
    expires_at: datetime
    """When the token stops being accepted (timezone-aware, UTC)."""
    token_id: str = ""
    """Unique per token, so that one session can be revoked (sign-out)."""
    generation: int = 0
    """The user's session generation when issued; raising it ends every older session."""

    @property
    def actor(self) -> Actor:
        """The domain actor these claims stand for."""
        return Actor(user_id=self.subject, role=self.role, actor_id=self.actor_id)


def _invalid(reason: str) -> Unauthorized:
    return Unauthorized(
        "token_invalid",
        "The access token is invalid. Please sign in again.",
        "访问令牌无效，请重新登录。",
        reason=reason,
    )


class TokenService:
    """Issues and verifies access tokens signed with one shared secret."""

    def __init__(
        self,
        secret: str,
        *,
        issuer: str = "doorstep",
        ttl_seconds: int = 3600,
        algorithm: str = "HS256",
    ) -> None:
        if algorithm not in _HMAC_MIN_SECRET_BYTES:
            raise ValueError(f"algorithm must be one of {sorted(_HMAC_MIN_SECRET_BYTES)}")
        min_bytes = _HMAC_MIN_SECRET_BYTES[algorithm]
        if len(secret.encode()) < min_bytes:
            raise ValueError(f"secret for {algorithm} must be at least {min_bytes} bytes")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._secret = secret
        self._issuer = issuer
        self._ttl = timedelta(seconds=ttl_seconds)
        self._algorithm = algorithm

    def issue(
        self,
        subject: str,
        role: str,
        *,
        actor_id: str,
        generation: int = 0,
        now: datetime | None = None,
    ) -> str:
        """A signed token for user ``subject`` acting as ``actor_id`` in ``role``.

        ``now`` (timezone-aware) defaults to the current time; tests pass a past instant
        to mint expired tokens.
        """
        if now is None:
            now = datetime.now(UTC)
        elif now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if not subject or not actor_id:
            raise ValueError("subject and actor_id must be non-empty")
        payload: dict[str, Any] = {
            "iss": self._issuer,
            "sub": subject,
            "role": Role(role).value,
            "actor_id": actor_id,
            "iat": int(now.timestamp()),
            "exp": int((now + self._ttl).timestamp()),
            "jti": secrets.token_urlsafe(16),
            "gen": generation,
        }
        return jwt.encode(payload, self._secret, algorithm=self._algorithm)

    def verify(self, token: str) -> Claims:
        """The claims of a valid token.

        Raises ``Unauthorized`` with code ``token_expired`` for an expired token and
        ``token_invalid`` for anything else wrong (signature, algorithm, issuer, missing
        or malformed claims, garbage).
        """
        if len(token) > MAX_TOKEN_CHARS:
            raise _invalid("too_long")
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                leeway=_LEEWAY,
                options={"require": _REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized(
                "token_expired",
                "Your session has expired. Please sign in again.",
                "登录已过期，请重新登录。",
            ) from exc
        except jwt.PyJWTError as exc:
            reason = next((r for kind, r in _REASONS if isinstance(exc, kind)), "malformed")
            raise _invalid(reason) from exc

        subject, role, actor_id, exp = (
            payload.get("sub"),
            payload.get("role"),
            payload.get("actor_id"),
            payload.get("exp"),
        )
        token_id, generation = payload.get("jti"), payload.get("gen", 0)
        if not isinstance(subject, str) or not subject:
            raise _invalid("bad_subject")
        if not isinstance(role, str) or role not in _ROLE_VALUES:
            raise _invalid("bad_role")
        if not isinstance(actor_id, str) or not actor_id:
            raise _invalid("bad_actor_id")
        if not isinstance(exp, int):
            raise _invalid("bad_exp")
        if not isinstance(token_id, str) or not 8 <= len(token_id) <= 64:
            raise _invalid("bad_token_id")
        if not isinstance(generation, int) or isinstance(generation, bool) or generation < 0:
            raise _invalid("bad_generation")
        return Claims(
            subject=subject,
            role=Role(role),
            actor_id=actor_id,
            expires_at=datetime.fromtimestamp(exp, UTC),
            token_id=token_id,
            generation=generation,
        )
