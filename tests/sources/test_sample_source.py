"""The sample source replays a snapshot directory, and is only ever chosen explicitly."""

from datetime import date

import pytest

from orchestration.sources import Instrument, SampleSource, SourceError, YahooSource, make_source
from orchestration.warehouse.schema import FINANCIAL_STATEMENTS, PRICES
from tests.conftest import FIXTURE_SNAPSHOT


def test_the_source_must_be_named():
    with pytest.raises(SourceError, match="set VALUATION_SOURCE to one of sample, yahoo"):
        make_source(None)
    with pytest.raises(SourceError, match="unknown or unset market data source 'yahooo'"):
        make_source("yahooo")


def test_the_sample_source_needs_a_snapshot(tmp_path):
    with pytest.raises(SourceError, match="needs a snapshot directory"):
        make_source("sample", None)
    with pytest.raises(SourceError, match="has no prices/ folder"):
        make_source("sample", str(tmp_path))


def test_yahoo_is_chosen_only_by_name(monkeypatch):
    assert isinstance(make_source("yahoo"), YahooSource)


def test_prices_come_back_normalized_for_the_symbols_asked():
    source = SampleSource(FIXTURE_SNAPSHOT)
    fetched = source.fetch_prices([Instrument("DRGN", "USD", "raw"), Instrument("USDHKD=X", "HKD_per_USD", "fx")], {})
    frame = fetched.frame
    assert fetched.failures == {} and fetched.requests == 0
    assert list(frame.columns) == PRICES.data_columns
    assert sorted(frame["symbol"].unique()) == ["DRGN", "USDHKD=X"]
    drgn = frame[frame["symbol"] == "DRGN"].set_index("date")
    assert drgn.loc[date(2025, 1, 8), "close"] == 80.0
    assert len(frame[frame["symbol"] == "USDHKD=X"]) == 4  # 2025-01-08 has no quote in the snapshot


def test_start_date_limits_the_rows():
    fetched = SampleSource(FIXTURE_SNAPSHOT).fetch_prices([Instrument("ACME", "USD", "raw")], {"ACME": date(2025, 1, 9)})
    assert sorted(fetched.frame["date"]) == [date(2025, 1, 9), date(2025, 1, 10)]


def test_a_symbol_missing_from_the_snapshot_is_reported():
    fetched = SampleSource(FIXTURE_SNAPSHOT).fetch_prices([Instrument("ACME", "USD", "raw"), Instrument("^IXIC", "index_points", "index")], {})
    assert fetched.failures == {"^IXIC": "not in the snapshot"}
    assert set(fetched.frame["symbol"]) == {"ACME"}


def test_statements_skip_files_in_another_layout():
    frame = SampleSource(FIXTURE_SNAPSHOT).fetch_statements(["DRGN", "ACME"]).frame
    assert list(frame.columns) == FINANCIAL_STATEMENTS.data_columns
    # 45 rows in fixture_statements.csv; narrative_quotes.csv is not a statement file
    assert len(frame) == 45


def test_a_snapshot_without_profiles_gives_an_empty_frame():
    assert SampleSource(FIXTURE_SNAPSHOT).fetch_profiles(["DRGN"], date(2025, 1, 31)).frame.empty
