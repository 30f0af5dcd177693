"""Password hashing and access tokens."""

from doorstep.adapters.auth.passwords import hash_password, verify_password
from doorstep.adapters.auth.tokens import Claims, TokenService

__all__ = ["Claims", "TokenService", "hash_password", "verify_password"]
