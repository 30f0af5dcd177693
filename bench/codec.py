"""Document codec: msgspec, cattrs and pydantic's TypeAdapter against the hand-written codec.

Builds the project's real aggregates through the services on a throwaway SQLite database
(a refund return of a three-line order with its audit decision, its booked appointment, the
order, the current policy), then times for each library, in the same run:

- ``to_doc`` / ``from_doc``: object ⇄ JSON-ready Python values, what the repositories do
  (SQLAlchemy's JSON column does the text step with the standard ``json`` module);
- ``encode`` / ``decode``: object ⇄ JSON bytes in one call, for reference.

``in_use`` is the project's codec (msgspec plus the document version) with the JSON text
step the engines do (msgspec too), i.e. what a repository pays per document;
``stdlib_json_text`` is what that text step cost with the standard ``json`` module.

Each library's documents must round-trip to an equal object that still records events, load
the documents the hand-written codec stored, and be loadable by it (same JSON shape). Prints
one JSON line: microseconds per call (best of ``--repeat``) and the ratio to the baseline.

    uv run python bench/codec.py [--number 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.metadata
import json
import tempfile
import timeit
import types
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from functools import cache
from pathlib import Path
from typing import Any

import cattrs.preconf.json
import msgspec
import pydantic

from doorstep.adapters.db import codec as doc_codec
from doorstep.adapters.ids import FixedClock
from doorstep.bootstrap import App, build, seed_demo
from doorstep.config import Settings
from doorstep.domain.returns import Reason, ReturnKind
from doorstep.services import pickup, returns
from doorstep.services.returns import LineRequest, OpenReturn

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai: same-day windows open


# --- the baseline: the hand-written type-hint codec this project used before --------------
def legacy_to_doc(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: legacy_to_doc(getattr(value, f.name)) for f in dataclasses.fields(value)}
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
        return [legacy_to_doc(item) for item in value]
    if isinstance(value, dict):
        return {str(k): legacy_to_doc(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def legacy_from_doc(tp: Any, raw: Any) -> Any:
    origin = typing.get_origin(tp)
    if tp is Any:
        return raw
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        return None if raw is None else legacy_from_doc(options[0], raw)
    if origin is list:
        return [legacy_from_doc(typing.get_args(tp)[0], v) for v in raw]
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(legacy_from_doc(args[0], v) for v in raw)
        return tuple(legacy_from_doc(a, v) for a, v in zip(args, raw, strict=True))
    if origin is dict:
        return {k: legacy_from_doc(typing.get_args(tp)[1], v) for k, v in raw.items()}
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            hints = _hints(tp)
            return tp(
                **{
                    f.name: legacy_from_doc(hints[f.name], raw[f.name])
                    for f in dataclasses.fields(tp)
                    if f.name in raw
                }
            )
        if issubclass(tp, Enum):
            return tp(raw)
        if tp in (datetime, date, time):
            return tp.fromisoformat(raw)
        if tp is timedelta:
            return timedelta(seconds=raw)
    return raw


# --- the candidates -------------------------------------------------------------------------
@dataclasses.dataclass
class Codec:
    """One library's four operations for one aggregate type."""

    to_doc: Callable[[Any], Any]
    from_doc: Callable[[Any], Any]
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]


def legacy(cls: type) -> Codec:
    return Codec(
        legacy_to_doc,
        lambda doc: legacy_from_doc(cls, doc),
        lambda obj: json.dumps(legacy_to_doc(obj), ensure_ascii=False).encode(),
        lambda raw: legacy_from_doc(cls, json.loads(raw)),
    )


def with_msgspec(cls: type) -> Codec:
    decoder = msgspec.json.Decoder(cls)
    encoder = msgspec.json.Encoder()
    return Codec(
        msgspec.to_builtins,
        lambda doc: msgspec.convert(doc, cls),
        encoder.encode,
        decoder.decode,
    )


def with_cattrs(cls: type) -> Codec:
    conv = cattrs.preconf.json.make_converter()
    conv.register_unstructure_hook(time, time.isoformat)
    conv.register_structure_hook(time, lambda v, _: time.fromisoformat(v))
    return Codec(
        conv.unstructure,
        lambda doc: conv.structure(doc, cls),
        lambda obj: conv.dumps(obj, ensure_ascii=False).encode(),
        lambda raw: conv.loads(raw, cls),
    )


def with_pydantic(cls: type) -> Codec:
    adapter = pydantic.TypeAdapter(cls)
    return Codec(
        lambda obj: adapter.dump_python(obj, mode="json"),
        adapter.validate_python,
        adapter.dump_json,
        adapter.validate_json,
    )


def in_use(cls: type) -> Codec:
    """The project's codec (msgspec plus the document version) as the repositories use it:
    encode/decode include the JSON text step the engines hand to msgspec too."""
    return Codec(
        doc_codec.to_doc,
        lambda doc: doc_codec.from_doc(cls, doc),
        lambda obj: doc_codec.json_text(doc_codec.to_doc(obj)).encode(),
        lambda raw: doc_codec.from_doc(cls, doc_codec.json_value(raw)),
    )


