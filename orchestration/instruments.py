"""What a price series is, shared by the universe, the sources and the normalizers."""

from __future__ import annotations

from dataclasses import dataclass

FX_CALENDAR = "24/5"  # FX trades round the clock on weekdays (an exchange-calendars code)


@dataclass(frozen=True)
class Instrument:
    symbol: str
    currency: str  # USD, HKD; index_points; HKD_per_USD for an FX pair
    price_basis: str  # raw (a listing), index, fx
    calendar: str | None = None  # exchange-calendars code whose sessions the bars belong to
    timezone: str | None = None  # the exchange's time zone (Yahoo's exchangeTimezoneName)
