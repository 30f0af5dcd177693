"""Server-side SVG charts, small enough to write by hand.

Inline SVG instead of matplotlib images: the text is real text in the page's language and
fonts (Chinese needs no font set up on the server), it scales on a phone, and it costs no
import time. Colours are presentation attributes, so the page's CSP needs no inline styles.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

_ROW = 26
_LABEL_W = 210
_BAR_W = 330
_WIDTH = _LABEL_W + _BAR_W + 70
_COLOURS = ("#2563eb", "#0d9488", "#d97706", "#dc2626", "#7c3aed", "#64748b")


def _frame(title: str, height: int, body: list[str], chart_id: str) -> Markup:
    return Markup(
        f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-labelledby="{escape(chart_id)}-t" '
        f'viewBox="0 0 {_WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg"><title id="{escape(chart_id)}-t">{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _scale(values: Sequence[int]) -> float:
    top = max([*values, 1])
    return _BAR_W / top


def hbars(chart_id: str, title: str, rows: Sequence[tuple[str, int]], empty: str) -> Markup:
    """One horizontal bar per row, its value at the end."""
    if not rows:
        return Markup(f'<p class="muted">{escape(empty)}</p>')
    k = _scale([v for _, v in rows])
    body = []
    for i, (label, value) in enumerate(rows):
        y = i * _ROW + 4
        w = max(value * k, 1 if value else 0)
        colour = _COLOURS[i % len(_COLOURS)]
        body.append(
            f'<text x="{_LABEL_W - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{_LABEL_W}" y="{y + 2}" width="{w:.1f}" height="{_ROW - 8}" rx="3" '
            f'fill="{colour}"><title>{escape(label)}: {value}</title></rect>'
            f'<text x="{_LABEL_W + w + 6:.1f}" y="{y + 15}" class="val">{value}</text>'
        )
    return _frame(title, len(rows) * _ROW + 8, body, chart_id)


def bullets(
    chart_id: str,
    title: str,
    rows: Sequence[tuple[str, int, int]],
    legend: tuple[str, str],
    empty: str,
) -> Markup:
    """Used against available: a pale bar for capacity with the booked part drawn over it."""
    if not rows:
        return Markup(f'<p class="muted">{escape(empty)}</p>')
    k = _scale([cap for _, _, cap in rows])
    body = [
        f'<rect x="{_LABEL_W}" y="4" width="12" height="12" fill="#cbd5e1"/>'
        f'<text x="{_LABEL_W + 18}" y="15">{escape(legend[1])}</text>'
        f'<rect x="{_LABEL_W + 140}" y="4" width="12" height="12" fill="#2563eb"/>'
        f'<text x="{_LABEL_W + 158}" y="15">{escape(legend[0])}</text>'
    ]
    for i, (label, used, cap) in enumerate(rows):
        y = (i + 1) * _ROW + 4
        full = used >= cap > 0
        body.append(
            f'<text x="{_LABEL_W - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{_LABEL_W}" y="{y + 2}" width="{cap * k:.1f}" height="{_ROW - 8}" '
            f'rx="3" fill="#cbd5e1"/>'
            f'<rect x="{_LABEL_W}" y="{y + 2}" width="{used * k:.1f}" height="{_ROW - 8}" '
            f'rx="3" fill="{"#dc2626" if full else "#2563eb"}">'
            f"<title>{escape(label)}: {used}/{cap}</title></rect>"
            f'<text x="{_LABEL_W + cap * k + 6:.1f}" y="{y + 15}" class="val">{used}/{cap}</text>'
        )
    return _frame(title, (len(rows) + 1) * _ROW + 8, body, chart_id)
