"""The repository of transfers (domain/transfer.py): one table, one row per idempotency key
(a unique index), the document beside the columns the sweep and the history read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from doorstep.adapters.db import tables as t
from doorstep.adapters.db.codec import from_doc, to_doc
from doorstep.adapters.db.repositories import Tracker
from doorstep.domain.transfer import Transfer, TransferPurpose, TransferStatus


class TransferRepo:
    def __init__(self, conn: Connection, tracker: Tracker) -> None:
        self.conn, self.tracker = conn, tracker

    def _many(
        self, *where: Any, lock: bool = False, limit: int | None = None, offset: int = 0
    ) -> list[Transfer]:
        # The id breaks ties so that pages of one status neither repeat nor skip a row.
        stmt = (
            select(t.transfers.c.doc)
            .where(*where)
            .order_by(t.transfers.c.created_at, t.transfers.c.transfer_id)
        )
        if limit:
            stmt = stmt.limit(limit).offset(offset)
        rows = self.conn.execute(stmt.with_for_update() if lock else stmt)
        found = [from_doc(Transfer, row.doc) for row in rows]
        for item in found:
            self.tracker.track(item)
        return found

    def get(self, transfer_id: str) -> Transfer | None:
        found = self._many(t.transfers.c.transfer_id == transfer_id)
        return found[0] if found else None

    def get_for_update(self, transfer_id: str) -> Transfer | None:
        found = self._many(t.transfers.c.transfer_id == transfer_id, lock=True)
        return found[0] if found else None

    def by_key(self, idempotency_key: str) -> Transfer | None:
        found = self._many(t.transfers.c.idempotency_key == idempotency_key)
        return found[0] if found else None

    def add(self, transfer: Transfer) -> None:
        self.conn.execute(
            insert(t.transfers).values(
                transfer_id=transfer.transfer_id,
                purpose=transfer.purpose.value,
                subject_id=transfer.subject_id,
                buyer_id=transfer.buyer_id,
                idempotency_key=transfer.idempotency_key,
                amount_fen=transfer.amount_fen,
                status=transfer.status.value,
                created_at=transfer.created_at,
                doc=to_doc(transfer),
            )
        )
        self.tracker.track(transfer)

    def save(self, transfer: Transfer) -> None:
        self.conn.execute(
            update(t.transfers)
            .where(t.transfers.c.transfer_id == transfer.transfer_id)
            .values(status=transfer.status.value, doc=to_doc(transfer))
        )
        self.tracker.track(transfer)

    def pending(self, limit: int = 200) -> list[Transfer]:
        return self._many(t.transfers.c.status == TransferStatus.PENDING.value, limit=limit)

    def unsettled_payouts(self, buyer_id: str, limit: int) -> list[Transfer]:
        c = t.transfers.c
        payouts = [p.value for p in TransferPurpose if not p.from_buyer]
        return self._many(
            c.buyer_id == buyer_id,
            c.purpose.in_(payouts),
            c.status != TransferStatus.SUCCEEDED.value,
            limit=limit,
        )

    def for_subjects(self, subject_ids: Sequence[str]) -> list[Transfer]:
        ids = list(subject_ids)
        return self._many(t.transfers.c.subject_id.in_(ids)) if ids else []

    def in_status(self, status: TransferStatus, limit: int, offset: int = 0) -> list[Transfer]:
        return self._many(t.transfers.c.status == status.value, limit=limit, offset=offset)

    def counts(self) -> dict[str, int]:
        rows = self.conn.execute(
            select(t.transfers.c.status, func.count()).group_by(t.transfers.c.status)
        )
        return {status: count for status, count in rows}
