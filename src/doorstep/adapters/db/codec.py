"""Domain dataclasses to JSON documents and back, driven by their type hints.

Aggregates are stored as one JSON document plus the columns queries need; this keeps the
domain free of ORM mapping while the schema stays small.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime, time, timedelta
from enum import Enum
from functools import cache
from typing import Any, TypeVar

T = TypeVar("T")


def to_doc(value: Any) -> Any:
    """A JSON-ready copy of a dataclass, enum, date or container."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_doc(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime")
        return value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, list | tuple):
        return [to_doc(item) for item in value]
    if isinstance(value, dict):
        return {str(k): to_doc(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def from_doc(cls: type[T], doc: Any) -> T:
    """Rebuild a value of type ``cls`` from what ``to_doc`` produced."""
    return typing.cast(T, _load(cls, doc))


def _load(tp: Any, raw: Any) -> Any:
    if tp is Any:
        return raw
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if raw is None:
            return None
        return _load(options[0], raw)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_load(item, v) for v in raw]
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_load(args[0], v) for v in raw)
        return tuple(_load(a, v) for a, v in zip(args, raw, strict=True))
    if origin is dict:
        _key, val = typing.get_args(tp)
        return {k: _load(val, v) for k, v in raw.items()}
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            hints = _hints(tp)
            kwargs = {
                f.name: _load(hints[f.name], raw[f.name])
                for f in dataclasses.fields(tp)
                if f.name in raw
            }
            return tp(**kwargs)
        if issubclass(tp, Enum):
            return tp(raw)
        if tp is datetime:
            return datetime.fromisoformat(raw)
        if tp is date:
            return date.fromisoformat(raw)
        if tp is time:
            return time.fromisoformat(raw)
        if tp is timedelta:
            return timedelta(seconds=raw)
    return raw