LIBRARIES: dict[str, Callable[[type], Codec]] = {
    "msgspec": with_msgspec,
    "cattrs": with_cattrs,
    "pydantic": with_pydantic,
    "in_use": in_use,
}


# --- the aggregates -------------------------------------------------------------------------
def sample_aggregates(workdir: Path) -> dict[str, Any]:
    """A booked three-line return with its decision, its appointment, order and policy."""
    app: App = build(
        Settings(env="test", database_url=f"sqlite:///{workdir}/codec.db", secret_key="b" * 48),
        clock=FixedClock(T0),
    )
    seed_demo(app)
    svc = app.services
    with svc.uow() as uow:
        orders = [o for b in uow.buyers.list() for o in uow.orders.for_buyer(b.buyer_id)]
    for order in sorted(orders, key=lambda o: -len(o.lines)):
        request = returns.open_return(
            svc,
            OpenReturn(
                order.buyer_id,
                order.order_id,
                ReturnKind.REFUND,
                tuple(LineRequest(ln.line_id, ln.quantity, Reason.NO_REASON) for ln in order.lines),
            ),
        )
        if request.status.value != "approved":
            continue
        offer = pickup.pickup_options(svc, app.offering, order.buyer_id, request.return_id)
        if not offer.slots:
            continue
        slot = offer.slots[0].slot
        appt = pickup.book_pickup(
            svc,
            order.buyer_id,
            request.return_id,
            pickup.SlotChoice(slot.carrier_id, slot.day, slot.window.start),
        )
        with svc.uow() as uow:
            found = {
                "ReturnRequest": uow.returns.get(request.return_id),
                "Appointment": uow.appointments.get(appt.appointment_id),
                "Order": uow.orders.get(order.order_id),
                "Policy": uow.policies.current(),
            }
        app.engine.dispose()
        return found
    raise SystemExit("no demo order could be returned and booked")


def _records_events(obj: Any) -> bool:
    return not hasattr(obj, "take_events") or obj.take_events() == []


def check(codec: Codec, base: Codec, obj: Any) -> dict[str, bool]:
    """Round trip, events survive, old documents load, new documents load in the old codec."""
    back = codec.from_doc(codec.to_doc(obj))
    return {
        "round_trip": back == obj and codec.decode(codec.encode(obj)) == obj,
        "event_recorder": _records_events(back),
        "reads_old_docs": codec.from_doc(json.loads(base.encode(obj))) == obj,
        "old_reads_new": base.from_doc(json.loads(codec.encode(obj))) == obj,
    }


def best_us(fn: Callable[[], Any], number: int, repeat: int) -> float:
    return round(min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6, 2)


def measure(codec: Codec, obj: Any, number: int, repeat: int) -> dict[str, float]:
    doc, raw = codec.to_doc(obj), codec.encode(obj)
    return {
        "to_doc_us": best_us(lambda: codec.to_doc(obj), number, repeat),
        "from_doc_us": best_us(lambda: codec.from_doc(doc), number, repeat),
        "encode_us": best_us(lambda: codec.encode(obj), number, repeat),
        "decode_us": best_us(lambda: codec.decode(raw), number, repeat),
    }


def text_step(doc: Any, number: int, repeat: int) -> dict[str, float]:
    """The text step SQLAlchemy's JSON column adds around to_doc/from_doc (stdlib json)."""
    text = json.dumps(doc)
    return {
        "dumps_us": best_us(lambda: json.dumps(doc), number, repeat),
        "loads_us": best_us(lambda: json.loads(text), number, repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per timing")
    parser.add_argument("--repeat", type=int, default=5, help="timings; the best is kept")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        aggregates = sample_aggregates(Path(tmp))
    report: dict[str, Any] = {
        "bench": "codec",
        "versions": {
            "msgspec": msgspec.__version__,
            "cattrs": importlib.metadata.version("cattrs"),
            "pydantic": pydantic.VERSION,
        },
        "aggregates": {},
    }
    totals: dict[str, dict[str, float]] = {}
    for name, obj in aggregates.items():
        cls = type(obj)
        base = legacy(cls)
        entry: dict[str, Any] = {
            "doc_bytes": len(base.encode(obj)),
            "stdlib_json_text": text_step(base.to_doc(obj), args.number, args.repeat),
            "baseline": measure(base, obj, args.number, args.repeat),
        }
        for lib, make in LIBRARIES.items():
            codec = make(cls)
            figures = measure(codec, obj, args.number, args.repeat)
            entry[lib] = {
                **figures,
                **check(codec, base, obj),
                "ratio_to_baseline": {
                    k: round(v / entry["baseline"][k], 3) for k, v in figures.items()
                },
            }
        for lib in ("baseline", *LIBRARIES):
            for key, value in entry[lib].items():
                if key.endswith("_us"):
                    bucket = totals.setdefault(lib, {})
                    bucket[key] = round(bucket.get(key, 0.0) + value, 2)
        report["aggregates"][name] = entry
    report["total_us"] = totals
    report["total_ratio_to_baseline"] = {
        lib: {k: round(v / totals["baseline"][k], 3) for k, v in totals[lib].items()}
        for lib in LIBRARIES
    }
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
