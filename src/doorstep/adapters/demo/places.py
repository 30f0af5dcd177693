"""Demo drop-off stations and lockers near the demo buyers, the return warehouses (one inside
the Waigaoqiao bonded zone for cross-border goods, one ordinary), and stock for exchanges with
variant families (issue 9 §6, §8). Fictitious names; coordinates are real Shanghai places."""

from __future__ import annotations

from doorstep.domain.address import Address
from doorstep.domain.catalog import Category, Dimensions, Product
from doorstep.domain.exchange import StockLevel
from doorstep.domain.places import ReturnWarehouse, Station, StationKind

BONDED_WAREHOUSE_ID = "wh-sh-bonded"
DOMESTIC_WAREHOUSE_ID = "wh-sh-jiading"


def _addr(adcode: str, district: str, detail: str, lat: float, lon: float) -> Address:
    # The contact is the returns desk; the street line does not repeat it.
    return Address(adcode, "上海市", "上海市", district, detail, "退货组", "02158660000", lat, lon)


WAREHOUSES: tuple[ReturnWarehouse, ...] = (
    ReturnWarehouse(
        BONDED_WAREHOUSE_ID,
        "外高桥保税区退货中心仓",
        "Waigaoqiao bonded-zone return centre",
        _addr(
            "310115",
            "浦东新区",
            "浦东新区外高桥保税区富特北路 456 号 3 号库",
            31.3360,
            121.5900,
        ),
        bonded=True,
    ),
    ReturnWarehouse(
        DOMESTIC_WAREHOUSE_ID,
        "嘉定退货仓",
        "Jiading returns warehouse",
        _addr("310114", "嘉定区", "嘉定区叶城路 1288 号 B 栋", 31.3500, 121.2300),
    ),
)

# A YTO franchisee running two stations with one staff (station2 works at both).
YTO_OPERATOR_ID = "op-yto-sh-west"
_RUN_BY = {"st-mh-01": YTO_OPERATOR_ID, "st-cn-01": YTO_OPERATOR_ID}

_S = StationKind
STATIONS: tuple[Station, ...] = tuple(
    Station(
        sid, kind, carrier, zh, en, _addr(adcode, district, detail, lat, lon), lat, lon, hours,
        _RUN_BY.get(sid, ""),
    )
    for sid, kind, carrier, zh, en, adcode, district, detail, lat, lon, hours in (
        ("st-xh-01", _S.STATION, "sf", "顺丰驿站（漕溪北路）", "SF station, Caoxi Rd N",
         "310104", "徐汇区", "徐汇区漕溪北路 100 号", 31.1905, 121.4362, "08:00-21:00"),
        ("st-xh-02", _S.LOCKER, "sf", "丰巢柜（徐家汇地铁站）", "Hive Box locker, Xujiahui metro",
         "310104", "徐汇区", "徐汇区虹桥路 1 号 地铁 9 号口", 31.1950, 121.4380, "00:00-24:00"),
        ("st-xh-03", _S.STATION, "yto", "圆通快递服务站（天钥桥路）", "YTO counter, Tianyaoqiao Rd",
         "310104", "徐汇区", "徐汇区天钥桥路 300 号", 31.1830, 121.4420, "09:00-20:00"),
        ("st-mh-01", _S.STATION, "yto", "圆通驿站（莘松路）", "YTO station, Xinsong Rd",
         "310112", "闵行区", "闵行区莘松路 900 号", 31.1125, 121.3870, "08:30-20:30"),
        ("st-mh-02", _S.LOCKER, "sf", "丰巢柜（莘庄地铁站）", "Hive Box locker, Xinzhuang metro",
         "310112", "闵行区", "闵行区莘庄地铁站北广场", 31.1110, 121.3850, "00:00-24:00"),
        ("st-pd-01", _S.STATION, "sf", "顺丰驿站（世纪大道）", "SF station, Century Ave",
         "310115", "浦东新区", "浦东新区世纪大道 88 号", 31.2360, 121.5060, "08:00-21:00"),
        ("st-cn-01", _S.STATION, "yto", "圆通驿站（长宁路）", "YTO station, Changning Rd",
         "310105", "长宁区", "长宁区长宁路 1018 号", 31.2190, 121.4200, "09:00-21:00"),
    )
)  # fmt: skip

# Variants of demo products a buyer can exchange for (the same family, another shade or size).
VARIANT_PRODUCTS: tuple[Product, ...] = (
    Product("KR-LIPSTICK-V02", "丝绒哑光口红 3.5g #888", "Velvet matte lipstick 3.5 g #888",
            Category.COSMETICS, 45, Dimensions(95, 30, 30), shop_id="shop-kr-beauty",
            seal_sensitive=True),
    Product("JP-DOWN-JACKET-L", "轻量连帽羽绒服 L码", "Lightweight hooded down jacket, L",
            Category.APPAREL, 640, Dimensions(400, 300, 80), shop_id="shop-jp-mall"),
    Product("CN-RUNNING-SHOES-43", "缓震跑鞋 43码", "Cushioned running shoes, 43",
            Category.SHOES, 820, Dimensions(330, 220, 120), shop_id="shop-cn-sports"),
)  # fmt: skip

STOCK: tuple[StockLevel, ...] = (
    StockLevel("KR-LIPSTICK-V01", "lipstick-velvet", 32_000, 20),
    StockLevel("KR-LIPSTICK-V02", "lipstick-velvet", 34_000, 3),
    StockLevel("JP-DOWN-JACKET-M", "down-jacket-hooded", 79_900, 5),
    StockLevel("JP-DOWN-JACKET-L", "down-jacket-hooded", 79_900, 1),
    StockLevel("CN-RUNNING-SHOES-42", "running-shoes", 59_900, 4),
    StockLevel("CN-RUNNING-SHOES-43", "running-shoes", 55_900, 0),
    StockLevel("CN-LATEX-PILLOW", "latex-pillow", 39_900, 10),
)
