"""Merchant webhooks over HTTP (httpx): one signed POST per event, with timeouts.

Retries are not made here: a failed post is stored and tried again by the outbox on its
backoff schedule, so a merchant that is down for an hour costs no thread in the meantime.
"""

from __future__ import annotations

from datetime import datetime

import httpx

from doorstep.domain.signature import signed_headers
from doorstep.services.ports import SendResult

EVENT_ID_HEADER = "X-Doorstep-Event-Id"


class HttpWebhooks:
    """Implements ``services.ports.WebhookSender`` with one pooled httpx client."""

    def __init__(
        self,
        *,
        timeout_s: float = 5.0,
        connect_timeout_s: float = 2.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout_s, connect=connect_timeout_s),
            transport=transport,
            # A redirect would re-post the signed body somewhere the merchant did not name.
            follow_redirects=False,
            headers={"User-Agent": "doorstep-webhooks/1"},
        )

    def post(self, url: str, secret: str, event_id: str, body: bytes, now: datetime) -> SendResult:
        """POST ``body`` to ``url`` signed with ``secret``; any 2xx is a delivery."""
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: event_id,
            # Receivers that key idempotency on a header find the event id there too.
            "Idempotency-Key": event_id,
            **signed_headers(secret, now, body),
        }
        try:
            response = self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return SendResult(False, f"{type(exc).__name__}: {exc}"[:500])
        if 200 <= response.status_code < 300:
            return SendResult(True, f"HTTP {response.status_code}")
        return SendResult(False, f"HTTP {response.status_code}")

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
