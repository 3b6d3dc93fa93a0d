"""The sample source replays a snapshot directory, and is only ever chosen explicitly.

It hands over every file's rows as text, one vintage per file; validation and the choice among
vintages happen after it. A file it cannot read is quarantined by name, and the others load.
"""

import shutil
from datetime import date

import pytest

from orchestration.sources import Instrument, SampleSource, SourceError, StatementPlan, YahooSource, make_source
from orchestration.normalize.prices import SOURCE_COLUMNS
from orchestration.warehouse.schema import FINANCIAL_STATEMENTS
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


def test_yahoo_is_chosen_only_by_name():
    assert make_source("yahoo").name == "yahoo" and make_source("sample", str(FIXTURE_SNAPSHOT)).name == "sample"


def test_prices_come_back_as_text_with_their_file_and_line():
    source = SampleSource(FIXTURE_SNAPSHOT)
    fetched = source.fetch_prices([Instrument("DRGN", "USD", "raw"), Instrument("USDHKD=X", "HKD_per_USD", "fx")], {})
    frame = fetched.frame
    assert fetched.failures == {} and fetched.requests == 0 and fetched.quarantined == {}
    assert list(frame.columns) == SOURCE_COLUMNS + ["vintage", "line"]
    assert sorted(frame["symbol"].unique()) == ["DRGN", "USDHKD=X"]
    drgn = frame[(frame["symbol"] == "DRGN") & (frame["date"] == "2025-01-08")]
    # us_fixture.csv line 11: 2025-01-08,DRGN,USD,78,81,77,80,80,500,,,raw,fixture
    assert drgn[["open", "close", "volume", "dividends"]].values.tolist() == [["78", "80", "500", ""]]
    assert drgn[["vintage", "line"]].values.tolist() == [[str(FIXTURE_SNAPSHOT / "prices" / "us_fixture.csv"), 11]]
    assert len(frame[frame["symbol"] == "USDHKD=X"]) == 4  # 2025-01-08 has no quote in the snapshot


def test_a_symbol_missing_from_the_snapshot_is_reported():
    fetched = SampleSource(FIXTURE_SNAPSHOT).fetch_prices([Instrument("ACME", "USD", "raw"), Instrument("^IXIC", "index_points", "index")], {})
    assert fetched.failures == {"^IXIC": "not in the snapshot"}
    assert set(fetched.frame["symbol"]) == {"ACME"}


def test_statements_pass_over_a_known_other_layout_without_quarantining_it():
    fetched = SampleSource(FIXTURE_SNAPSHOT).fetch_statements([StatementPlan("DRGN", "CNY", 8), StatementPlan("ACME", "USD")])
    assert list(fetched.frame.columns[: len(FINANCIAL_STATEMENTS.data_columns)]) == FINANCIAL_STATEMENTS.data_columns
    # 45 rows in fixture_statements.csv; narrative_quotes.csv is in the known narrative layout: named, not loaded
    assert len(fetched.frame) == 45 and fetched.quarantined == {} and fetched.failures == {}
    narrative = FIXTURE_SNAPSHOT / "fundamentals" / "narrative_quotes.csv"
    assert fetched.warnings == [f"passed over {narrative}: in the layout of narrative figures (company, ticker_us, ...)"]


@pytest.mark.parametrize(
    "name, content, problem",
    [
        ("renamed.csv", "date,symbol,currency,open,high,low,close,adj_close,volume,dividends,stock_splits,price_basis\n", "header"),
        ("semicolons.csv", "date;ticker;currency;open\n2025-01-06;ACME;USD;1\n", "header"),
        ("empty.csv", "", "empty file"),
        ("latin1.csv", b"date,ticker,currency,open,high,low,close,adj_close,volume,dividends,stock_splits,price_basis\n2025-01-06,ACM\xc9,USD,1,1,1,1,1,1,,,raw\n", "not UTF-8"),
        ("ragged.csv", "date,ticker,currency,open,high,low,close,adj_close,volume,dividends,stock_splits,price_basis\n2025-01-06,ACME,USD,1,1,1,1,1,1,,,raw,extra\n", "line 2 has 13 fields"),
        ("folder.csv", None, "not a regular file"),
    ],
)
def test_an_unreadable_price_file_is_quarantined_by_name_and_the_others_load(tmp_path, name, content, problem):
    (tmp_path / "prices").mkdir()
    good = (FIXTURE_SNAPSHOT / "prices").iterdir()
    for path in good:
        (tmp_path / "prices" / path.name).write_bytes(path.read_bytes())
    bad = tmp_path / "prices" / name
    if content is None:
        bad.mkdir()
    else:
        bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    fetched = SampleSource(tmp_path).fetch_prices([Instrument("ACME", "USD", "raw")], {})
    assert list(fetched.quarantined) == [str(bad)] and problem in fetched.quarantined[str(bad)]
    assert len(fetched.frame) > 0 and set(fetched.frame["symbol"]) == {"ACME"}, "the other files still load"


