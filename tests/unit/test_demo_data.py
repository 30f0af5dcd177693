"""The demo dataset is consistent, deterministic and always has returnable orders."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from doorstep.adapters.demo import DemoDataset, DemoUser, demo_dataset
from doorstep.adapters.demo import data as demo_module
from doorstep.domain.address import is_adcode
from doorstep.domain.audit import customs_deadline, return_deadline
from doorstep.domain.catalog import Category
from doorstep.domain.clock import SHANGHAI, local
from doorstep.domain.identity import Role
from doorstep.domain.order import Channel, Order

SHANGHAI_ADCODES = {
    "310101": "黄浦区",
    "310104": "徐汇区",
    "310105": "长宁区",
    "310106": "静安区",
    "310107": "普陀区",
    "310109": "虹口区",
    "310110": "杨浦区",
    "310112": "闵行区",
    "310113": "宝山区",
    "310114": "嘉定区",
    "310115": "浦东新区",
    "310116": "金山区",
    "310117": "松江区",
    "310118": "青浦区",
    "310120": "奉贤区",
    "310151": "崇明区",
}

NOWS = [
    datetime(2026, 4, 15, 10, 30, tzinfo=SHANGHAI),
    datetime(2026, 4, 15, 0, 0, 1, tzinfo=SHANGHAI),  # just after midnight
    datetime(2026, 4, 14, 23, 59, 59, tzinfo=SHANGHAI),  # just before midnight
    datetime(2026, 12, 31, 23, 59, tzinfo=SHANGHAI),  # year end
    datetime(2027, 1, 1, 0, 5, tzinfo=SHANGHAI),  # new year
    datetime(2028, 2, 29, 12, 0, tzinfo=SHANGHAI),  # leap day
    datetime(2026, 4, 14, 16, 30, tzinfo=UTC),  # 00:30 next day in Shanghai
    datetime(2026, 7, 1, 3, 0, tzinfo=timezone(timedelta(hours=-5))),
]


@pytest.fixture(params=NOWS, ids=lambda d: d.isoformat())
def now(request: pytest.FixtureRequest) -> datetime:
    moment: datetime = request.param
    return moment


@pytest.fixture
def ds(now: datetime) -> DemoDataset:
    return demo_dataset(now)


def _datetimes(obj: object) -> list[datetime]:
    """Every datetime reachable through dataclasses, tuples and lists."""
    found: list[datetime] = []
    if isinstance(obj, datetime):
        found.append(obj)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            found += _datetimes(getattr(obj, f.name))
    elif isinstance(obj, tuple | list):
        for item in obj:
            found += _datetimes(item)
    return found


def test_builds_and_is_deterministic(now: datetime) -> None:
    assert demo_dataset(now) == demo_dataset(now)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        demo_dataset(datetime(2026, 4, 15, 10, 30))  # noqa: DTZ001


def test_all_shanghai_districts_with_real_adcodes(ds: DemoDataset) -> None:
    by_code = {a.adcode: a for a in ds.areas}
    for code, name in SHANGHAI_ADCODES.items():
        assert by_code[code].name_zh == name
        assert by_code[code].name_en
        assert by_code[code].lat is not None and 30.6 < by_code[code].lat < 31.9  # type: ignore[operator]
        assert by_code[code].lon is not None and 120.8 < by_code[code].lon < 122.1  # type: ignore[operator]


def test_adcodes_unique_and_valid(ds: DemoDataset) -> None:
    codes = [a.adcode for a in ds.areas]
    assert len(codes) == len(set(codes))
    assert all(is_adcode(c) for c in codes)
    for buyer in ds.buyers:
        for address in buyer.addresses:
            assert address.adcode in set(codes)


def test_coverage_shape(ds: DemoDataset) -> None:
    chongming = ds.area("310151")
    assert chongming.remote and not chongming.serves_pickup
    jinshan = ds.area("310116")
    assert len(jinshan.carrier_ids) == 1 and jinshan.serves_pickup
    uncovered = [a for a in ds.areas if not a.pickup_supported]
    assert uncovered and not any(a.adcode.startswith("31") for a in uncovered)
    assert ds.area("330106").serves_pickup
    others = set(SHANGHAI_ADCODES) - {"310151", "310116"}
    assert all(len(ds.area(c).carrier_ids) == 2 for c in others)


def test_references_exist(ds: DemoDataset) -> None:
    carriers = {c.carrier_id for c in ds.carriers}
    templates = {t.template_id for t in ds.templates}
    assert len(carriers) == len(ds.carriers) == 3
    assert {c.template_id for c in ds.carriers} <= templates
    for area in ds.areas:
        assert set(area.carrier_ids) <= carriers
        assert area.template_id in templates
        if area.carrier_ids:
            first = next(c for c in ds.carriers if c.carrier_id == area.carrier_ids[0])
            assert area.template_id == first.template_id
    adcodes = {a.adcode for a in ds.areas}
    for courier in ds.couriers:
        assert courier.carrier_id in carriers
        assert courier.depot_adcode in adcodes
        assert courier.shift_start < courier.shift_end
    # The sandbox company's couriers are its own: doorstep has couriers of the others only.
    assert {c.carrier_id for c in ds.couriers} == {c.carrier_id for c in ds.carriers if c.own_fleet}
    company_served = [a for a in ds.areas if a.company_carriers]
    assert [a.adcode for a in company_served] == ["310120"]
    assert len({c.courier_id for c in ds.couriers}) == len(ds.couriers)


def test_orders_reference_buyers_skus_and_addresses(ds: DemoDataset) -> None:
    buyers = {b.buyer_id: b for b in ds.buyers}
    skus = {p.sku for p in ds.products}
    assert len(skus) == len(ds.products)
    assert len({o.order_id for o in ds.orders}) == len(ds.orders)
    for order in ds.orders:
        assert order.order_id.startswith("TM2026")
        assert order.buyer_id in buyers
        assert order.shipping_address in buyers[order.buyer_id].addresses
        for line in order.lines:
            assert line.sku in skus
            assert ds.product(line.sku).shop_id == order.shop_id


def test_oversize_and_overweight_items(ds: DemoDataset) -> None:
    luggage = [p for p in ds.products if p.category is Category.LUGGAGE]
    assert any(p.dimensions.girth_sum_mm > 2000 for p in luggage)
    assert any(p.weight_g > 30_000 for p in ds.products)
    assert all(p.weight_g <= 30_000 for p in luggage)  # the suitcase is only too big


def test_product_flags_present(ds: DemoDataset) -> None:
    products = ds.products
    assert any(p.customised for p in products)
    assert any(p.perishable and p.category is Category.FRESH for p in products)
    assert any(p.digital for p in products)
    assert any(p.category is Category.PERIODICALS for p in products)
    assert any(p.not_returnable_at_checkout for p in products)
    assert any(p.seal_sensitive and p.category is Category.INFANT_FORMULA for p in products)
    flagged = {p.sku for p in products if p.not_returnable_at_checkout}
    confirmed = [ln for o in ds.orders for ln in o.lines if ln.not_returnable_confirmed]
    assert confirmed and all(ln.sku in flagged for ln in confirmed)


def test_channels_and_customs_dates(ds: DemoDataset, now: datetime) -> None:
    channels = {o.channel for o in ds.orders}
    assert channels == {Channel.BONDED, Channel.DIRECT_MAIL, Channel.DOMESTIC}
    for order in ds.orders:
        if order.channel.cross_border:
            assert order.customs_released_at is not None and order.declaration_no
            assert order.placed_at < order.customs_released_at < now
            if order.signed_at is not None:
                assert order.customs_released_at < order.signed_at
        else:
            assert order.customs_released_at is None and order.declaration_no is None
            assert all(line.tax_fen == 0 for line in order.lines)


def _released_days_ago(order: Order, now: datetime) -> int:
    assert order.customs_released_at is not None
    return (local(now).date() - local(order.customs_released_at).date()).days


def test_customs_deadline_cases(ds: DemoDataset, now: datetime) -> None:
    bonded = [o for o in ds.orders if o.channel is Channel.BONDED]
    ages = {_released_days_ago(o, now) for o in bonded}
    assert {33, 37, 40} <= ages
    past_application = ds.order("TM2026000114")
    assert customs_deadline(past_application.customs_released_at, 30) < now  # type: ignore[arg-type]
    pickup_open = ds.order("TM2026000115")
    assert customs_deadline(pickup_open.customs_released_at, 38) > now  # type: ignore[arg-type]
    pickup_closed = ds.order("TM2026000116")
    assert customs_deadline(pickup_closed.customs_released_at, 38) < now  # type: ignore[arg-type]


def test_signing_times(ds: DemoDataset, now: datetime) -> None:
    signed = [o for o in ds.orders if o.signed_at is not None]
    assert len(signed) < len(ds.orders)  # one is still in transit
    for order in signed:
        assert order.signed_at is not None
        assert order.placed_at < order.signed_at < now
    ages = {(local(now).date() - local(o.signed_at).date()).days for o in signed}  # type: ignore[arg-type]
    assert {1, 3, 6, 9} <= ages


def test_every_buyer_has_a_returnable_order(ds: DemoDataset, now: datetime) -> None:
    for buyer in ds.buyers:
        returnable = [
            o
            for o in ds.orders
            if o.buyer_id == buyer.buyer_id
            and o.signed_at is not None
            and return_deadline(o.signed_at, 7) >= now
            and (
                o.customs_released_at is None or customs_deadline(o.customs_released_at, 30) >= now
            )
        ]
        assert returnable, buyer.buyer_id
    outside = ds.order("TM2026000104")
    assert outside.signed_at is not None and return_deadline(outside.signed_at, 7) < now


def test_buyers(ds: DemoDataset) -> None:
    assert sum(b.blocklisted for b in ds.buyers) == 1
    scores = sorted(b.trust_score for b in ds.buyers)
    assert scores[0] < 400 and scores[-1] >= 800
    assert all(1 <= len(b.addresses) <= 2 for b in ds.buyers)
    adcodes = {a.adcode for b in ds.buyers for a in b.addresses}
    assert "310151" in adcodes
    uncovered = {a.adcode for a in ds.areas if not a.pickup_supported}
    assert adcodes & uncovered


def test_all_datetimes_are_aware(ds: DemoDataset) -> None:
    moments = _datetimes(ds)
    assert moments
    assert all(m.tzinfo is not None and m.utcoffset() is not None for m in moments)


def test_money_is_integer_fen(ds: DemoDataset) -> None:
    for order in ds.orders:
        for line in order.lines:
            assert type(line.unit_price_fen) is int and type(line.tax_fen) is int
            if order.channel.cross_border:
                gross = line.unit_price_fen * line.quantity
                product = ds.product(line.sku)
                rate = 231 if product.category is Category.COSMETICS else 91
                assert line.tax_fen == (gross * rate + 500) // 1000


def test_users(ds: DemoDataset) -> None:
    names = [u.username for u in ds.users]
    assert len(names) == len(set(names))
    assert {u.role for u in ds.users} == set(Role)
    buyers = {b.buyer_id for b in ds.buyers}
    couriers = {c.courier_id for c in ds.couriers}
    for user in ds.users:
        assert isinstance(user, DemoUser)
        assert user.password == f"demo-{user.username}"
        if user.role is Role.BUYER:
            assert user.actor_id in buyers
        if user.role is Role.COURIER:
            assert user.actor_id in couriers
    assert {u.actor_id for u in ds.users if u.role is Role.BUYER} == buyers
    assert {u.actor_id for u in ds.users if u.role is Role.COURIER} == couriers
    by_name = {u.username: u for u in ds.users}
    assert by_name["warehouse1"].actor_id == "wh-sh-bonded"
    assert by_name["partner1"].actor_id == "shop-kr-beauty"


def test_docstring_documents_every_account(ds: DemoDataset) -> None:
    doc = demo_module.__doc__ or ""
    for user in ds.users:
        row = next(line for line in doc.splitlines() if line.startswith(user.username + " "))
        assert user.password in row and user.role.value in row and user.actor_id in row
    for order in ds.orders:
        assert order.order_id in doc


def test_orders_with_promotions_gifts_and_freight_insurance(ds: DemoDataset) -> None:
    from doorstep.domain.refund_amount import NO_TAX_OUTCOME, Part, quote_refund
    from doorstep.domain.returns import Reason, ReturnLine

    promoted = ds.order("TM2026000118")
    assert promoted.freight_insurance and promoted.promotions.coupon_fen
    [gift] = [ln for ln in promoted.lines if ln.gift_for is not None]
    assert gift.unit_price_fen == 0 and gift.gift_value_fen and promoted.line(gift.gift_for)
    assert ds.product(gift.sku).shop_id == promoted.shop_id

    def parts(order: Order, line_id: str, quantity: int) -> set[Part]:
        returned = [ReturnLine(line_id, "", quantity, Reason.NO_REASON)]
        quote = quote_refund(order, returned, tax=NO_TAX_OUTCOME, return_freight_fen=1_200)
        return {ln.part for ln in quote.lines}

    assert {Part.COUPON, Part.FULL_REDUCTION, Part.RETURN_FREIGHT} <= parts(promoted, "L2", 1)
    assert Part.GIFT in parts(promoted, "L1", 2)
    towels = ds.order("TM2026000119")
    assert Part.FREE_SHIPPING in parts(towels, "L2", 2)
    assert Part.RETURN_FREIGHT not in parts(towels, "L2", 2)  # no insurance: the buyer pays
