"""Domain dataclasses to JSON documents and back, with a version so old documents upgrade.

Aggregates are stored as one JSON document plus the columns queries need; this keeps the
domain free of ORM mapping while the schema stays small. msgspec does the conversion from the
dataclasses' type hints (chosen by measurement: ``bench/codec.py``, docs/architecture.md).
It builds dataclasses through ``__post_init__``, so what an aggregate sets up there (the
``EventRecorder`` list of pending events, checks of its values) is there after loading too.

Every stored document carries its shape's version under ``_v``; documents written before
versions existed have none and count as version 1. To change a stored shape incompatibly,
change the dataclass and append to ``UPGRADES`` the function that turns the last version's
documents into the new shape; ``from_doc`` runs the chain on read and the next save writes
the new shape.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

VERSION_KEY = "_v"
Upgrade = Callable[[dict[str, Any]], dict[str, Any]]

# UPGRADES[cls][n - 1] turns a version-n document of ``cls`` into version n + 1.
UPGRADES: dict[type, tuple[Upgrade, ...]] = {}


def doc_version(cls: type) -> int:
    """The version of the shape ``to_doc`` writes for ``cls`` today."""
    return len(UPGRADES.get(cls, ())) + 1


_JSON = msgspec.json.Encoder()
_PLAIN = msgspec.json.Decoder()


def to_plain(value: Any) -> Any:
    """What a JSON reader sees of a dataclass, enum, date or container: dicts, lists, strings
    and numbers (no document version); for API bodies and in-memory stores."""
    return _PLAIN.decode(_JSON.encode(value))


def to_doc(value: Any) -> Any:
    """The document to store, ready for a JSON column (tuples stay tuples, which the column
    writes as arrays); a dataclass's document carries its version."""
    doc = msgspec.to_builtins(value, str_keys=True)
    if dataclasses.is_dataclass(value) and isinstance(doc, dict):
        doc[VERSION_KEY] = doc_version(type(value))
    return doc


def from_doc(cls: type[T], doc: Any) -> T:
    """Rebuild a value of type ``cls`` from what ``to_doc`` stored, upgrading older shapes."""
    if isinstance(doc, dict) and doc.get(VERSION_KEY, 1) != doc_version(cls):
        doc = upgrade(cls, doc)
    # msgspec ignores keys that are not fields, so a current document goes in as it is.
    return msgspec.convert(doc, cls)


def upgrade(cls: type, doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` in today's shape for ``cls``, without its version key."""
    doc = dict(doc)
    version = doc.pop(VERSION_KEY, 1)
    steps = UPGRADES.get(cls, ())
    if not isinstance(version, int) or not 1 <= version <= len(steps) + 1:
        raise ValueError(
            f"{cls.__name__} document version {version!r}: this code reads 1 to {len(steps) + 1}"
        )
    for step in steps[version - 1 :]:
        doc = step(doc)
    return doc


def json_text(value: Any) -> str:
    """JSON text of a column value: the engines' serializer for JSON columns."""
    return _JSON.encode(value).decode()


def json_value(text: str | bytes) -> Any:
    """The value of JSON text from a column: the engines' deserializer for JSON columns."""
    return _PLAIN.decode(text)
