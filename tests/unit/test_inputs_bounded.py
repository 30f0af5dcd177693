"""Every input of every request path is bounded, found by walking the routers rather than by a
list someone must remember to extend: each text, byte string, list and mapping a client sends
(path, query, header, cookie, form field or JSON body, down through nested request models and
through the parameters of every dependency a route pulls in) has a maximum length; each whole or
decimal number a lower and an upper bound; each day, instant or duration refuses the first and
the last one Python can hold. A new router or schema with an unbounded field fails here before a
client can send a gigabyte of it, a negative count, or a year-9999 day whose arithmetic
overflows on every later read. (A time of day needs nothing: it cannot leave 00:00-23:59.)"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re._parser as re_parser  # the stdlib's own parser: a pattern's widest match
import types
import typing
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, params
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    FutureDate,
    FutureDatetime,
    NaiveDatetime,
    PastDate,
    PastDatetime,
    TypeAdapter,
    ValidationError,
)

import doorstep.entrypoints.api as api_pkg
import doorstep.entrypoints.web as web_pkg
from doorstep.entrypoints.api.schemas import Day, Moment

SIZED = (str, bytes, list, tuple, set, frozenset, dict)
NUMBERS = (int, float)
# pydantic's own date types are not subclasses of date or datetime: named here so that an
# ``AwareDatetime`` field is checked like a ``datetime`` one.
PYDANTIC_DATED: dict[Any, type] = {
    AwareDatetime: datetime,
    NaiveDatetime: datetime,
    PastDatetime: datetime,
    FutureDatetime: datetime,
    PastDate: date,
    FutureDate: date,
}
# The values at each end of a dated type that a bounded field refuses: naive and aware, since a
# field may take only one of them and must still refuse the other's extreme.
EXTREMES: dict[type, tuple[tuple[object, ...], tuple[object, ...]]] = {
    datetime: (
        (datetime.min, datetime.min.replace(tzinfo=UTC)),  # noqa: DTZ901
        (datetime.max, datetime.max.replace(tzinfo=UTC)),  # noqa: DTZ901
    ),
    date: ((date.min,), (date.max,)),
    timedelta: ((timedelta.min,), (timedelta.max,)),
}
PARAMS = ("path_params", "query_params", "header_params", "cookie_params", "body_params")


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


def _has(meta: list[Any], names: tuple[str, ...]) -> bool:
    """Whether any constraint in ``meta`` (or in the metadata of a ``Field``, ``Query``...
    inside it) sets one of ``names``: ``Le`` has ``le``, ``Interval`` all four, ``Field`` none."""
    return any(
        any(getattr(m, n, None) is not None for n in names)
        or _has(list(getattr(m, "metadata", ()) or ()), names)
        for m in meta
    )


def _length_bounded(meta: list[Any]) -> bool:
    return _has(meta, ("max_length",)) or any(
        _pattern_bounds_length(getattr(m, "pattern", None))
        or _length_bounded(list(getattr(m, "metadata", ()) or ()))
        for m in meta
    )


def _dated(kind: Any) -> type | None:
    """The date type whose extremes ``kind`` must refuse; None when it is not one."""
    if kind in PYDANTIC_DATED:
        return PYDANTIC_DATED[kind]
    if inspect.isclass(kind):
        for base in (datetime, date, timedelta):  # datetime first: it is a date too
            if issubclass(kind, base):
                return base
    return None


def _refuses(tp: Any, meta: list[Any], values: tuple[object, ...]) -> bool:
    """Whether ``tp`` with its constraints and validators refuses every one of ``values``:
    validated rather than read, as a calendar bound is an ``AfterValidator`` (schemas.Day)."""
    with warnings.catch_warnings():
        # Query(), Form() in the metadata carry attributes a bare TypeAdapter ignores.
        warnings.simplefilter("ignore")
        adapter: TypeAdapter[Any] = TypeAdapter(Annotated[(tp, *meta)] if meta else tp)
    for value in values:
        try:
            adapter.validate_python(value)
        except ValidationError:
            continue
        return False
    return True


def _missing(lower: bool, upper: bool) -> str:
    return {(False, True): "no lower bound", (True, False): "no upper bound"}.get(
        (lower, upper), "no bound"
    )


def _unbounded(tp: Any, meta: list[Any], where: str, seen: set[type]) -> Iterator[str]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        base, *extra = args
        if not any(isinstance(e, params.Depends) for e in extra):
            yield from _unbounded(base, meta + extra, where, seen)
        return
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            yield from _unbounded(arg, meta, where, seen)
        return
    if origin is typing.Literal or tp is bool or tp is type(None):
        return
    kind = origin or tp
    if kind in NUMBERS:
        lower, upper = _has(meta, ("ge", "gt")), _has(meta, ("le", "lt"))
        if not (lower and upper):
            yield f"{where}: {kind.__name__}, {_missing(lower, upper)}"
    elif (dated := _dated(kind)) is not None:
        first, last = EXTREMES[dated]
        lower, upper = _refuses(tp, meta, first), _refuses(tp, meta, last)
        if not (lower and upper):
            yield f"{where}: {getattr(kind, '__name__', kind)}, {_missing(lower, upper)}"
    elif kind in SIZED:
        if not _length_bounded(meta):
            yield f"{where}: {getattr(kind, '__name__', kind)}"
        for arg in args:
            if arg is not Ellipsis:
                yield from _unbounded(arg, [], f"{where}[]", seen)
    elif inspect.isclass(tp) and issubclass(tp, BaseModel) and tp not in seen:
        seen.add(tp)
        for name, field in tp.model_fields.items():
            yield from _unbounded(field.annotation, list(field.metadata), f"{where}.{name}", seen)


def _inputs(dependant: Dependant, via: str = "") -> Iterator[tuple[str, Any, list[Any]]]:
    """(name, type, constraints) of every value a request supplies to ``dependant``: its own
    path, query, header, cookie and body (JSON or form) parameters, then those of each
    dependency, however deep, named after the dependency that reads them."""
    for kind in PARAMS:
        for field in getattr(dependant, kind):
            info = field.field_info
            yield f"{via}{field.name}", info.annotation, list(info.metadata)
    for sub in dependant.dependencies:
        call = getattr(sub.call, "__name__", type(sub.call).__name__)
        yield from _inputs(sub, f"{via}{call}().")


def _api_routes(router: APIRouter) -> Iterator[tuple[str, APIRoute]]:
    """The routes of ``router`` with their full paths, those of routers it includes too
    (FastAPI keeps an included router as one node of ``routes``, not as its routes)."""
    for context in iter_route_contexts(router.routes):
        if isinstance(context.original_route, APIRoute):
            yield str(context.path), context.original_route


def _unbounded_inputs(module: str, path: str, route: APIRoute) -> Iterator[str]:
    where = f"{module} {sorted(route.methods or ())[0]} {path}"
    for name, tp, meta in _inputs(route.dependant):
        yield from _unbounded(tp, meta, f"{where} {name}", set())


def test_every_request_input_is_bounded() -> None:
    found: list[str] = []
    routes = through_dependency = forms = 0
    for module, router in _routers():
        for path, route in _api_routes(router):
            routes += 1
            through_dependency += sum("()." in name for name, _, _ in _inputs(route.dependant))
            forms += sum(isinstance(f.field_info, params.Form) for f in route.dependant.body_params)
            found += _unbounded_inputs(module, path, route)
    # The walk really reached the routers, the parameters dependencies read and form fields.
    assert routes > 100
    assert through_dependency > 0 and forms > 10
    assert found == [], "\n".join(found)


def test_the_walk_finds_an_unbounded_field() -> None:
    def after_2000(day: date) -> date:
        if day.year < 2000:
            raise ValueError("too early")
        return day

    class Loose(BaseModel):
        text: str
        many: list[int]
        below: Annotated[int, Field(le=10)]
        above: Annotated[float, Field(gt=0)]
        day: date
        moment: datetime
        aware: AwareDatetime
        late: Annotated[date, AfterValidator(after_2000)]
        past: PastDate
        lasting: timedelta

    assert sorted(_unbounded(Loose, [], "x", set())) == [
        "x.above: float, no upper bound",
        "x.aware: AwareDatetime, no bound",
        "x.below: int, no lower bound",
        "x.day: date, no bound",
        "x.lasting: timedelta, no bound",
        "x.late: date, no upper bound",
        "x.many: list",
        "x.many[]: int, no bound",
        "x.moment: datetime, no bound",
        "x.past: PastDate, no lower bound",
        "x.text: str",
    ]


def test_the_walk_passes_bounded_fields() -> None:
    class Tight(BaseModel):
        text: Annotated[str, Field(max_length=10)]
        count: Annotated[int, Field(ge=1, le=10)]
        share: Annotated[float, Field(ge=0, lt=1)]
        day: Day
        moment: Moment
        until: Moment | None = None

    assert list(_unbounded(Tight, [], "x", set())) == []


# A deliberately loose router for the walk to find its way through. At module level: the
# annotations are strings (``from __future__``) that FastAPI resolves in this module.
def _inner(page: Annotated[int, Query(ge=1)]) -> int:
    return page


def _outer(lookup: Annotated[str, Query()], deeper: Annotated[int, Depends(_inner)]) -> str:
    return lookup


_LOOSE, _WRAPPER = APIRouter(), APIRouter()


@_LOOSE.post("/fake/{day}")
def _fake(
    day: date,
    got: Annotated[str, Depends(_outer)],
    note: Annotated[str, Form()],
    fine: Annotated[str, Form(max_length=9)],
    on: Annotated[Day, Form()],
) -> None:
    return None


_WRAPPER.include_router(_LOOSE, prefix="/in")


def test_the_route_walk_reaches_dependencies_and_forms() -> None:
    """A parameter is found wherever FastAPI reads it from: a dependency's own query
    parameter, a dependency of a dependency, a form field, a path date; and a route is found
    inside an included router."""
    found = [
        u for path, route in _api_routes(_WRAPPER) for u in _unbounded_inputs("m", path, route)
    ]
    assert sorted(found) == [
        "m POST /in/fake/{day} _outer()._inner().page: int, no upper bound",
        "m POST /in/fake/{day} _outer().lookup: str",
        "m POST /in/fake/{day} day: date, no bound",
        "m POST /in/fake/{day} note: str",
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
