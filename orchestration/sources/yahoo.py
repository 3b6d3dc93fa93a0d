"""The Yahoo Finance source (yfinance). Not built yet: the production version is issue #4."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd


class YahooSource:
    name = "yahoo"

    def _not_built(self) -> None:
        raise NotImplementedError(
            "the yahoo source is not built yet (issue #4); run with VALUATION_SOURCE=sample "
            "and VALUATION_SAMPLE_DIR pointing at a snapshot"
        )

    def fetch_prices(self, symbols: Sequence[str], start: date | None = None) -> pd.DataFrame:
        self._not_built()

    def fetch_profiles(self, symbols: Sequence[str], snapshot_date: date) -> pd.DataFrame:
        self._not_built()

    def fetch_statements(self, symbols: Sequence[str]) -> pd.DataFrame:
        self._not_built()
