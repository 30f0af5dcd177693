"""The demo dataset: a believable Shanghai returns operation, built relative to ``now``.

``demo_dataset(now)`` is a pure function: the same ``now`` always gives the same data, and
every time in it is placed on Shanghai calendar days counted back from ``now`` so the demo
always has orders inside (and just outside) each return window, whenever it is seeded.

Demo accounts (demo only; never seed these into a real deployment):

=============  ==================  =========  ======================  =========================
username       password            role       actor_id                who
=============  ==================  =========  ======================  =========================
buyer1         demo-buyer1         buyer      buyer-001               林晓雯, trust 850, Xuhui
buyer2         demo-buyer2         buyer      buyer-002               陈静怡, trust 720, Jing'an
buyer3         demo-buyer3         buyer      buyer-003               王浩然, trust 600, Minhang
buyer4         demo-buyer4         buyer      buyer-004               赵敏, trust 350, Yangpu
buyer5         demo-buyer5         buyer      buyer-005               周涛, blocklisted, Jinshan
buyer6         demo-buyer6         buyer      buyer-006               黄海燕, trust 680, Chongming
courier1       demo-courier1       courier    courier-sf-01           王建国, SF, Xuhui
courier2       demo-courier2       courier    courier-sf-02           李明, SF, Pudong
courier3       demo-courier3       courier    courier-sf-03           张伟, SF, Jing'an
courier4       demo-courier4       courier    courier-sf-04           吴晓东, SF, Hangzhou Xihu
courier5       demo-courier5       courier    courier-yto-01          刘洋, YTO, Yangpu
courier6       demo-courier6       courier    courier-yto-02          陈磊, YTO, Minhang (08–17)
courier7       demo-courier7       courier    courier-yto-03          孙志刚, YTO, Jinshan
courier8       demo-courier8       courier    courier-yto-04          赵强, YTO, Putuo
warehouse1     demo-warehouse1     warehouse  wh-sh-bonded            Waigaoqiao bonded returns
station1       demo-station1       station    st-xh-01                SF station, Caoxi Rd N (Xuhui)
station2       demo-station2       station    op-yto-sh-west          YTO franchisee: st-mh-01, st-cn-01
ops1           demo-ops1           ops        ops-001                 after-sales operations
partner1       demo-partner1       partner    shop-kr-beauty          a Korean beauty shop
=============  ==================  =========  ======================  =========================

Notable orders (``S`` = signed so many days before ``now``, ``R`` = customs released):

- TM2026000101 bonded cosmetics, S1/R3, multi-line, 23.1 % tax; express refund for buyer1.
- TM2026000102 direct mail headphones + down jacket, S3/R6: electronics and tag checklists.
- TM2026000103 bonded formula ×3 + fish oil + probiotics, S6/R8: last day of 7 is tomorrow.
- TM2026000104 direct mail toothbrush, S9/R12: outside the 7-day window (quality only).
- TM2026000105 domestic pillows + blocks + engraved photo frame (customised: excluded), S2.
- TM2026000106 domestic cheese (fresh), gift card (digital), magazine (periodical), S1.
- TM2026000107 domestic picture books to Gar, Tibet (542523): area not covered, S2.
- TM2026000108 direct mail tablet for a low-trust buyer (350), S2/R4.
- TM2026000109 direct mail contact lenses confirmed "not returnable" at checkout, cookies
  (seal) and a cast-iron pot, S4/R7.
- TM2026000110 domestic sneakers, blocklisted buyer in Jinshan (one carrier, 2-hour slots), S3.
- TM2026000111 bonded fish oil to Chongming (remote: drop-off instead of pickup), S2/R4.
- TM2026000112 domestic 36-inch trunk: oversize for pickup, S2.
- TM2026000113 domestic adjustable dumbbells 33.5 kg: overweight for pickup, S4.
- TM2026000114 bonded formula, R33: past the 30-day customs application window.
- TM2026000115 bonded serum, R37: pickup cut-off (day 38) is tomorrow, for a filed return.
- TM2026000116 bonded serum + lipstick, R40: pickup cut-off passed; drop-off (day 40) until tonight.
- TM2026000117 direct mail down jacket, released R1, not yet signed (in transit).
- TM2026000118 domestic pillows x2 with two free silk pillowcases (gift, 29 yuan each) +
  castle blocks, S2: 100-yuan coupon, 满1500减150, free shipping from 99, freight insurance.
  Returning the blocks breaks the full reduction; the pillows without the pillowcases keep
  the gift.
- TM2026000119 domestic pillow + two towels, S3: free shipping from 499 yuan (12 yuan
  waived); returning the towels breaks it; no freight insurance (the buyer pays the return).

Customs declaration-list numbers and phone numbers are made up (138 0000 xxxx).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from doorstep.adapters.demo import places
from doorstep.domain.address import Address
from doorstep.domain.catalog import Accessory, Category, Dimensions, Product
from doorstep.domain.clock import SHANGHAI, local
from doorstep.domain.coverage import GENERIC_TWO_HOUR, SF_ONE_HOUR, ServiceArea, SlotTemplate
from doorstep.domain.exchange import StockLevel
from doorstep.domain.fleet import Carrier, Courier
from doorstep.domain.identity import Role
from doorstep.domain.order import NO_PROMOTIONS, Buyer, Channel, Order, OrderLine, Promotions
from doorstep.domain.places import ReturnWarehouse, Station

WAREHOUSE_ID = "wh-sh-bonded"
STATION1_ID = "st-xh-01"  # station1's station: the SF station nearest buyer1 (Xuhui)


@dataclass(frozen=True)
class DemoUser:
    """A demo login: a plain-text password (hashed by whoever seeds it) and who it acts as."""

    username: str
    password: str
    role: Role
    actor_id: str


@dataclass(frozen=True)
class DemoDataset:
    """Everything a fresh demo installation needs, as immutable tuples."""

    areas: tuple[ServiceArea, ...]
    templates: tuple[SlotTemplate, ...]
    carriers: tuple[Carrier, ...]
    couriers: tuple[Courier, ...]
    products: tuple[Product, ...]
    buyers: tuple[Buyer, ...]
    orders: tuple[Order, ...]
    users: tuple[DemoUser, ...]
    # Drop-off, self-ship and exchanges (issue 9 §6, §8): adapters/demo/places.py.
    stations: tuple[Station, ...] = ()
    warehouses: tuple[ReturnWarehouse, ...] = ()
    stock: tuple[StockLevel, ...] = ()

    def product(self, sku: str) -> Product:
        return next(p for p in self.products if p.sku == sku)

    def buyer(self, buyer_id: str) -> Buyer:
        return next(b for b in self.buyers if b.buyer_id == buyer_id)

    def order(self, order_id: str) -> Order:
        return next(o for o in self.orders if o.order_id == order_id)

    def area(self, adcode: str) -> ServiceArea:
        return next(a for a in self.areas if a.adcode == adcode)


# --- coverage -------------------------------------------------------------------------------

TEMPLATES: tuple[SlotTemplate, ...] = (GENERIC_TWO_HOUR, SF_ONE_HOUR)

CARRIERS: tuple[Carrier, ...] = (
    Carrier("sf", "顺丰速运", "SF Express", "SF", SF_ONE_HOUR.template_id),
    Carrier("yto", "圆通速递", "YTO Express", "YT", GENERIC_TWO_HOUR.template_id),
    # The sandbox courier company (``doorstep sandbox-carrier``): its own couriers serve
    # Fengxian, so the demo shows both ways of serving an area.
    Carrier("sbx", "沙箱快递", "Sandbox Express", "SBX", GENERIC_TWO_HOUR.template_id, False),
)
_TEMPLATE_OF = {c.carrier_id: c.template_id for c in CARRIERS}
_COMPANY_SERVED = {c.carrier_id for c in CARRIERS if not c.own_fleet}

_BOTH = ("sf", "yto")
_YTO_FIRST = ("yto", "sf")

# adcode, zh, en, lat, lon (approximate centre of the district's built-up area), carriers
_SHANGHAI: tuple[tuple[str, str, str, float, float, tuple[str, ...]], ...] = (
    ("310101", "黄浦区", "Huangpu", 31.2317, 121.4846, _BOTH),
    ("310104", "徐汇区", "Xuhui", 31.1884, 121.4365, _BOTH),
    ("310105", "长宁区", "Changning", 31.2204, 121.4242, _BOTH),
    ("310106", "静安区", "Jing'an", 31.2490, 121.4560, _BOTH),
    ("310107", "普陀区", "Putuo", 31.2495, 121.3970, _YTO_FIRST),
    ("310109", "虹口区", "Hongkou", 31.2646, 121.5056, _BOTH),
    ("310110", "杨浦区", "Yangpu", 31.2595, 121.5260, _YTO_FIRST),
    ("310112", "闵行区", "Minhang", 31.1127, 121.3817, _YTO_FIRST),
    ("310113", "宝山区", "Baoshan", 31.4050, 121.4896, _YTO_FIRST),
    ("310114", "嘉定区", "Jiading", 31.3747, 121.2653, _YTO_FIRST),
    ("310115", "浦东新区", "Pudong New Area", 31.2215, 121.5447, _BOTH),
    ("310116", "金山区", "Jinshan", 30.7417, 121.3418, ("yto",)),
    ("310117", "松江区", "Songjiang", 31.0322, 121.2277, _YTO_FIRST),
    ("310118", "青浦区", "Qingpu", 31.1502, 121.1242, _YTO_FIRST),
    ("310120", "奉贤区", "Fengxian", 30.9180, 121.4740, ("yto", "sbx")),
    ("310151", "崇明区", "Chongming", 31.6230, 121.3970, ("yto",)),
)

HANGZHOU_XIHU = "330106"
GAR_TIBET = "542523"  # 西藏自治区阿里地区噶尔县: outside every carrier's pickup area
CHONGMING = "310151"
JINSHAN = "310116"


def _areas() -> tuple[ServiceArea, ...]:
    shanghai = tuple(
        ServiceArea(
            adcode=code,
            name_zh=zh,
            name_en=en,
            remote=code == CHONGMING,
            carrier_ids=carriers,
            template_id=_TEMPLATE_OF[carriers[0]],
            lat=lat,
            lon=lon,
            company_carriers=tuple(c for c in carriers if c in _COMPANY_SERVED),
        )
        for code, zh, en, lat, lon, carriers in _SHANGHAI
    )
    elsewhere = (
        ServiceArea(
            HANGZHOU_XIHU,
            "杭州市西湖区",
            "Xihu, Hangzhou",
            carrier_ids=_BOTH,
            template_id=SF_ONE_HOUR.template_id,
            lat=30.2595,
            lon=120.1300,
        ),
        ServiceArea(
            GAR_TIBET,
            "阿里地区噶尔县",
            "Gar County, Ngari",
            pickup_supported=False,
            lat=32.5012,
            lon=80.1055,
        ),
    )
    return shanghai + elsewhere


# --- couriers -------------------------------------------------------------------------------

COURIERS: tuple[Courier, ...] = (
    Courier("courier-sf-01", "王建国", "13800000001", "sf", "310104", 31.1920, 121.4410),
    Courier("courier-sf-02", "李明", "13800000002", "sf", "310115", 31.2240, 121.5390),
    Courier("courier-sf-03", "张伟", "13800000003", "sf", "310106", 31.2460, 121.4590),
    Courier("courier-sf-04", "吴晓东", "13800000004", "sf", HANGZHOU_XIHU, 30.2740, 120.1250),
    Courier(
        "courier-yto-01",
        "刘洋",
        "13800000005",
        "yto",
        "310110",
        31.2630,
        121.5220,
        capacity_weight_g=500_000,  # a small van
        capacity_volume_cm3=4_000_000,
    ),
    Courier(
        "courier-yto-02",
        "陈磊",
        "13800000006",
        "yto",
        "310112",
        31.1150,
        121.3790,
        shift_start=time(8, 0),
        shift_end=time(17, 0),
    ),
    Courier("courier-yto-03", "孙志刚", "13800000007", "yto", JINSHAN, 30.7390, 121.3450),
    Courier("courier-yto-04", "赵强", "13800000008", "yto", "310107", 31.2510, 121.4010),
)


# --- products -------------------------------------------------------------------------------

# Price per unit in fen, and the cross-border composite tax rate in tenths of a percent:
# 9.1 % = 13 % VAT x 70 %; 23.1 % = (13 % + 15 %) / (1 - 15 %) x 70 % for high-end cosmetics
# (consumption tax applies at >= 10 yuan per ml/g).
_STANDARD_RATE = 91
_HIGH_END_COSMETICS_RATE = 231


@dataclass(frozen=True)
class _Sku:
    product: Product
    price_fen: int
    tax_permille: int = _STANDARD_RATE


def _p(
    sku: str,
    zh: str,
    en: str,
    category: Category,
    weight_g: int,
    dims: tuple[int, int, int],
    shop: str,
    price_fen: int,
    tax_permille: int = _STANDARD_RATE,
    accessories: tuple[Accessory, ...] = (),
    **flags: bool,
) -> _Sku:
    product = Product(
        sku,
        zh,
        en,
        category,
        weight_g,
        Dimensions(*dims),
        shop_id=shop,
        accessories=accessories,
        **flags,
    )
    return _Sku(product, price_fen, tax_permille)


SERUM = "KR-SERUM-50ML"
LIPSTICK = "KR-LIPSTICK-V01"
FORMULA = "AU-FORMULA-S1-900G"
FISH_OIL = "AU-FISHOIL-400"
PROBIOTICS = "AU-PROBIOTIC-30"
HEADPHONES = "JP-ANC-HEADPHONES"
TOOTHBRUSH = "JP-SONIC-TOOTHBRUSH"
TABLET = "US-TABLET-11-256G"
DOWN_JACKET = "JP-DOWN-JACKET-M"
SNEAKERS = "CN-RUNNING-SHOES-42"
ENGRAVED_FRAME = "CN-ENGRAVED-FRAME-7IN"
CHEESE = "CN-CHILLED-BRIE-200G"
GIFT_CARD = "CN-GIFT-CARD-500"
MAGAZINE = "CN-MAGAZINE-12M"
CONTACTS = "JP-DAILY-LENS-30"
COOKIES = "JP-MATCHA-COOKIES"
PILLOW = "CN-LATEX-PILLOW"
BLOCKS = "CN-BLOCKS-CASTLE"
BOOKS = "CN-PICTURE-BOOKS-10"
TRUNK = "CN-TRUNK-36IN"
DUMBBELLS = "CN-DUMBBELLS-2X16KG"
CASSEROLE = "JP-CAST-IRON-24CM"
PILLOWCASE = "CN-SILK-PILLOWCASE-GIFT"
TOWELS = "CN-COTTON-TOWEL-2"

_C = Category
_SKUS: tuple[_Sku, ...] = (
    _p(SERUM, "人参修护精华液 50ml", "Ginseng repair serum 50 ml", _C.COSMETICS, 260,
       (125, 65, 65), "shop-kr-beauty", 128_000, _HIGH_END_COSMETICS_RATE,
       seal_sensitive=True),
    _p(LIPSTICK, "丝绒哑光口红 3.5g #999", "Velvet matte lipstick 3.5 g #999", _C.COSMETICS,
       45, (95, 30, 30), "shop-kr-beauty", 32_000, _HIGH_END_COSMETICS_RATE,
       seal_sensitive=True),
    _p(FORMULA, "婴儿配方奶粉 1段 900g", "Infant formula stage 1, 900 g tin", _C.INFANT_FORMULA,
       1_150, (130, 130, 180), "shop-au-health", 26_800, seal_sensitive=True),
    _p(FISH_OIL, "深海鱼油软胶囊 1000mg×400粒", "Fish oil 1000 mg, 400 capsules",
       _C.SUPPLEMENTS, 520, (85, 85, 160), "shop-au-health", 19_900, seal_sensitive=True),
    _p(PROBIOTICS, "益生菌胶囊 30粒", "Probiotic capsules, 30", _C.SUPPLEMENTS, 95,
       (60, 60, 110), "shop-au-health", 29_900, seal_sensitive=True),
    _p(HEADPHONES, "头戴式主动降噪无线耳机", "Wireless noise-cancelling headphones",
       _C.ELECTRONICS, 650, (230, 200, 90), "shop-jp-mall", 249_900,
       accessories=(Accessory.CHARGER, Accessory.MANUAL, Accessory.WARRANTY_CARD)),
    _p(TOOTHBRUSH, "声波电动牙刷", "Sonic electric toothbrush", _C.ELECTRONICS, 480,
       (260, 110, 70), "shop-jp-mall", 89_900),
    _p(TABLET, "11英寸平板电脑 256GB", "11-inch tablet, 256 GB", _C.ELECTRONICS, 900,
       (290, 210, 50), "shop-us-tech", 399_900),
    _p(DOWN_JACKET, "轻量连帽羽绒服 M码", "Lightweight hooded down jacket, M", _C.APPAREL,
       600, (400, 300, 80), "shop-jp-mall", 79_900),
    _p(SNEAKERS, "缓震跑步鞋 42码", "Cushioned running shoes, EU 42", _C.SHOES, 1_100,
       (350, 230, 130), "shop-cn-sports", 89_900),
    _p(ENGRAVED_FRAME, "定制刻字实木相框 7寸", "Solid-wood photo frame with custom engraving, 7 in",
       _C.HOME, 450, (260, 210, 40), "shop-cn-home", 12_800, customised=True),
    _p(CHEESE, "冷藏布里奶酪 200g", "Chilled Brie cheese 200 g", _C.FRESH, 320,
       (150, 150, 80), "shop-cn-market", 8_800, perishable=True),
    _p(GIFT_CARD, "电子礼品卡 500元", "Digital gift card, 500 yuan", _C.DIGITAL, 5,
       (86, 54, 1), "shop-cn-market", 50_000, digital=True),
    _p(MAGAZINE, "《旅行地理》年度订阅 12期", "Travel geography magazine, 12-issue year",
       _C.PERIODICALS, 400, (280, 210, 10), "shop-cn-market", 36_000),
    _p(CONTACTS, "日抛隐形眼镜 30片 -3.00D", "Daily contact lenses, 30, -3.00 D", _C.MEDICAL,
       80, (100, 60, 40), "shop-jp-mall", 18_900, seal_sensitive=True,
       not_returnable_at_checkout=True),
    _p(COOKIES, "抹茶夹心曲奇礼盒 24枚", "Matcha cream cookies gift box, 24", _C.FOOD, 450,
       (260, 180, 60), "shop-jp-mall", 12_800, seal_sensitive=True),
    _p(PILLOW, "天然乳胶枕", "Natural latex pillow", _C.HOME, 1_500, (600, 400, 140),
       "shop-cn-home", 39_900),
    _p(BLOCKS, "拼装积木 城堡 3000片", "Building blocks castle, 3000 pieces", _C.TOYS, 2_300,
       (480, 380, 120), "shop-cn-home", 129_900),
    _p(BOOKS, "英文原版绘本 10册套装", "English picture books, set of 10", _C.BOOKS, 2_100,
       (300, 250, 120), "shop-cn-books", 26_800),
    # In its shipping carton: 1000 + 680 + 420 = 2100 mm > 2000 mm, too big for a courier.
    _p(TRUNK, "36英寸超大铝框行李箱（原装外箱）", "36-inch aluminium-frame trunk, boxed",
       _C.LUGGAGE, 8_500, (1_000, 680, 420), "shop-cn-travel", 159_900),
    # Two 16 kg dumbbells and the carton: 33.5 kg > 30 kg, too heavy for a door pickup.
    _p(DUMBBELLS, "可调节哑铃 2×16kg", "Adjustable dumbbells, 2 x 16 kg", _C.OTHER, 33_500,
       (430, 420, 260), "shop-cn-fitness", 219_900),
    _p(CASSEROLE, "珐琅铸铁锅 24cm", "Enamelled cast-iron casserole 24 cm", _C.HOME, 5_200,
       (330, 280, 190), "shop-jp-mall", 149_900),
    # A free gift with the latex pillow: no price, a marked value of 29 yuan.
    _p(PILLOWCASE, "真丝枕套（赠品）", "Silk pillowcase (gift)", _C.HOME, 120,
       (300, 200, 20), "shop-cn-home", 0),
    _p(TOWELS, "纯棉毛巾两条装", "Cotton towels, pack of 2", _C.HOME, 400, (350, 250, 60),
       "shop-cn-home", 5_900),
)  # fmt: skip
_BY_SKU = {s.product.sku: s for s in _SKUS}


def _tax_fen(amount_fen: int, permille: int) -> int:
    """Withheld tax, rounded half up, in integer arithmetic."""
    return (amount_fen * permille + 500) // 1000


def _line(
    n: int, sku: str, quantity: int, channel: Channel, *, not_returnable_confirmed: bool
) -> OrderLine:
    spec = _BY_SKU[sku]
    tax = _tax_fen(spec.price_fen * quantity, spec.tax_permille) if channel.cross_border else 0
    return OrderLine(f"L{n}", sku, quantity, spec.price_fen, tax, not_returnable_confirmed)


# --- buyers ---------------------------------------------------------------------------------


def _sh(
    adcode: str, district: str, detail: str, name: str, phone: str, lat: float, lon: float
) -> Address:
    return Address(adcode, "上海市", "上海市", district, detail, name, phone, lat, lon)


_ADDR = {
    "b1-home": _sh("310104", "徐汇区", "徐汇区漕溪北路88号3号楼1202室", "林晓雯", "13800001001",
                   31.1890, 121.4370),
    "b1-office": _sh("310115", "浦东新区", "浦东新区世纪大道100号45层前台", "林晓雯",
                     "13800001001", 31.2350, 121.5080),
    "b2-home": _sh("310106", "静安区", "静安区延安中路1000弄6号501室", "陈静怡", "13800001002",
                   31.2240, 121.4560),
    "b2-hangzhou": Address(HANGZHOU_XIHU, "浙江省", "杭州市", "西湖区",
                           "西湖区文三路478号A座1503室", "陈静怡", "13800001002", 30.2780,
                           120.1230),
    "b3-home": _sh("310112", "闵行区", "闵行区莘松路958弄12号402室", "王浩然", "13800001003",
                   31.1110, 121.3850),
    "b3-tibet": Address(GAR_TIBET, "西藏自治区", "阿里地区", "噶尔县",
                        "噶尔县狮泉河镇文化路18号2单元301室", "王浩然", "13800001003", 32.5030,
                        80.1020),
    "b4-home": _sh("310110", "杨浦区", "杨浦区控江路1500弄8号602室", "赵敏", "13800001004",
                   31.2680, 121.5300),
    "b5-home": _sh(JINSHAN, "金山区", "金山区卫零路485弄3号101室", "周涛", "13800001005",
                   30.7220, 121.3420),
    "b6-home": _sh(CHONGMING, "崇明区", "崇明区城桥镇八一路208弄5号301室", "黄海燕",
                   "13800001006", 31.6250, 121.4000),
}  # fmt: skip


def _buyers() -> tuple[Buyer, ...]:
    a = _ADDR
    return (
        Buyer("buyer-001", "林晓雯", "13800001001", 850, addresses=[a["b1-home"], a["b1-office"]]),
        Buyer(
            "buyer-002", "陈静怡", "13800001002", 720, addresses=[a["b2-home"], a["b2-hangzhou"]]
        ),
        Buyer("buyer-003", "王浩然", "13800001003", 600, addresses=[a["b3-home"], a["b3-tibet"]]),
        Buyer("buyer-004", "赵敏", "13800001004", 350, addresses=[a["b4-home"]]),
        Buyer("buyer-005", "周涛", "13800001005", 420, blocklisted=True, addresses=[a["b5-home"]]),
        Buyer("buyer-006", "黄海燕", "13800001006", 680, addresses=[a["b6-home"]]),
    )


# --- orders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _O:
    """An order recipe: days are Shanghai calendar days before ``now``."""

    n: int
    buyer: str
    address: str
    shop: str
    channel: Channel
    lines: tuple[tuple[str, int], ...]
    signed: int | None
    released: int | None = None
    confirmed: frozenset[str] = frozenset()  # SKUs confirmed "not returnable"
    gifts: tuple[tuple[str, int, int, int], ...] = ()  # sku, quantity, for line n, value fen
    promotions: Promotions = NO_PROMOTIONS
    freight_insurance: bool = False


_B, _D, _M = Channel.BONDED, Channel.DIRECT_MAIL, Channel.DOMESTIC
_ORDERS: tuple[_O, ...] = (
    _O(101, "buyer-001", "b1-home", "shop-kr-beauty", _B, ((SERUM, 1), (LIPSTICK, 2)), 1, 3),
    _O(102, "buyer-001", "b1-home", "shop-jp-mall", _D, ((HEADPHONES, 1), (DOWN_JACKET, 1)), 3, 6),
    _O(103, "buyer-002", "b2-home", "shop-au-health", _B,
       ((FORMULA, 3), (FISH_OIL, 1), (PROBIOTICS, 2)), 6, 8),
    _O(104, "buyer-002", "b2-home", "shop-jp-mall", _D, ((TOOTHBRUSH, 1),), 9, 12),
    _O(105, "buyer-003", "b3-home", "shop-cn-home", _M,
       ((PILLOW, 2), (BLOCKS, 1), (ENGRAVED_FRAME, 1)), 2),
    _O(106, "buyer-003", "b3-home", "shop-cn-market", _M,
       ((CHEESE, 2), (GIFT_CARD, 1), (MAGAZINE, 1)), 1),
    _O(107, "buyer-003", "b3-tibet", "shop-cn-books", _M, ((BOOKS, 1),), 2),
    _O(108, "buyer-004", "b4-home", "shop-us-tech", _D, ((TABLET, 1),), 2, 4),
    _O(109, "buyer-004", "b4-home", "shop-jp-mall", _D,
       ((CONTACTS, 2), (COOKIES, 1), (CASSEROLE, 1)), 4, 7, confirmed=frozenset({CONTACTS})),
    _O(110, "buyer-005", "b5-home", "shop-cn-sports", _M, ((SNEAKERS, 1),), 3),
    _O(111, "buyer-006", "b6-home", "shop-au-health", _B, ((FISH_OIL, 2),), 2, 4),
    _O(112, "buyer-001", "b1-office", "shop-cn-travel", _M, ((TRUNK, 1),), 2),
    _O(113, "buyer-002", "b2-hangzhou", "shop-cn-fitness", _M, ((DUMBBELLS, 1),), 4),
    _O(114, "buyer-002", "b2-home", "shop-au-health", _B, ((FORMULA, 2),), 31, 33),
    _O(115, "buyer-003", "b3-home", "shop-kr-beauty", _B, ((SERUM, 1),), 35, 37),
    _O(116, "buyer-004", "b4-home", "shop-kr-beauty", _B, ((SERUM, 1), (LIPSTICK, 1)), 38, 40),
    _O(117, "buyer-006", "b6-home", "shop-jp-mall", _D, ((DOWN_JACKET, 1),), None, 1),
    _O(118, "buyer-001", "b1-home", "shop-cn-home", _M, ((PILLOW, 2), (BLOCKS, 1)), 2,
       gifts=((PILLOWCASE, 2, 1, 2_900),),
       promotions=Promotions(coupon_fen=10_000, reduction_fen=15_000,
                             reduction_threshold_fen=150_000, free_shipping_threshold_fen=9_900,
                             waived_shipping_fen=1_000),
       freight_insurance=True),
    _O(119, "buyer-002", "b2-home", "shop-cn-home", _M, ((PILLOW, 1), (TOWELS, 2)), 3,
       promotions=Promotions(free_shipping_threshold_fen=49_900, waived_shipping_fen=1_200)),
)  # fmt: skip


def _day(now_local: datetime, days_ago: int, hour: int, minute: int = 0) -> datetime:
    day = now_local.date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def _order(recipe: _O, now_local: datetime) -> Order:
    lines = tuple(
        _line(i, sku, qty, recipe.channel, not_returnable_confirmed=sku in recipe.confirmed)
        for i, (sku, qty) in enumerate(recipe.lines, start=1)
    ) + tuple(
        OrderLine(f"L{n}", sku, qty, 0, gift_for=f"L{item}", gift_value_fen=value)
        for n, (sku, qty, item, value) in enumerate(recipe.gifts, start=len(recipe.lines) + 1)
    )
    signed = None if recipe.signed is None else _day(now_local, recipe.signed, 14, 30)
    released = None if recipe.released is None else _day(now_local, recipe.released, 10, 15)
    if recipe.released is not None:
        # Bonded goods leave the zone the day after payment; direct mail flies in first.
        placed_days = recipe.released + (1 if recipe.channel is Channel.BONDED else 4)
    elif recipe.signed is not None:
        placed_days = recipe.signed + 2
    else:
        raise ValueError(f"order {recipe.n} needs a signing or a release day")
    declaration = (
        None if released is None else f"2249{released.year}I{recipe.n:09d}"  # fictitious
    )
    return Order(
        order_id=f"TM2026000{recipe.n}",
        buyer_id=recipe.buyer,
        shop_id=recipe.shop,
        channel=recipe.channel,
        placed_at=_day(now_local, placed_days, 21, 8),
        shipping_address=_ADDR[recipe.address],
        lines=lines,
        signed_at=signed,
        customs_released_at=released,
        declaration_no=declaration,
        promotions=recipe.promotions,
        freight_insurance=recipe.freight_insurance,
    )


# --- users ----------------------------------------------------------------------------------


def _users(buyers: tuple[Buyer, ...]) -> tuple[DemoUser, ...]:
    def user(username: str, role: Role, actor_id: str) -> DemoUser:
        return DemoUser(username, f"demo-{username}", role, actor_id)

    return (
        *(user(f"buyer{i}", Role.BUYER, b.buyer_id) for i, b in enumerate(buyers, start=1)),
        *(user(f"courier{i}", Role.COURIER, c.courier_id) for i, c in enumerate(COURIERS, 1)),
        user("warehouse1", Role.WAREHOUSE, WAREHOUSE_ID),
        user("station1", Role.STATION, STATION1_ID),
        user("station2", Role.STATION, places.YTO_OPERATOR_ID),
        user("ops1", Role.OPS, "ops-001"),
        user("partner1", Role.PARTNER, "shop-kr-beauty"),
    )


# --- the dataset ----------------------------------------------------------------------------


def demo_dataset(now: datetime) -> DemoDataset:
    """The demo data with every time placed relative to ``now`` (timezone-aware)."""
    now_local = local(now)  # refuses naive datetimes
    buyers = _buyers()
    return DemoDataset(
        areas=_areas(),
        templates=TEMPLATES,
        carriers=CARRIERS,
        couriers=COURIERS,
        products=tuple(s.product for s in _SKUS) + places.VARIANT_PRODUCTS,
        buyers=buyers,
        orders=tuple(_order(r, now_local) for r in _ORDERS),
        users=_users(buyers),
        stations=places.STATIONS,
        warehouses=places.WAREHOUSES,
        stock=places.STOCK,
    )
