"""Lists that grow with data, cut to one screen: a page of items and the links around it.

Every page that lists something without bound (a buyer's returns and orders, claims, the
outbox) pages it here, 8 to a screen, so no page grows past its HTML budget."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Generic, TypeVar
from urllib.parse import urlencode

from fastapi import Query

PER_PAGE = 8
PageNo = Annotated[int, Query(ge=1, le=10_000)]
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One screen of a list: its ``items``, page ``at`` of ``pages``, and how to link to the
    others (``path`` with the page number under ``key``, the other query values kept)."""

    items: list[T]
    at: int
    pages: int
    path: str
    key: str
    keep: Mapping[str, str | int] = field(default_factory=dict)

    def link(self, number: int) -> str:
        """The address of page ``number`` of this list, the page's other choices kept."""
        query = {k: v for k, v in self.keep.items() if v not in ("", None)}
        return f"{self.path}?{urlencode({**query, self.key: number})}"


def one_page(
    items: Sequence[T],
    number: int,
    path: str,
    key: str,
    keep: Mapping[str, str | int] | None = None,
) -> Page[T]:
    """Page ``number`` (past the end: the last page) of ``items``, already in reading order."""
    pages, at = _clamped(len(items), number)
    start = (at - 1) * PER_PAGE
    return Page(list(items[start : start + PER_PAGE]), at, pages, path, key, dict(keep or {}))


def fetched_page(
    fetch: Callable[[int, int], Sequence[T]],
    total: int,
    number: int,
    path: str,
    key: str,
    keep: Mapping[str, str | int] | None = None,
) -> Page[T]:
    """Page ``number`` (past the end: the last page) of a list of ``total`` items kept in the
    database, read with ``fetch(limit, offset)``: one screen read, however long the list."""
    pages, at = _clamped(total, number)
    items = list(fetch(PER_PAGE, (at - 1) * PER_PAGE))
    return Page(items, at, pages, path, key, dict(keep or {}))


def _clamped(total: int, number: int) -> tuple[int, int]:
    pages = max(1, -(-total // PER_PAGE))
    return pages, min(max(number, 1), pages)
