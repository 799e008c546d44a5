"""Where a preview axis puts its ticks and what they say: round numbers for values, whole days,
months or years for dates.

In: the range an axis shows. Out: ``(position, label)`` pairs inside it, about
:data:`TARGET` of them, at multiples of a round step (1, 2, 2.5 or 5 times a power of ten;
for dates a whole number of days, months or years).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

#: ticks an axis aims for (it gets between 3 and 8 on a range that is not empty)
TARGET = 5
_MANTISSAS = (1.0, 2.0, 2.5, 5.0, 10.0)
_EPOCH = datetime(1970, 1, 1)
#: day counts (since 1970-01-01) of 0001-01-01 and 9999-12-31, the dates Python can name
FIRST_DAY, LAST_DAY = -719_162.0, 2_932_896.0

Tick = tuple[float, str]


def number_ticks(low: float, high: float, target: int = TARGET) -> list[Tick]:
    """Round-number ticks inside ``[low, high]``, labelled with as many decimals as the step
    needs (thousands separated; very large or small magnitudes in scientific notation)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        return [(low, number_label(low, 0.0))]
    step = _round_step((high - low) / target)
    if step == 0.0 or not math.isfinite(step):
        return [(low, number_label(low, 0.0)), (high, number_label(high, 0.0))]
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    if last - first > 4 * target:  # float rounding on a range far from zero
        return [(low, number_label(low, 0.0)), (high, number_label(high, 0.0))]
    digits = max(0, 1 - math.floor(math.log10(step)))  # 0.6, not 0.6000..01
    values = [round(k * step, digits) for k in range(first, last + 1)]
    widest = max(abs(low), abs(high))
    return [
        (0.0 if abs(v) < step * 1e-9 else v, number_label(v, step, widest))
        for v in values
        if low <= v <= high
    ]


def _round_step(raw: float) -> float:
    """The smallest round step (mantissa 1, 2, 2.5 or 5) at least ``raw``."""
    if raw <= 0 or not math.isfinite(raw):
        return 0.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in _MANTISSAS if m * power >= raw * (1 - 1e-12))


def number_label(value: float, step: float, widest: float | None = None) -> str:
    """``value`` as a tick label on an axis with ticks ``step`` apart whose largest magnitude
    is ``widest`` (which picks plain or scientific notation for all its labels alike)."""
    if abs(value) < abs(step) * 1e-9:
        value = 0.0
    magnitude = max(abs(value) if widest is None else widest, abs(step))
    if magnitude >= 1e7 or (0 < magnitude < 1e-4):
        return f"{value:.3g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")
    decimals = 0 if step == 0 else max(0, -math.floor(math.log10(abs(step)) + 1e-12))
    if step and round(step / 10.0**-decimals, 6) % 1:  # a step of 2.5 x 10^k
        decimals += 1
    return f"{value:,.{decimals}f}"


def date_ticks(low: float, high: float) -> list[Tick]:
    """Ticks of an axis of days since 1970-01-01 (fractions are times of day), at whole
    hours, days, months or years, labelled as ISO dates (times when the range is under two
    days). Beyond the dates Python can name, the labels are day counts."""
    if not (FIRST_DAY <= low <= LAST_DAY and FIRST_DAY <= high <= LAST_DAY) or high < low:
        return number_ticks(low, high)
    span = high - low
    if span < 2:
        hours = [h for h in (1, 2, 3, 6, 12, 24) if span * 24 / h <= 6] or [24]
        step = hours[0] / 24
        first = math.ceil(low / step - 1e-9)
        days = [k * step for k in range(first, math.floor(high / step + 1e-9) + 1)]
        return [(d, _moment(d).strftime("%m-%d %H:%M")) for d in days]
    if span < 60:
        step = next(s for s in (1, 2, 7, 14) if span / s <= 6)
        first = math.ceil(low / step)
        days = [k * step for k in range(first, math.floor(high / step) + 1)]
        return [(float(d), _moment(d).strftime("%Y-%m-%d")) for d in days]
    if span < 3 * 365:
        months = next(m for m in (1, 2, 3, 6, 12) if span / 30.4 / m <= 7)
        return _month_ticks(low, high, months)
    years = _round_step(span / 365.25 / TARGET)
    years = max(1, int(round(years)))
    start = _moment(low).year
    ticks = []
    for year in range((start // years) * years, _moment(high).year + 1, years):
        if 1 <= year <= 9999:
            day = _day(datetime(year, 1, 1))
            if low <= day <= high:
                ticks.append((day, f"{year:04d}"))
    return ticks


def _month_ticks(low: float, high: float, months: int) -> list[Tick]:
    start = _moment(low)
    index = start.year * 12 + start.month - 1
    if start != datetime(start.year, start.month, 1):  # the next first of a month
        index += 1
    index = -(-index // months) * months
    ticks = []
    while True:
        year, month = divmod(index, 12)
        if year > 9999:
            break
        day = _day(datetime(year, month + 1, 1))
        if day > high:
            break
        if day >= low:
            ticks.append((day, f"{year:04d}-{month + 1:02d}"))
        index += months
    return ticks


def _moment(days: float) -> datetime:
    return _EPOCH + timedelta(days=days)


def _day(moment: datetime) -> float:
    return (moment - _EPOCH) / timedelta(days=1)
