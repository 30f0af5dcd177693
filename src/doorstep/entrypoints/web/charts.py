"""Server-side SVG charts, small enough to write by hand.

Inline SVG instead of matplotlib images: the text is real text in the page's language and
fonts (Chinese needs no font set up on the server), it scales on a phone, and it costs no
import time. Colours are presentation attributes, so the page's CSP needs no inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    short = label if len(label) <= _MAX_LABEL else label[: _MAX_LABEL - 1] + "…"
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
) -> Markup:
    """One horizontal bar per row, its value at the end."""
    if not rows:
        return Markup(f'<p class="muted">{escape(empty)}</p>')
    k = _scale([v for _, v in rows], bar_w)
    body = []
    for i, (label, value) in enumerate(rows):
        y = i * _ROW + 4
        w = max(value * k, 1 if value else 0)
        colour = _COLOURS[i % len(_COLOURS)]
        body.append(
            _label(label_w - 8, y + 15, label)
            + f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{_ROW - 8}" rx="3" '
            f'fill="{colour}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" class="val">{value}</text>'
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
        body.append(
            _label(label_w - 8, y + 15, label)
            + f'<rect x="{label_w}" y="{y + 2}" width="{cap * k:.1f}" height="{_ROW - 8}" '
            f'rx="3" fill="#cbd5e1"/>'
            f'<rect x="{label_w}" y="{y + 2}" width="{used * k:.1f}" height="{_ROW - 8}" '
            f'rx="3" fill="{"#dc2626" if full else "#2563eb"}">'
            f"<title>{escape(label)}: {used}/{cap}</title></rect>"
            f'<text x="{label_w + cap * k + 6:.1f}" y="{y + 15}" class="val">{used}/{cap}</text>'
        )
    return _frame(title, label_w + bar_w + 60, (len(rows) + 1) * _ROW + 8, body, chart_id)
