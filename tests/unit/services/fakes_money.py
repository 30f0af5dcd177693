"""Fakes of the money ports (transfers of every purpose, disputes, claims, the carriers' ledger,
buyer history), with the SQL adapters' semantics: unique keys, versions, one entry per claim."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from tests.unit.services.fakes import (  # type: ignore[import-not-found]
    _ABSENT,
    _ANY,
    DuplicateKey,
    FakeUnitOfWork,
    FakeVersionedRepository,
    Tracker,
    _copy,
    _TxTable,
)

from doorstep.adapters.db.money import history_from_counts
from doorstep.domain.claim import Claim, ClaimStatus, LedgerEntry
from doorstep.domain.dispute import Dispute
from doorstep.domain.transfer import Transfer, TransferPurpose, TransferStatus
from doorstep.domain.trust import BuyerHistory


class FakeTransferRepository:
    def __init__(self, table: _TxTable, tracker: Tracker) -> None:
        self.table, self.tracker = table, tracker

    def _all(self) -> list[Transfer]:
        return [self.tracker.track(_copy(r.item)) for _, r in self.table.rows()]

    def get(self, transfer_id: str) -> Transfer | None:
        row = self.table.row(transfer_id)
        return None if row is None else self.tracker.track(_copy(row.item))

    def get_for_update(self, transfer_id: str) -> Transfer | None:
        return self.get(transfer_id)

    def by_key(self, idempotency_key: str) -> Transfer | None:
        found = [x for x in self._all() if x.idempotency_key == idempotency_key]
        return found[0] if found else None

    def add(self, transfer: Transfer) -> None:
        if self.table.row(transfer.transfer_id) is not None or any(
            r.item.idempotency_key == transfer.idempotency_key for _, r in self.table.rows()
        ):
            raise DuplicateKey(transfer.idempotency_key)
        self.table.write(transfer.transfer_id, 1, transfer, _ABSENT)
        self.tracker.track(transfer)

    def save(self, transfer: Transfer) -> None:
        if self.table.row(transfer.transfer_id) is not None:
            self.table.write(transfer.transfer_id, 1, transfer, _ANY)
        self.tracker.track(transfer)

    def pending(self, limit: int = 200) -> list[Transfer]:
        found = [x for x in self._all() if x.status is TransferStatus.PENDING]
        return sorted(found, key=lambda x: x.created_at)[:limit]

    def for_subjects(self, subject_ids: Sequence[str]) -> list[Transfer]:
        return [x for x in self._all() if x.subject_id in set(subject_ids)]

    def unsettled_payouts(self, buyer_id: str, limit: int) -> list[Transfer]:
        found = [
            x
            for x in self._all()
            if x.buyer_id == buyer_id
            and not x.purpose.from_buyer
            and x.status is not TransferStatus.SUCCEEDED
        ]
        return sorted(found, key=lambda x: (x.created_at, x.transfer_id))[:limit]

    def in_status(self, status: TransferStatus, limit: int, offset: int = 0) -> list[Transfer]:
        found = [x for x in self._all() if x.status is status]
        return sorted(found, key=lambda x: (x.created_at, x.transfer_id))[offset : offset + limit]

    def counts(self) -> dict[str, int]:
        return dict(Counter(x.status.value for x in self._all()))


class FakeDisputeRepository(FakeVersionedRepository[Dispute]):
    key_name = "dispute_id"

    def queue(self, limit: int = 100, offset: int = 0) -> list[Dispute]:
        found = [d for d in self._all() if d.status.open]
        return sorted(found, key=lambda d: (d.respond_by, d.dispute_id))[offset : offset + limit]

    def open_count(self) -> int:
        return sum(1 for d in self._all() if d.status.open)


class FakeClaimRepository(FakeVersionedRepository[Claim]):
    key_name = "claim_id"

    def add(self, item: Claim) -> None:
        if any(r.item.dedupe_key == item.dedupe_key for _, r in self.table.rows()):
            raise DuplicateKey(item.dedupe_key)
        super().add(item)

    def by_dedupe(self, dedupe_key: str) -> Claim | None:
        found = [c for c in self._all() if c.dedupe_key == dedupe_key]
        return found[0] if found else None

    def queue(self, statuses: Sequence[str], limit: int = 100, offset: int = 0) -> list[Claim]:
        found = [c for c in self._all() if c.status.value in statuses]
        return sorted(found, key=lambda c: (c.filed_at, c.claim_id))[offset : offset + limit]

    def count_in(self, statuses: Sequence[str]) -> int:
        return sum(1 for c in self._all() if c.status.value in statuses)

    def lapsing(self, now: datetime, limit: int = 200) -> list[str]:
        found = [
            c
            for c in self._all()
            if c.status is ClaimStatus.AWAITING_MERCHANT and c.answer_by is not None
            and c.answer_by < now
        ]  # fmt: skip
        return [c.claim_id for c in sorted(found, key=lambda c: c.filed_at)][:limit]

    def approved(self, limit: int = 200) -> list[str]:
        found = [c for c in self._all() if c.status is ClaimStatus.APPROVED]
        return [c.claim_id for c in sorted(found, key=lambda c: c.filed_at)][:limit]

    def for_buyer(self, buyer_id: str, limit: int = 100) -> list[Claim]:
        found = [c for c in self._all() if c.buyer_id == buyer_id]
        return sorted(found, key=lambda c: c.filed_at)[:limit]

    def for_order(self, order_id: str) -> list[Claim]:
        return sorted((c for c in self._all() if c.order_id == order_id), key=lambda c: c.filed_at)


class FakeLedgerRepository:
    def __init__(self, table: _TxTable) -> None:
        self.table = table

    def charge(self, entry: LedgerEntry) -> bool:
        if self.table.row(entry.claim_id) is not None:
            return False
        self.table.write(entry.claim_id, 1, entry, _ABSENT)
        return True

    def _all(self) -> list[LedgerEntry]:
        return [r.item for _, r in self.table.rows()]

    def for_carrier(self, carrier_id: str, limit: int = 200) -> list[LedgerEntry]:
        found = [e for e in self._all() if e.carrier_id == carrier_id]
        return sorted(found, key=lambda e: e.created_at, reverse=True)[:limit]

    def totals(self) -> dict[str, tuple[int, int]]:
        charged: Counter[str] = Counter()
        uninsured: Counter[str] = Counter()
        for entry in self._all():
            charged[entry.carrier_id] += entry.amount_fen
            uninsured[entry.carrier_id] += entry.uninsured_fen
        return {c: (charged[c], uninsured[c]) for c in charged}


class FakeHistoryRepository:
    """Counts the same sources as the SQL union, from what this unit of work sees."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    def of_buyer(self, buyer_id: str) -> BuyerHistory:
        uow = self.uow
        counts: Counter[tuple[str, str]] = Counter()
        counts[("order", "")] = len(uow.orders.for_buyer(buyer_id))
        for r in uow.returns._all():
            if r.buyer_id == buyer_id:
                counts[("return", r.status.value)] += 1
        for d in uow.disputes._all():
            if d.buyer_id == buyer_id:
                counts[("dispute", d.status.value)] += 1
        for x in uow.transfers._all():
            if x.buyer_id == buyer_id and x.purpose is TransferPurpose.CLAWBACK:
                counts[("clawback", x.status.value)] += 1
        for c in uow.claims._all():
            if c.buyer_id == buyer_id:
                counts[("claim", c.status.value)] += 1
        return history_from_counts(dict(counts))
