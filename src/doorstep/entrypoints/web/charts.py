"""Server-side SVG charts: small bar charts written by hand, time series with matplotlib.

Inline SVG instead of matplotlib images: the text is real text in the page's language and
fonts (Chinese needs no font set up on the server), it scales on a phone, and it costs no
import time. Colours are presentation attributes, so the page's CSP needs no inline styles.
"""

from __future__ import annotations

import io
import re
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

from markupsafe import Markup, escape

_ROW = 26
_MAX_LABEL = 36  # characters; longer labels are cut, the full text stays in a tooltip
_COLOURS = ("#2563eb", "#0d9488", "#d97706", "#dc2626", "#7c3aed", "#64748b")


def _frame(title: str, width: int, height: int, body: list[str], chart_id: str) -> Markup:
    # Drawn at its natural size (never scaled up, so text stays 12 px); CSS lets it shrink
    # on a narrow screen.
    cid = escape(chart_id)
    return Markup(
        f'<svg class="chart" id="{cid}" role="img" aria-labelledby="{cid}-t" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="{cid}-t">{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _scale(values: Sequence[int], bar_w: int) -> float:
    top = max([*values, 1])
    return bar_w / top


def _label(x: int, y: int, label: str) -> str:
    # The whole label as a tooltip only where it was cut: a title on every row doubled the
    # charts' weight on the dashboard.
    if len(label) <= _MAX_LABEL:
        return f'<text x="{x}" y="{y}" text-anchor="end">{escape(label)}</text>'
    short = label[: _MAX_LABEL - 1] + "…"
    return (
        f'<text x="{x}" y="{y}" text-anchor="end">{escape(short)}'
        f"<title>{escape(label)}</title></text>"
    )


def hbars(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, int]],
    empty: str,
    *,
    label_w: int = 130,
    bar_w: int = 220,
    colours: Sequence[str] | None = None,
) -> Markup:
    """One horizontal bar per row, its value at the end; ``colours`` gives each row the colour
    of its meaning (done green, stuck amber, refused red), else one neutral colour."""
    if not rows:
        return Markup(f'<p class="muted">{escape(empty)}</p>')
    k = _scale([v for _, v in rows], bar_w)
    body = []
    for i, (label, value) in enumerate(rows):
        y = i * _ROW + 4
        w = max(value * k, 1 if value else 0)
        colour = colours[i] if colours else _COLOURS[0]
        body.append(
            _label(label_w - 8, y + 15, label)
            + f'<rect x="{label_w}" y="{y + 2}" width="{round(w)}" height="{_ROW - 8}" rx="3" '
            f'fill="{colour}"/>'
            f'<text x="{label_w + round(w) + 6}" y="{y + 15}" class="val">{value}</text>'
        )
    return _frame(title, label_w + bar_w + 50, len(rows) * _ROW + 8, body, chart_id)


def bullets(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, int, int]],
    legend: tuple[str, str],
    empty: str,
    *,
    label_w: int = 160,
    bar_w: int = 420,
) -> Markup:
    """Used against available: a pale bar for capacity with the booked part drawn over it."""
    if not rows:
        return Markup(f'<p class="muted">{escape(empty)}</p>')
    k = _scale([cap for _, _, cap in rows], bar_w)
    body = [
        f'<rect x="{label_w}" y="4" width="12" height="12" fill="#cbd5e1"/>'
        f'<text x="{label_w + 18}" y="15">{escape(legend[1])}</text>'
        f'<rect x="{label_w + 140}" y="4" width="12" height="12" fill="#2563eb"/>'
        f'<text x="{label_w + 158}" y="15">{escape(legend[0])}</text>'
    ]
    for i, (label, used, cap) in enumerate(rows):
        y = (i + 1) * _ROW + 4
        full = used >= cap > 0
        # Whole pixels, and no pale bar under a full one: a day of windows stays light.
        pale = (
            ""
            if full
            else f'<rect x="{label_w}" y="{y + 2}" width="{round(cap * k)}" height="{_ROW - 8}" '
            f'rx="3" fill="#cbd5e1"/>'
        )
        body.append(
            _label(label_w - 8, y + 15, label)
            + pale
            + f'<rect x="{label_w}" y="{y + 2}" width="{round(used * k)}" height="{_ROW - 8}" '
            f'rx="3" fill="{"#dc2626" if full else "#2563eb"}"/>'
            f'<text x="{label_w + round(cap * k) + 6}" y="{y + 15}" class="val">{used}/{cap}</text>'
        )
    return _frame(title, label_w + bar_w + 60, (len(rows) + 1) * _ROW + 8, body, chart_id)


# Time series are drawn with matplotlib (SVG, text kept as text so the browser sets Chinese in
# its own fonts). Okabe-Ito colours: told apart with the common colour-vision deficiencies.
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
_RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "doorstep",  # the same data draws the same bytes (ids are hashed)
    "font.family": "sans-serif",
    "font.sans-serif": ["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "DejaVu Sans"],
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e2e8f0",
    "axes.edgecolor": "#64748b",
    "axes.labelcolor": "#1f2933",
    "xtick.color": "#334155",
    "ytick.color": "#334155",
}
# rcParams are process-wide: one figure at a time (the console draws a handful per visit).
_DRAWING = threading.Lock()


@contextmanager
def _figure(width: float = 7.2, height: float = 3.2) -> Iterator[Any]:
    import matplotlib
    from matplotlib.figure import Figure

    with _DRAWING, matplotlib.rc_context(_RC), warnings.catch_warnings():  # type: ignore[arg-type]
        # Missing CJK glyphs in the server's fonts only affect the layout estimate: the text
        # stays text in the SVG and the browser draws it with the page's fonts.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        warnings.filterwarnings("ignore", message="findfont")
        yield Figure(figsize=(width, height), dpi=96, layout="constrained")


