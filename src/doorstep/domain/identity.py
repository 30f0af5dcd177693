"""Who is acting: the roles a signed-in user can hold and the actor a request runs as."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """The kind of party a user signs in as; each role sees and may do different things."""

    BUYER = "buyer"
    COURIER = "courier"
    WAREHOUSE = "warehouse"
    OPS = "ops"
    PARTNER = "partner"
    # Staff of one drop-off station or locker; the account's actor_id is that station's id.
    STATION = "station"


@dataclass(frozen=True, slots=True)
class Actor:
    """A signed-in user acting in one role.

    ``user_id`` is the login account; ``actor_id`` is the party the account acts as
    (the buyer id, courier id, warehouse id, ...), so one person with two roles has
    two distinct actors.
    """

    user_id: str
    role: Role
    actor_id: str
