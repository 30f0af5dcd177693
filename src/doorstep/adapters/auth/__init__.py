"""Password hashing, access tokens and attempt limits."""

from doorstep.adapters.auth.passwords import Argon2Passwords
from doorstep.adapters.auth.throttle import LimitsThrottle
from doorstep.adapters.auth.tokens import Claims, TokenService

__all__ = ["Argon2Passwords", "Claims", "LimitsThrottle", "TokenService"]