def _svg(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return _lighter(buf.getvalue())


_METADATA = re.compile(rb"<metadata>.*?</metadata>\s*", re.S)
_PATH = re.compile(rb' d="([^"]*)"')
_PLACE = re.compile(rb' (x|y|transform)="([^"]*)"')
_FRACTION = re.compile(rb"(\d+\.\d)\d+")
_FONT = re.compile(rb"font-family: [^;\"]*;? ?")
_STYLE = b'<style type="text/css">'


def _lighter(svg: bytes) -> bytes:
    """A third of the bytes, the same picture: matplotlib writes six decimals of a point
    (a tenth is finer than a screen pixel), a line and an indent per path command, the font
    list on every label, and an RDF block nobody reads. Only coordinates are rounded; text
    (tick labels) is left alone."""
    svg = _METADATA.sub(b"", svg)
    svg = _PATH.sub(lambda m: b' d="' + _FRACTION.sub(rb"\1", b" ".join(m[1].split())) + b'"', svg)
    svg = _PLACE.sub(lambda m: b" " + m[1] + b'="' + _FRACTION.sub(rb"\1", m[2]) + b'"', svg)
    fonts = _FONT.search(svg)
    if fonts is not None:
        # One font list for every label, in the style sheet, instead of one per label.
        rule = b"text{" + fonts[0].strip().rstrip(b";") + b"}"
        svg = _FONT.sub(b"", svg).replace(_STYLE, _STYLE + rule, 1)
    return re.sub(rb"\n\s+", b"\n", svg)


def _empty(fig: Any, text: str) -> bytes:
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", color="#475569")
    return _svg(fig)


def stacked_days(
    days: Sequence[date],
    series: Mapping[str, Sequence[float | None]],
    names: dict[str, str],
    y_label: str,
    empty: str,
) -> bytes:
    """One stacked bar per day, a colour per series (e.g. returns per day by reason)."""
    with _figure() as fig:
        if not any(v for row in series.values() for v in row):
            return _empty(fig, empty)
        ax = fig.add_subplot()
        x = [d.strftime("%m-%d") for d in days]
        bottom = [0.0] * len(days)
        ax.set_xticks(range(len(x)), x)
        for i, (key, row) in enumerate(series.items()):
            values = [v or 0.0 for v in row]
            # Days without any are not drawn: a zero-height bar is bytes and no ink.
            shown = [j for j, v in enumerate(values) if v]
            ax.bar(shown, [values[j] for j in shown], bottom=[bottom[j] for j in shown],
                   label=names.get(key, key), color=SERIES_COLOURS[i % len(SERIES_COLOURS)])  # fmt: skip
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_ylabel(y_label)
        ax.yaxis.get_major_locator().set_params(integer=True)
        _day_ticks(ax)
        _legend(fig, len(series))
        return _svg(fig)


def _day_ticks(ax: Any) -> None:
    # Slanted, and anchored at their end so each date ends under its own bar or point.
    for label in ax.get_xticklabels():
        label.set(rotation=45, ha="right", rotation_mode="anchor")


def _legend(fig: Any, count: int) -> None:
    # Above the plot, not over it: the bars and lines reach every corner some day.
    fig.legend(loc="outside upper center", ncols=min(count, 4), fontsize=8, frameon=False)


def lines(
    days: Sequence[date],
    series: Mapping[str, Sequence[float | None]],
    names: dict[str, str],
    y_label: str,
    empty: str,
    *,
    y_max: float | None = None,
) -> bytes:
    """One line per series over the days; days without a value leave a gap."""
    with _figure() as fig:
        if not any(v is not None for row in series.values() for v in row):
            return _empty(fig, empty)
        ax = fig.add_subplot()
        x = [d.strftime("%m-%d") for d in days]
        ax.set_xticks(range(len(x)), x)
        drawn = 0
        for i, (key, row) in enumerate(series.items()):
            if all(v is None for v in row):
                continue  # a company with nothing to measure gets no legend entry
            values = [float("nan") if v is None else v for v in row]
            ax.plot(range(len(x)), values, marker="o", label=names.get(key, key),
                    color=SERIES_COLOURS[i % len(SERIES_COLOURS)])  # fmt: skip
            drawn += 1
        ax.set_ylabel(y_label)
        if y_max is not None:
            ax.set_ylim(0, y_max)
        _day_ticks(ax)
        _legend(fig, drawn)
        return _svg(fig)


def histogram(
    groups: Mapping[str, Mapping[float, int]], names: dict[str, str], x_label: str, empty: str
) -> bytes:
    """The distribution of a duration, a colour per group (e.g. refund lead time by kind),
    from counts per value (value → how many)."""
    with _figure() as fig:
        if not any(groups.values()):
            return _empty(fig, empty)
        ax = fig.add_subplot()
        top = max(max(v) for v in groups.values() if v)
        bins = [top * i / 12 for i in range(13)] if top > 0 else 12
        colours = {"express": "#009E73", "standard": "#0072B2"}
        for i, (key, counts) in enumerate(groups.items()):
            ax.hist(list(counts), bins=bins, weights=list(counts.values()), alpha=0.75,
                    label=names.get(key, key),
                    color=colours.get(key, SERIES_COLOURS[i % len(SERIES_COLOURS)]))  # fmt: skip
        ax.set_xlabel(x_label)
        ax.yaxis.get_major_locator().set_params(integer=True)
        _legend(fig, len(groups))
        return _svg(fig)
