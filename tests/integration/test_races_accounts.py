"""Account administration raced on SQLite and PostgreSQL: ops disabling, enabling and deleting
one account while its owner changes the password, 24 at once. A deleted account stays deleted
(no later write brings it back with its password), a disabled one is not re-enabled by a
password change that read it before, and every change is one event in the same transaction
(the row's session generation counts the changes that end sessions)."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import cycle
from typing import Any

from sqlalchemy import text
from tests.integration.races import RACERS, race  # type: ignore[import-not-found]

from doorstep.bootstrap import App
from doorstep.domain.errors import NotFound, TooManyAttempts, Unauthorized
from doorstep.domain.identity import Actor, Role
from doorstep.services import identity

PASSWORD = "first-password-1"
ADDRESS = "203.0.113.7"


def _quietly(call: Callable[[], Any]) -> Callable[[], Any]:
    """Losing to a delete (gone), a disable or a password change (the old password no longer
    works, and its tries are counted) is an answer, not a bug."""

    def run() -> Any:
        try:
            return call()
        except (NotFound, TooManyAttempts, Unauthorized) as exc:
            return exc.code

    return run


def _row(app: App, user_id: str) -> tuple[bool, int] | None:
    with app.engine.connect() as conn:
        row = conn.execute(
            text("SELECT active, session_generation FROM users WHERE user_id = :u"),
            {"u": user_id},
        ).first()
    return None if row is None else (bool(row.active), int(row.session_generation))


def _events(app: App, user_id: str) -> list[str]:
    with app.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT name, data FROM events WHERE aggregate_id = :u ORDER BY seq"),
            {"u": user_id},
        ).all()
    for _, data in rows:
        body = data if isinstance(data, dict) else json.loads(data)
        assert "password" not in json.dumps(body)  # never a hash or a password in an event
    return [name for name, _ in rows]


def test_disable_enable_delete_and_password_changes_at_once(wired: App) -> None:
    svc = wired.services
    for round_ in range(3):
        user_id, username = f"U-race-{round_}", f"racer{round_}"
        identity.add_user(svc, user_id, username, PASSWORD, Role.BUYER.value, "buyer-004")
        actor = Actor(user_id, Role.BUYER, "buyer-004")
        mix: list[Callable[[], Any]] = [
            lambda u=username: identity.set_active(svc, u, False),
            lambda u=username: identity.set_active(svc, u, True),
            lambda a=actor: identity.change_password(
                svc, a, PASSWORD, "second-password-2", address=ADDRESS
            ),
        ]
        if round_ != 1:  # one round without deletes: the generation is checked to the unit
            mix.append(lambda u=username: identity.delete_user(svc, u))
        calls = cycle(mix)
        out = race([_quietly(next(calls)) for _ in range(RACERS)])
        names = _events(wired, user_id)
        row = _row(wired, user_id)
        if "user.deleted" in names:
            assert row is None, f"{username} deleted, then written back: {row}"
            assert names[-1] == "user.deleted" and names.count("user.deleted") == 1
            continue
        assert row is not None
        active, generation = row
        switches = [n for n in names if n in ("user.disabled", "user.enabled")]
        assert active is (not switches or switches[-1] == "user.enabled"), names
        ended = names.count("user.disabled") + names.count("user.password_changed")
        assert generation == ended, (generation, names)
        assert len(out.won) == RACERS
