"""Every input of every request path is bounded, found by walking the routers rather than by a
list someone must remember to extend: each text, byte string, list and mapping a client sends
(path, query, header, form field or JSON body, down through nested request models) has a
maximum length, and each whole or decimal number an upper bound. A new router or schema with
an unbounded field fails here before a client can send a gigabyte of it."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re._parser as re_parser  # the stdlib's own parser: a pattern's widest match
import types
import typing
from collections.abc import Iterator
from typing import Any

import annotated_types as at
from fastapi.params import Depends
from fastapi.routing import APIRoute, APIRouter
from pydantic import BaseModel

import doorstep.entrypoints.api as api_pkg
import doorstep.entrypoints.web as web_pkg

SIZED = (str, bytes, list, tuple, set, frozenset, dict)
NUMBERS = (int, float)


def _routers() -> Iterator[tuple[str, APIRouter]]:
    for pkg in (api_pkg, web_pkg):
        for info in pkgutil.iter_modules(pkg.__path__):
            module = importlib.import_module(f"{pkg.__name__}.{info.name}")
            router = getattr(module, "router", None)
            if isinstance(router, APIRouter):
                yield info.name, router


def _pattern_bounds_length(pattern: object) -> bool:
    """Whether a pattern alone bounds a text's length: anchored at both ends (pydantic
    searches, so an unanchored pattern lets any text around it through) and with no
    unbounded repeat (``*``, ``+``, ``{n,}``)."""
    if not isinstance(pattern, str) or not pattern.startswith("^") or not pattern.endswith("$"):
        return False
    return bool(re_parser.parse(pattern).getwidth()[1] < re_parser.MAXREPEAT)


def test_only_an_anchored_pattern_without_unbounded_repeats_bounds_a_text() -> None:
    assert _pattern_bounds_length(r"^[1-8][0-9]{5}$")
    assert _pattern_bounds_length(r"^\+?[0-9]{7,15}$")
    assert not _pattern_bounds_length(r"^[a-z]+$")
    assert not _pattern_bounds_length(r"[0-9]{6}")
    assert not _pattern_bounds_length(r"^[0-9]{6,}$")
    assert not _pattern_bounds_length(None)


def _bounded(meta: list[Any], kind: type) -> bool:
    for m in meta:
        if kind in NUMBERS and isinstance(m, at.Le | at.Lt | at.Interval):
            return True
        if kind not in NUMBERS and isinstance(m, at.MaxLen | at.Len):
            return True
        names = ("le", "lt") if kind in NUMBERS else ("max_length",)
        if any(getattr(m, n, None) is not None for n in names):
            return True
        if kind not in NUMBERS and _pattern_bounds_length(getattr(m, "pattern", None)):
            return True
        if _bounded(list(getattr(m, "metadata", ()) or ()), kind):
            return True
    return False


def _unbounded(tp: Any, meta: list[Any], where: str, seen: set[type]) -> Iterator[str]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        base, *extra = args
        if not any(isinstance(e, Depends) for e in extra):
            yield from _unbounded(base, meta + extra, where, seen)
        return
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            yield from _unbounded(arg, meta, where, seen)
        return
    if origin is typing.Literal or tp is bool or tp is type(None):
        return
    kind = origin or tp
    if kind in SIZED or kind in NUMBERS:
        if not _bounded(meta, kind):
            yield f"{where}: {getattr(kind, '__name__', kind)}"
        for arg in args:
            if arg is not Ellipsis:
                yield from _unbounded(arg, [], f"{where}[]", seen)
    elif inspect.isclass(tp) and issubclass(tp, BaseModel) and tp not in seen:
        seen.add(tp)
        for name, field in tp.model_fields.items():
            yield from _unbounded(field.annotation, list(field.metadata), f"{where}.{name}", seen)


def test_every_request_input_is_bounded() -> None:
    found, routes = [], 0
    for module, router in _routers():
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            routes += 1
            hints = typing.get_type_hints(route.endpoint, include_extras=True)
            for name, tp in hints.items():
                if name != "return":
                    where = f"{module} {sorted(route.methods)[0]} {route.path} {name}"
                    found += list(_unbounded(tp, [], where, set()))
    assert routes > 100  # the walk really reached the routers
    assert found == [], "\n".join(found)


def test_the_walk_finds_an_unbounded_field() -> None:
    class Loose(BaseModel):
        text: str
        many: list[int]

    assert sorted(_unbounded(Loose, [], "x", set())) == [
        "x.many: list",
        "x.many[]: int",
        "x.text: str",
    ]


# Commands whose numbers are checked by the command itself, with a stable message: simulate's
# options go through SimParams (days 1-31, shares within [0, 1], seed >= 0, ...).
CHECKED_BY_COMMAND = {"simulate"}


def _cli_commands(command: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for name, sub in getattr(command, "commands", {}).items():
        yield f"{prefix}{name}", sub
        yield from _cli_commands(sub, f"{prefix}{name} ")


def test_every_cli_number_is_bounded() -> None:
    """Every whole or decimal CLI option has a lower and an upper bound, so a typo (a port of
    80000, a sweep every 10**9 seconds) is refused by the parser instead of failing later."""
    import typer.main

    from doorstep.entrypoints.cli import app

    found, numbers = [], 0
    for name, command in _cli_commands(typer.main.get_command(app)):
        if command.callback is None or name in CHECKED_BY_COMMAND:
            continue
        hints = typing.get_type_hints(inspect.unwrap(command.callback))
        for param in command.params:
            kinds = set(typing.get_args(hints[param.name])) | {hints[param.name]}
            if kinds & {int, float}:
                numbers += 1
                if getattr(param, "min", None) is None or getattr(param, "max", None) is None:
                    found.append(f"{name} --{param.name.replace('_', '-')}")
    assert numbers > 8  # the walk really reached the commands
    assert found == [], found
