"""Small value objects: addresses, service areas, windows and templates, products, orders."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from doorstep.domain.address import Address, is_adcode
from doorstep.domain.catalog import Category, Dimensions, Product
from doorstep.domain.coverage import ServiceArea, SlotTemplate, Window, hourly_windows
from doorstep.domain.errors import InvalidInput
from doorstep.domain.order import Channel, Order, OrderLine


def addr(
    detail: str = "漕溪北路 1 号", adcode: str = "310104", phone: str = "13800138000"
) -> Address:
    return Address(adcode, "上海市", "上海市", "徐汇区", detail, "张三", phone)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("310104", True),
        ("110101", True),
        ("810000", True),
        ("010101", False),
        ("910101", False),
        ("31010", False),
        ("3101045", False),
        ("31010a", False),
        ("", False),
    ],
)
def test_adcode(value: str, ok: bool) -> None:
    assert is_adcode(value) is ok


def test_address() -> None:
    with pytest.raises(ValueError):
        addr(adcode="12345")
    assert addr().masked_phone == "138****8000"
    assert addr(phone="1234567").masked_phone == "****"
    assert addr().same_place(addr(detail=" 漕溪北路1号 "))
    assert not addr().same_place(addr(detail="漕溪北路 2 号"))
    assert not addr().same_place(addr(adcode="310105"))


def test_service_area_validation() -> None:
    with pytest.raises(InvalidInput) as raised:
        ServiceArea("31010", "x", "x")
    assert raised.value.code == "adcode_invalid"
    with pytest.raises(InvalidInput) as raised:
        ServiceArea("310104", "x", "x", capacity_override=10_001)
    assert raised.value.code == "capacity_out_of_range"


def test_windows_and_templates() -> None:
    with pytest.raises(InvalidInput) as raised:
        Window(time(11), time(9))
    assert raised.value.code == "window_inverted"
    assert [w.label for w in hourly_windows(9, 14, 5)] == ["09:00-14:00"]
    assert hourly_windows(22, 24, 1)[-1].end == time.max
    for args in ((9, 9, 1), (9, 19, 3), (9, 25, 1), (9, 19, 0)):
        with pytest.raises(ValueError):
            hourly_windows(*args)
    w = (Window(time(9), time(11)), Window(time(10), time(12)))
    with pytest.raises(InvalidInput) as raised:
        SlotTemplate("t", "t", w)
    assert raised.value.code == "template_windows_overlap"
    with pytest.raises(InvalidInput) as raised:
        SlotTemplate("t", "t", ())
    assert raised.value.code == "template_without_windows"
    with pytest.raises(InvalidInput) as raised:
        SlotTemplate("t", "t", w[:1], capacity=-1)
    assert raised.value.code == "template_capacity_out_of_range"
    half_days = SlotTemplate(
        "t", "09–14 / 14–19", (Window(time(14), time(19)), Window(time(9), time(14)))
    )
    assert half_days.window(time(14)) == Window(time(14), time(19))
    assert half_days.window(time(10)) is None


def test_product_and_dimensions() -> None:
    d = Dimensions(300, 200, 100)
    assert (d.longest_side_mm, d.girth_sum_mm, d.volume_cm3) == (300, 600, 6_000)
    with pytest.raises(ValueError):
        Dimensions(0, 1, 1)
    with pytest.raises(ValueError):
        Product(" ", "x", "x", Category.HOME, 1, d)
    with pytest.raises(ValueError):
        Product("P1", "x", "x", Category.HOME, 0, d)


def test_order_validation() -> None:
    from doorstep.domain.clock import SHANGHAI

    placed = datetime(2025, 3, 1, tzinfo=SHANGHAI)
    line = OrderLine("L1", "P1", 1, 100)
    assert Channel.BONDED.cross_border and Channel.DIRECT_MAIL.cross_border
    assert not Channel.DOMESTIC.cross_border
    order = Order("O1", "B1", "S1", Channel.BONDED, placed, addr(), (line,))
    assert order.line("L1") is line and order.line("L2") is None
    with pytest.raises(ValueError):
        Order("O1", "B1", "S1", Channel.BONDED, placed, addr(), ())
    with pytest.raises(ValueError):
        Order("O1", "B1", "S1", Channel.BONDED, placed, addr(), (line, line))
    with pytest.raises(ValueError):
        Order("O1", "B1", "S1", Channel.BONDED, datetime(2025, 3, 1), addr(), (line,))  # noqa: DTZ001
