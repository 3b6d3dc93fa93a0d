"""What a price series is, shared by the universe, the sources and the normalizers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Instrument:
    symbol: str
    currency: str  # USD, HKD; index_points; HKD_per_USD for an FX pair
    price_basis: str  # raw (a listing), index, fx
