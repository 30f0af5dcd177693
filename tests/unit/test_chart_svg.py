"""The console's trend charts: the bytes trimmed, the picture and the words kept."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from doorstep.entrypoints.web import charts

SVG = "{http://www.w3.org/2000/svg}"
DAYS = [date(2026, 11, 1) + timedelta(days=i) for i in range(14)]


def _chart() -> bytes:
    series = {f"c{i}": [80.0 + (i * 7 + d * 3) % 20 for d in range(14)] for i in range(5)}
    names = {k: f"快递 {k}" for k in series}
    return charts.lines(DAYS, series, names, "% inside the window", "none", y_max=100)


def test_coordinates_have_one_decimal_and_the_font_list_is_written_once() -> None:
    svg = _chart()
    root = ET.fromstring(svg)  # still well-formed
    for el in root.iter():
        for name in ("x", "y", "transform", "d"):
            assert not re.search(r"\d\.\d\d", el.get(name, "")), (el.tag, name, el.get(name))
    assert svg.count(b"font-family") == 1
    assert b"text{font-family: " in svg


def test_every_label_survives_the_trimming() -> None:
    svg = _chart()
    words = {t.text for t in ET.fromstring(svg).iter(SVG + "text") if t.text}
    assert {"11-01", "11-14", "快递 c0", "快递 c4", "% inside the window"} <= words


def test_tick_labels_are_not_rounded() -> None:
    svg = charts.lines(DAYS, {"a": [0.125] * 14}, {"a": "A"}, "share", "none", y_max=0.25)
    words = {t.text for t in ET.fromstring(svg).iter(SVG + "text") if t.text}
    assert any(w and re.fullmatch(r"0\.\d{2,}", w) for w in words), words
