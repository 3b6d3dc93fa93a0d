"""A fake Yahoo behind the real yfinance 1.7 code.

Only the network edge is replaced: `FakeTicker` stands in for `yfinance.Ticker`, both where the
source calls it directly and where yfinance's own `download()` calls it per symbol. So the real
yfinance code assembles the MultiIndex frame, aligns the tickers' dates, and logs per-symbol
errors exactly as it does against Yahoo. The frames FakeTicker returns have the shapes of
yfinance 1.7 (read from its source): tz-aware daily index in the exchange's time zone, int64
volume, statements with line items as rows and period ends as columns, newest first.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd
import yfinance
from yfinance.exceptions import YFPricesMissingError, YFRateLimitError


@dataclass
class FakeMarket:
    """What the fake Yahoo knows, and the failures it is scripted to answer with."""

    bars: dict[str, pd.DataFrame] = field(default_factory=dict)
    infos: dict[str, dict] = field(default_factory=dict)
    statements: dict[tuple[str, str, str], pd.DataFrame] = field(default_factory=dict)  # (symbol, method, freq)
    earnings: dict[str, pd.DataFrame] = field(default_factory=dict)
    # (symbol, call) -> exceptions to raise on successive calls; None lets a call through
    scripted: dict[tuple[str, str], list] = field(default_factory=lambda: defaultdict(list))
    calls: Counter = field(default_factory=Counter)
    history_starts: list = field(default_factory=list)  # (symbol, start) of every history call

    def add_bars(self, symbol: str, tz: str, rows: list[tuple], dividends=None, splits=None) -> None:
        """rows: (date, open, high, low, close, adj_close, volume)."""
        index = pd.DatetimeIndex([pd.Timestamp(r[0]).tz_localize(tz) for r in rows], name="Date")
        frame = pd.DataFrame(
            [r[1:] for r in rows], index=index, columns=["Open", "High", "Low", "Close", "Adj Close", "Volume"]
        )
        frame["Volume"] = frame["Volume"].astype(np.int64)
        frame["Dividends"] = [float((dividends or {}).get(r[0], 0.0)) for r in rows]
        frame["Stock Splits"] = [float((splits or {}).get(r[0], 0.0)) for r in rows]
        self.bars[symbol] = frame

    def fail(self, symbol: str, call: str, *errors) -> None:
        self.scripted[(symbol, call)].extend(errors)

    def check(self, symbol: str, call: str) -> None:
        self.calls[call] += 1
        queue = self.scripted.get((symbol, call))
        if queue:
            error = queue.pop(0)
            if error is not None:
                raise error


def make_fake_ticker(market: FakeMarket):
    class FakeTicker:
        def __init__(self, ticker, session=None):
            self.ticker = ticker.upper()
            self._price_history = SimpleNamespace(_last_error=None)

        def history(self, period=None, interval="1d", start=None, end=None, prepost=False, actions=True,
                    auto_adjust=True, back_adjust=False, repair=False, keepna=False, rounding=False,
                    timeout=10, **_):  # fmt: skip
            assert auto_adjust is False, "the source must keep the traded close (auto_adjust=False)"
            market.history_starts.append((self.ticker, start))
            market.check(self.ticker, "history")
            if self.ticker not in market.bars:
                raise YFPricesMissingError(self.ticker, f"(period={period})")
            frame = market.bars[self.ticker]
            if start is not None:
                frame = frame[frame.index.tz_localize(None) >= pd.Timestamp(start)]
            if not actions:
                frame = frame.drop(columns=["Dividends", "Stock Splits"])
            if not keepna:  # as yfinance: drop rows whose data is all NaN or zero
                data = frame.drop(columns=[c for c in ("Dividends", "Stock Splits") if c not in frame])
                frame = frame[~(data.isna() | (data == 0)).all(axis=1)]
            return frame.copy()

        @property
        def info(self):
            market.check(self.ticker, "info")
            return dict(market.infos.get(self.ticker, {"trailingPegRatio": None}))

        def _statement(self, method, freq):
            market.check(self.ticker, method)
            return market.statements.get((self.ticker, method, freq), pd.DataFrame()).copy()

        def get_income_stmt(self, as_dict=False, pretty=False, freq="yearly"):
            return self._statement("get_income_stmt", freq)

        def get_balance_sheet(self, as_dict=False, pretty=False, freq="yearly"):
            return self._statement("get_balance_sheet", freq)

        def get_cash_flow(self, as_dict=False, pretty=False, freq="yearly"):
            return self._statement("get_cash_flow", freq)

        def get_earnings_dates(self, limit=12, offset=0):
            market.check(self.ticker, "get_earnings_dates")
            return market.earnings.get(self.ticker)

    return FakeTicker


class FakeYfinance:
    """The `yfinance` module as the source uses it: real download(), fake Ticker, real config."""

    def __init__(self, market: FakeMarket, monkeypatch):
        self.Ticker = make_fake_ticker(market)
        monkeypatch.setattr(yfinance.multi, "Ticker", self.Ticker)
        self.download = yfinance.download
        self.config = yfinance.config


def statement_frame(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """{line item: {period end: value}} -> yfinance's shape: items x period ends, newest first."""
    frame = pd.DataFrame(rows).T
    frame.columns = pd.to_datetime(frame.columns)
    frame = frame[sorted(frame.columns, reverse=True)].astype(float)
    return frame


def earnings_frame(rows: list[tuple[str, float | None, float | None]]) -> pd.DataFrame:
    """(release time 'YYYY-MM-DD HH:MM' New York, EPS estimate, reported EPS) -> get_earnings_dates()."""
    index = pd.DatetimeIndex([pd.Timestamp(r[0]).tz_localize("America/New_York") for r in rows], name="Earnings Date")
    return pd.DataFrame(
        {"EPS Estimate": [r[1] for r in rows], "Reported EPS": [r[2] for r in rows],
         "Surprise(%)": [None for _ in rows]},  # fmt: skip
        index=index,
    )


RATE_LIMITED = YFRateLimitError
