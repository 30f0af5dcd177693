"""The return wave: pickups a coming day will get, seen from the orders already signed for.

A buyer asks to return days after signing for the parcel (the 7-day no-reason window runs
from the day after signing, RULES.md §1), so the requests of a coming day are mostly owed to
orders signed before it. Expected requests on day ``d`` in an area are

    rate(area) × Σ_k P(lag = k) × signed(area, d − k),    k = 0 … MAX_LAG,

with the return rate and the lag distribution (Shanghai days from signing to the request)
learned from orders signed in a past stretch whose returns are complete. Pickup bookings of a
window are then requests × the area's share that book a pickup × the window's share of the
area's bookings, both learned over the same days. A request opened on day ``d`` books a window
on ``d``, ``d + 1`` … (the booking horizon), so the pickups on a window day ``w`` are

    pickup share × Σ_j P(lead = j) × requests(w − j),    j = 0 … MAX_LEAD,

with the booking lead learned from the requests opened over the learning days and the day of
the window they booked. A first Double 11 shows here a few days after its parcels are signed
for, where the same weekday of past weeks shows nothing.

Plain arithmetic over counts: the counts come from grouped reads (adapters/db/wave.py, read
by services/outlook.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

# Lags counted, in days after the day of signing: the 7-day no-reason window ends 7 days
# after it, quality returns (15 days for exchange and repair) come later and thinner; beyond
# two weeks the few late requests are left out of the wave rather than smeared over it.
MAX_LAG = 14
# Days from a request to the window it books: a template offers at most 14 days (today and 13
# more, domain/pickup.py ``horizon_days``); a later window (a visit moved on) counts as the last.
MAX_LEAD = 13
# Orders signed over these days, ending MAX_LAG days before today so that each one's
# returns are all in: four weeks, as the weekday outlook, so the rate follows the season
# and every weekday weighs the same.
LEARN_DAYS = 28
# Fewer signed orders than this in the learning days city-wide and there is no model: a
# rate from a handful of orders would be noise drawn as a forecast (no prior is assumed).
MIN_ORDERS = 30
# A district's rate and pickup share are pulled towards the city's as if it had this many
# more orders (returns) at the city's figures: a new district starts at the city's rate.
SHRINK = 50
# Bounds on inputs: counts beyond this are not a platform's day (and overflow nothing).
MAX_COUNT = 10_000_000
MAX_DAYS_AHEAD = 14


def _count(name: str, n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_COUNT:
        raise ValueError(f"{name} must be a count between 0 and {MAX_COUNT}, got {n!r}")
    return n


@dataclass(frozen=True)
class WaveModel:
    """What history says: returns per signed order per district, when after signing they
    come, how many of them book a pickup, and how bookings spread over windows."""

    rates: Mapping[str, float]  # adcode → requests per signed order (lags 0 … MAX_LAG)
    city_rate: float
    lag: tuple[float, ...]  # P(lag = k | a request within MAX_LAG days), k = 0 … MAX_LAG
    pickup_shares: Mapping[str, float]  # adcode → pickups booked per request opened
    city_pickup_share: float
    orders: int  # signed orders learned from
    # P(window day − request day = j), j = 0 … MAX_LEAD; same day when no booking was learned.
    lead: tuple[float, ...] = (1.0,)

    def rate(self, adcode: str) -> float:
        """The district's requests per signed order (the city's for an unknown district)."""
        return self.rates.get(adcode, self.city_rate)

    def pickup_share(self, adcode: str) -> float:
        """The district's pickups booked per request (the city's for an unknown district)."""
        return self.pickup_shares.get(adcode, self.city_pickup_share)


def learn(
    signed: Mapping[str, int],
    lags: Mapping[tuple[str, int], int],
    opened: Mapping[str, int],
    booked: Mapping[str, int],
    leads: Mapping[int, int] | None = None,
) -> WaveModel | None:
    """The model from counts: orders signed per district over the learning days, their
    requests per (district, lag in days), requests opened and pickups booked per district
    over the same recent days, and requests per booking lead (days from the request to the
    window it booked, city-wide). None with fewer than ``MIN_ORDERS`` signed orders: no
    history gives no forecast, not a guess. Lags outside 0 … MAX_LAG are left out; a lead
    beyond MAX_LEAD counts as MAX_LEAD, a negative one (a clock's error) is left out; no
    leads at all keeps every pickup on its request's day."""
    leads = leads or {}
    for key, n in (*signed.items(), *lags.items(), *opened.items(), *booked.items()):
        _count(str(key), n)
    for j, n in leads.items():
        _count(f"lead {j}", n)
    total = sum(signed.values())
    if total < MIN_ORDERS:
        return None
    in_range = {k: n for k, n in lags.items() if 0 <= k[1] <= MAX_LAG}
    returned: dict[str, int] = {}
    per_lag = [0] * (MAX_LAG + 1)
    for (adcode, k), n in in_range.items():
        returned[adcode] = returned.get(adcode, 0) + n
        per_lag[k] += n
    all_returned = sum(per_lag)
    city_rate = all_returned / total
    lag = tuple(n / all_returned for n in per_lag) if all_returned else (0.0,) * (MAX_LAG + 1)
    rates = {a: (returned.get(a, 0) + SHRINK * city_rate) / (n + SHRINK) for a, n in signed.items()}
    all_opened = sum(opened.values())
    city_share = sum(booked.values()) / all_opened if all_opened else 0.0
    shares = {
        a: (booked.get(a, 0) + SHRINK * city_share) / (opened.get(a, 0) + SHRINK)
        for a in set(opened) | set(booked)
    }
    per_lead = [0] * (MAX_LEAD + 1)
    for j, n in leads.items():
        if j >= 0:
            per_lead[min(j, MAX_LEAD)] += n
    all_led = sum(per_lead)
    lead = tuple(n / all_led for n in per_lead) if all_led else (1.0,)
    return WaveModel(rates, city_rate, lag, shares, city_share, total, lead)


def fill_unsigned(
    signed: Mapping[tuple[str, date], int], today: date, recent_days: int = LEARN_DAYS
) -> dict[str, float]:
    """Per district, the median of the orders signed on each of the ``recent_days`` before
    today: what today and the coming days are assumed to add (they are not signed yet). The
    median, not the mean: a spike just signed must not be counted again as tomorrow's."""
    first = today - timedelta(days=recent_days)
    per_area: dict[str, list[int]] = {}
    for (adcode, day), n in signed.items():
        if first <= day < today:
            per_area.setdefault(adcode, []).append(_count("signed", n))
    out: dict[str, float] = {}
    for adcode, counts in per_area.items():
        days = sorted(counts + [0] * (recent_days - len(counts)))
        mid = len(days) // 2
        out[adcode] = float(days[mid]) if len(days) % 2 else (days[mid - 1] + days[mid]) / 2
    return out


def requests(
    model: WaveModel,
    signed: Mapping[tuple[str, date], int],
    today: date,
    days: Sequence[date],
    adcodes: Iterable[str],
    opened: Mapping[tuple[str, date], int] | None = None,
) -> dict[tuple[str, date], float]:
    """Expected return requests per (district, day) for ``days`` from ``MAX_LEAD`` days
    before ``today`` (their pickups may still come) to ``MAX_DAYS_AHEAD`` ahead. Signing days
    before today count the orders signed on them; today and later, not yet all signed, count
    the larger of what is signed and the recent daily median (``fill_unsigned``). With
    ``opened`` (requests opened per district and day), a day before today is the requests
    counted, not forecast; today, still open, the larger of the count so far and the
    forecast."""
    if any(not -MAX_LEAD <= (d - today).days <= MAX_DAYS_AHEAD for d in days):
        raise ValueError(
            f"forecast days are {MAX_LEAD} days before today to {MAX_DAYS_AHEAD} days ahead"
        )
    mean = fill_unsigned(signed, today)
    out: dict[tuple[str, date], float] = {}
    for adcode in adcodes:
        rate = model.rate(adcode)
        for day in days:
            if opened is not None and day < today:
                out[adcode, day] = float(_count("opened", opened.get((adcode, day), 0)))
                continue
            total = 0.0
            for k, p in enumerate(model.lag):
                s = day - timedelta(days=k)
                n = float(_count("signed", signed.get((adcode, s), 0)))
                if s >= today:
                    n = max(n, mean.get(adcode, 0.0))
                total += p * n
            out[adcode, day] = rate * total
            if opened is not None and day == today:
                out[adcode, day] = max(out[adcode, day], opened.get((adcode, day), 0))
    return out


def request_days(days: Iterable[date]) -> list[date]:
    """The request days whose pickups can land on the windows of ``days``: each day and the
    ``MAX_LEAD`` days before it."""
    wanted = {d - timedelta(days=j) for d in days for j in range(MAX_LEAD + 1)}
    return sorted(wanted)


def booking(
    model: WaveModel, expected: Mapping[tuple[str, date], float], adcode: str, day: date
) -> float:
    """The requests whose pickup lands on ``day``'s windows: the requests of each earlier
    day weighted by the chance that they book ``day`` (the booking lead). A request day
    missing from ``expected`` adds nothing."""
    return sum(
        p * expected.get((adcode, day - timedelta(days=j)), 0.0) for j, p in enumerate(model.lead)
    )


def pickups(model: WaveModel, adcode: str, expected_requests: float) -> float:
    """Pickup bookings the district's requests booking a day will make."""
    return expected_requests * model.pickup_share(adcode)


def window_shares(booked: Mapping[str, int], windows: Sequence[str]) -> dict[str, float]:
    """Each offered window's share of a district's bookings, from past bookings per window
    (add-one, so a window with no past bookings still gets a little). Windows no longer
    offered take no share; no windows, no shares."""
    if not windows:
        return {}
    counts = {w: _count("booked", booked.get(w, 0)) + 1 for w in windows}
    total = sum(counts.values())
    return {w: n / total for w, n in counts.items()}
