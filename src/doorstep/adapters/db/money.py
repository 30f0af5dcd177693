"""Repositories of the money after a refund: disputes, claims, the carriers' settlement
ledger and the buyers' outcome history (transfers: adapters/db/transfers.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, literal, select, union_all
from sqlalchemy.exc import IntegrityError

from doorstep.adapters.db import tables as t
from doorstep.adapters.db.repositories import VersionedRepository
from doorstep.domain.claim import Claim, ClaimStatus, LedgerEntry
from doorstep.domain.dispute import Dispute, DisputeStatus
from doorstep.domain.transfer import TransferPurpose, TransferStatus
from doorstep.domain.trust import BuyerHistory

_OPEN_DISPUTE = t.disputes.c.status.in_(
    [DisputeStatus.AWAITING_BUYER.value, DisputeStatus.ANSWERED.value]
)


class DisputeRepo(VersionedRepository[Dispute]):
    table, cls, key_name = t.disputes, Dispute, "dispute_id"

    def _columns(self, item: Dispute) -> dict[str, Any]:
        return {
            "return_id": item.return_id,
            "buyer_id": item.buyer_id,
            "status": item.status.value,
            "respond_by": item.respond_by,
        }

    def queue(self, limit: int = 100, offset: int = 0) -> list[Dispute]:
        # The id breaks ties: a page boundary between equal answer times must not repeat or
        # skip a dispute.
        return self._query(
            _OPEN_DISPUTE,
            order=(t.disputes.c.respond_by, t.disputes.c.dispute_id),
            limit=limit,
            offset=offset,
        )

    def open_count(self) -> int:
        return int(
            self.conn.execute(
                select(func.count()).select_from(t.disputes).where(_OPEN_DISPUTE)
            ).scalar_one()
        )


class ClaimRepo(VersionedRepository[Claim]):
    table, cls, key_name = t.claims, Claim, "claim_id"

    def _columns(self, item: Claim) -> dict[str, Any]:
        return {
            "kind": item.kind.value,
            "order_id": item.order_id,
            "buyer_id": item.buyer_id,
            "status": item.status.value,
            "dedupe_key": item.dedupe_key,
            "answer_by": item.answer_by,
            "filed_at": item.filed_at,
        }

    def by_dedupe(self, dedupe_key: str) -> Claim | None:
        found = self._query(t.claims.c.dedupe_key == dedupe_key)
        return found[0] if found else None

    def queue(self, statuses: Sequence[str], limit: int = 100, offset: int = 0) -> list[Claim]:
        return self._query(
            t.claims.c.status.in_(list(statuses)),
            order=(
                t.claims.c.filed_at,
                t.claims.c.claim_id,
            ),  # the id: pages neither repeat nor skip
            limit=limit,
            offset=offset,
        )

    def count_in(self, statuses: Sequence[str]) -> int:
        where = t.claims.c.status.in_(list(statuses))
        return int(
            self.conn.execute(select(func.count()).select_from(t.claims).where(where)).scalar_one()
        )

    def _ids(self, *where: Any, limit: int) -> list[str]:
        stmt = select(t.claims.c.claim_id).where(*where).order_by(t.claims.c.filed_at)
        return [row.claim_id for row in self.conn.execute(stmt.limit(limit))]

    def lapsing(self, now: datetime, limit: int = 200) -> list[str]:
        return self._ids(
            t.claims.c.status == ClaimStatus.AWAITING_MERCHANT.value,
            t.claims.c.answer_by < now,
            limit=limit,
        )

    def approved(self, limit: int = 200) -> list[str]:
        return self._ids(t.claims.c.status == ClaimStatus.APPROVED.value, limit=limit)

    def for_buyer(self, buyer_id: str, limit: int = 100) -> list[Claim]:
        return self._query(t.claims.c.buyer_id == buyer_id, order=t.claims.c.filed_at, limit=limit)

    def for_order(self, order_id: str) -> list[Claim]:
        return self._query(t.claims.c.order_id == order_id, order=t.claims.c.filed_at)


class LedgerRepo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def charge(self, entry: LedgerEntry) -> bool:
        # A savepoint: a second charge for one claim must not abort the caller's transaction.
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(t.carrier_ledger).values(
                        entry_id=entry.entry_id,
                        carrier_id=entry.carrier_id,
                        claim_id=entry.claim_id,
                        amount_fen=entry.amount_fen,
                        created_at=entry.created_at,
                        note=entry.note[:200],
                        uninsured_fen=entry.uninsured_fen,
                    )
                )
        except IntegrityError:
            return False
        return True

    def for_carrier(self, carrier_id: str, limit: int = 200) -> list[LedgerEntry]:
        c = t.carrier_ledger.c
        rows = self.conn.execute(
            select(
                c.entry_id,
                c.carrier_id,
                c.claim_id,
                c.amount_fen,
                c.created_at,
                c.note,
                c.uninsured_fen,
            )
            .where(c.carrier_id == carrier_id)
            .order_by(c.created_at.desc())
            .limit(limit)
        )
        return [LedgerEntry(*row) for row in rows]

    def totals(self) -> dict[str, tuple[int, int]]:
        c = t.carrier_ledger.c
        rows = self.conn.execute(
            select(c.carrier_id, func.sum(c.amount_fen), func.sum(c.uninsured_fen)).group_by(
                c.carrier_id
            )
        )
        return {row[0]: (int(row[1]), int(row[2])) for row in rows}


class HistoryRepo:
    """A buyer's outcomes in one statement (a UNION of counts per source)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def of_buyer(self, buyer_id: str) -> BuyerHistory:
        o, r, d, f, c = t.orders.c, t.returns.c, t.disputes.c, t.transfers.c, t.claims.c
        parts = [
            select(literal("order").label("what"), literal("").label("status"), func.count()).where(
                o.buyer_id == buyer_id
            ),
            select(literal("return"), r.status, func.count())
            .where(r.buyer_id == buyer_id)
            .group_by(r.status),
            select(literal("dispute"), d.status, func.count())
            .where(d.buyer_id == buyer_id)
            .group_by(d.status),
            select(literal("clawback"), f.status, func.count())
            .where(f.buyer_id == buyer_id, f.purpose == TransferPurpose.CLAWBACK.value)
            .group_by(f.status),
            select(literal("claim"), c.status, func.count())
            .where(c.buyer_id == buyer_id)
            .group_by(c.status),
        ]
        counts: dict[tuple[str, str], int] = {}
        for what, status, n in self.conn.execute(union_all(*parts)):
            counts[(what, status or "")] = int(n)
        return history_from_counts(counts)


COMPLETED = ("refunded", "exchanged", "closed")


def history_from_counts(counts: dict[tuple[str, str], int]) -> BuyerHistory:
    """(source, status) → count, as ``HistoryRepo`` reads them, to the domain's history."""

    def total(what: str, *statuses: str) -> int:
        return sum(
            n for (w, s), n in counts.items() if w == what and (not statuses or s in statuses)
        )

    disputes_lost = total("dispute", DisputeStatus.QC_UPHELD.value)
    return BuyerHistory(
        orders=total("order"),
        returns=total("return") - total("return", "cancelled", "rejected"),
        # A closed return that lost its dispute did not pass QC.
        returns_completed=max(0, total("return", *COMPLETED) - disputes_lost),
        disputes_lost=disputes_lost,
        disputes_won=total("dispute", DisputeStatus.BUYER_UPHELD.value),
        disputes_open=total(
            "dispute", DisputeStatus.AWAITING_BUYER.value, DisputeStatus.ANSWERED.value
        ),
        clawbacks=total("clawback", TransferStatus.SUCCEEDED.value),
        claims_rejected=total("claim", ClaimStatus.REJECTED.value),
        claims_paid=total("claim", ClaimStatus.COMPENSATED.value),
    )
