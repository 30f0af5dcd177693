"""The development sink for texts and e-mails: stored in the database, shown on the console.

No SMS or e-mail provider is contracted yet; the sink keeps every message where ops (and a
newcomer running ``make run``) can read it. A message id seen before is acknowledged without
a second row, as a provider would drop a repeated send.
"""

from __future__ import annotations

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from doorstep.adapters.db import tables as t
from doorstep.services.ports import Clock, SendResult


class DatabaseSink:
    """Implements ``services.ports.Messenger`` by writing to ``sent_messages``."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine, self.clock = engine, clock

    def send_sms(self, message_id: str, phone: str, text: str) -> SendResult:
        """Keep a text message."""
        return self._keep(message_id, "sms", phone, "", text)

    def send_email(self, message_id: str, address: str, subject: str, text: str) -> SendResult:
        """Keep an e-mail."""
        return self._keep(message_id, "email", address, subject, text)

    def _keep(
        self, message_id: str, channel: str, recipient: str, subject: str, body: str
    ) -> SendResult:
        row = {
            "message_id": message_id[:100],
            "channel": channel,
            "recipient": recipient[:200],
            "subject": subject[:200],
            "body": body,
            "sent_at": self.clock.now(),
        }
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(t.sent_messages), row)
        except IntegrityError:
            with self.engine.connect() as conn:
                seen = conn.execute(
                    select(t.sent_messages.c.message_id).where(
                        t.sent_messages.c.message_id == row["message_id"]
                    )
                ).first()
            if seen is None:
                raise
        return SendResult(True)