def test_a_snapshot_without_profiles_reports_every_symbol():
    fetched = SampleSource(FIXTURE_SNAPSHOT).fetch_profiles(["DRGN"], date(2025, 1, 31))
    assert fetched.frame.empty and fetched.failures == {"DRGN": "no profile in the snapshot"}


def _snapshot_with(tmp_path, folder: str, files: dict[str, str]):
    """The fixture snapshot plus `files` (name -> text) in `folder`."""
    shutil.copytree(FIXTURE_SNAPSHOT, tmp_path / "snapshot")
    (tmp_path / "snapshot" / folder).mkdir(exist_ok=True)
    for name, text in files.items():
        (tmp_path / "snapshot" / folder / name).write_text(text)
    return tmp_path / "snapshot"


PROFILE_HEADER = ("symbol,snapshot_date,name,exchange,currency,financial_currency,sector,industry,country,"
                  "shares_outstanding,market_cap,trailing_pe,forward_pe,enterprise_value")  # fmt: skip


def test_a_profile_file_without_every_column_is_quarantined_by_name_and_the_others_load(tmp_path):
    snapshot = _snapshot_with(tmp_path, "profiles", {
        "good.csv": f"{PROFILE_HEADER}\nDRGN,2025-01-30,Dragon Holdings,NMS,USD,CNY,Technology,Software,China,1000,,,,\n",
        "short.csv": "symbol,snapshot_date,name\nACME,2025-01-30,Acme\n",
    })  # fmt: skip
    fetched = SampleSource(snapshot).fetch_profiles(["DRGN", "ACME"], date(2025, 1, 31))
    short = str(snapshot / "profiles" / "short.csv")
    assert list(fetched.quarantined) == [short]
    assert fetched.quarantined[short] == f"header 'symbol,snapshot_date,name' is not the expected '{PROFILE_HEADER}'..."
    assert fetched.frame[["symbol", "name", "currency", "financial_currency", "shares_outstanding", "market_cap"]].values.tolist() == [
        ["DRGN", "Dragon Holdings", "USD", "CNY", "1000", None]]  # fmt: skip
    assert fetched.failures == {"ACME": f"no profile in the snapshot (among the readable files; 1 quarantined: {short})"}


def test_a_file_that_is_not_a_csv_is_named_not_lost(tmp_path):
    snapshot = _snapshot_with(tmp_path, "prices", {"us_2025.csv.gz": "compressed", "notes.txt": "prices to add"})
    fetched = SampleSource(snapshot).fetch_prices([Instrument("ACME", "USD", "raw")], {})
    assert fetched.warnings == [f"passed over {snapshot / 'prices' / 'notes.txt'}: not a .csv file",
                                f"passed over {snapshot / 'prices' / 'us_2025.csv.gz'}: not a .csv file"]  # fmt: skip
    assert fetched.failures == {} and fetched.quarantined == {}


def test_a_symbol_missing_beside_a_quarantined_statements_file_says_the_file_may_have_held_it(tmp_path):
    snapshot = _snapshot_with(tmp_path, "fundamentals", {"broken.csv": "company;period\nACME;Q1\n"})
    fetched = SampleSource(snapshot).fetch_statements([StatementPlan("DRGN", "CNY", 8), StatementPlan("NOPE", "USD")])
    broken = str(snapshot / "fundamentals" / "broken.csv")
    assert list(fetched.quarantined) == [broken]
    assert fetched.failures == {"NOPE": f"no statements in the snapshot (among the readable files; 1 quarantined: {broken})"}
