"""Money is integer fen everywhere; this is the one place it becomes text."""

from __future__ import annotations


def yuan(fen: int) -> str:
    """``12345`` → ``"123.45"``, exactly, without floating point."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"
