"""Price validation, and the choice among downloads ("vintages"), without Dagster.

Expected values are worked by hand in each test.
"""

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestration.normalize.prices import SOURCE_COLUMNS, choose_prices, validate_prices
from orchestration.warehouse.schema import PRICES

AS_OF = date(2025, 1, 31)
NO_SPLITS = pd.DataFrame({"symbol": [], "ex_date": [], "split_ratio": []})


def bar(symbol="ACME", day="2025-01-06", close=100.0, low=None, high=None, volume=1000.0, currency="USD",
        basis="raw", vintage="a.csv", adj_close=None, dividends=None, **extra):  # fmt: skip
    low = close if low is None else low
    high = close if high is None else high
    row = {"symbol": symbol, "date": day, "open": close, "high": high, "low": low, "close": close,
           "adj_close": close if adj_close is None else adj_close, "volume": volume, "dividends": dividends,
           "stock_splits": None, "currency": currency, "price_basis": basis, "vintage": vintage, "line": 2}  # fmt: skip
    row.update(extra)
    return row


def validate(*rows, splits=frozenset()):
    return validate_prices(pd.DataFrame(list(rows)), AS_OF, {"ACME": "USD", "9999.HK": "HKD"}, set(splits))


def series(closes: dict[str, float], **kwargs) -> list[dict]:
    return [bar(day=day, close=close, **kwargs) for day, close in closes.items()]


def test_good_rows_pass_with_the_contract_columns():
    result = validate(bar(), bar(day="2025-01-07", close=101.0))
    assert list(result.rows.columns[: len(SOURCE_COLUMNS)]) == SOURCE_COLUMNS
    assert len(result.rows) == 2 and result.rejected.empty
    assert result.rows["date"].tolist() == [date(2025, 1, 6), date(2025, 1, 7)]


@pytest.mark.parametrize(
    "row, reason",
    [
        (bar(close=None), "missing_close"),
        (bar(close=float("inf"), high=float("inf")), "non_finite_price"),
        (bar(close=0.0, low=0.0), "non_positive_price"),
        (bar(close=100.0, low=102.0, high=101.0), "high_below_low"),
        (bar(close=105.0, low=99.0, high=101.0), "close_outside_low_high"),
        (bar(volume=-1.0), "negative_or_fractional_volume"),
        (bar(volume=10.5), "negative_or_fractional_volume"),
        (bar(adj_close=100.5), "adj_close_above_close"),
        (bar(day="2025-02-01"), "future_date"),
        (bar(day="2025-02-30"), "unparseable_date"),
        (bar(day="06/01/2025"), "unparseable_date"),
        (bar(volume="12a4"), "unparseable_number"),
        (bar(symbol="9999.HK", currency="USD"), "currency_mismatch"),
        (bar(basis="weird"), "unknown_price_basis"),
    ],
)
def test_each_bad_row_is_rejected_with_its_reason_and_its_original_text(row, reason):
    result = validate(row, bar(day="2025-01-07"))
    assert len(result.rows) == 1, "the good row still loads"
    assert result.rejected["reason"].tolist() == [reason]
    payload = json.loads(result.rejected["payload"][0])
    assert payload["vintage"] == "a.csv" and payload["line"] == 2, "the file and line are named"
    assert payload["date"] == row["date"], "the date as it came, not a parsed version that lost it"


def test_a_bad_row_never_wins_a_duplicate_over_a_good_one():
    # The first of the two rows is the bad one (close outside its own range): it is rejected for
    # that, and the good second row loads.
    result = validate(bar(close=100.0, low=101.0, high=102.0), bar(close=100.5))
    assert result.rows["close"].tolist() == [100.5]
    assert result.rejected["reason"].tolist() == ["close_outside_low_high"]


def test_two_different_valid_rows_for_one_day_in_one_file_are_both_held_back():
    result = validate(bar(close=100.0), bar(close=100.5))
    assert result.rows.empty
    assert sorted(result.rejected["reason"]) == ["conflicting_duplicate", "conflicting_duplicate"]


def test_the_same_row_twice_loads_once():
    result = validate(bar(), bar())
    assert len(result.rows) == 1 and result.rejected.empty  # one fact, nothing lost


def test_a_hundredfold_close_is_held_back_unless_another_download_confirms_it():
    days = {"2025-01-06": 100.0, "2025-01-07": 10_000.0, "2025-01-08": 101.0}
    alone = validate(*series(days))
    assert alone.rejected["reason"].tolist() == ["implausible_move"]
    assert alone.rows["close"].tolist() == [100.0, 101.0]
    # a second download with the same close that day confirms it (a real move, however odd)
    confirmed = validate(*series(days), bar(day="2025-01-07", close=10_000.0, vintage="b.csv"))
    assert confirmed.rejected.empty


def test_a_jump_on_a_split_day_is_explained():
    days = {"2025-01-06": 1000.0, "2025-01-07": 100.0, "2025-01-08": 101.0}
    assert validate(*series(days)).rejected["reason"].tolist() == ["implausible_move"]
    assert validate(*series(days), splits={("ACME", date(2025, 1, 7))}).rejected.empty


def choose(*rows, splits=NO_SPLITS):
    valid = validate(*rows)
    assert valid.rejected.empty, valid.rejected
    choice = choose_prices(valid.rows, splits)
    assert choice.rejected.empty, choice.rejected
    return choice.rows.set_index("date")


def test_an_older_download_is_put_on_todays_split_basis_by_the_split_events():
    # The older file was downloaded before a 10:1 split effective 2025-01-08 (its last day is the
    # 7th): its closes are divided by 10, its volumes multiplied. The newer one already is.
    splits = pd.DataFrame({"symbol": ["ACME"], "ex_date": [date(2025, 1, 8)], "split_ratio": [10.0]})
    older = series({"2025-01-06": 500.0, "2025-01-07": 510.0}, vintage="old.csv")
    newer = series({"2025-01-07": 51.0, "2025-01-08": 52.0}, vintage="new.csv")
    chosen = choose(*older, *newer, splits=splits)
    assert chosen["close"].tolist() == [500.0 / 10, 51.0, 52.0]
    assert chosen["volume"].tolist() == [1000.0 * 10, 1000.0, 1000.0]


def test_one_row_dated_in_the_future_cannot_change_a_files_split_basis():
    # Without validation first, a 2031 row made the older file look newer than the split, and every
    # close of the symbol stayed 10x.
    splits = pd.DataFrame({"symbol": ["ACME"], "ex_date": [date(2025, 1, 8)], "split_ratio": [10.0]})
    older = series({"2025-01-06": 500.0, "2025-01-07": 510.0}, vintage="old.csv")
    stray = bar(day="2031-01-01", close=510.0, vintage="old.csv")
    valid = validate(*older, stray, bar(day="2025-01-08", close=52.0, vintage="new.csv"))
    assert valid.rejected["reason"].tolist() == ["future_date"]
    chosen = choose_prices(valid.rows, splits).rows.set_index("date")
    assert chosen["close"].tolist() == [50.0, 51.0, 52.0]


def test_the_traded_close_is_recovered_from_an_adjusted_downloads_own_dividends():
    # Traded closes 102 then 101 on the ex-date of a dividend of 2. Yahoo adjusts the day before by
    # 1 - 2/102 = 100/102: adjusted closes 100 and 101. Recovery: 100 / (100/102) = 102.
    adjusted = [bar(day="2025-01-06", close=100.0, basis="adjusted", dividends=0.0),
                bar(day="2025-01-07", close=101.0, basis="adjusted", dividends=2.0)]  # fmt: skip
    chosen = choose(*adjusted)
    assert chosen["close"].tolist() == pytest.approx([102.0, 101.0], rel=1e-12)
    assert chosen["price_basis"].tolist() == ["from_dividends", "from_dividends"]
    assert chosen["adj_close"].tolist() == [100.0, 101.0], "returns keep the adjusted series"


def test_without_dividends_an_adjusted_close_is_no_traded_close():
    chosen = choose(bar(close=99.0, basis="adjusted"))
    assert np.isnan(chosen["close"].iloc[0]) and chosen["price_basis"].tolist() == ["adjusted"]
    assert chosen["adj_close"].tolist() == [99.0]


def test_traded_closes_win_and_adjusted_closes_form_one_continuous_series():
    # A traded download, and a newer adjusted one that is 99/102 of it on their common day.
    raw = series({"2020-12-30": 100.0, "2020-12-31": 101.0, "2021-01-04": 102.0}, vintage="raw.csv")
    adjusted = series({"2021-01-04": 99.0, "2021-01-05": 98.0}, vintage="adj.csv", basis="adjusted")
    chosen = choose(*raw, *adjusted)
    assert chosen["close"].tolist()[:3] == [100.0, 101.0, 102.0]  # traded wherever known
    assert chosen["price_basis"].tolist() == ["raw", "raw", "raw", "adjusted"]
    # the larger download anchors the series; the adjusted one joins it at their common day, so the
    # return from 2021-01-04 to 01-05 is the adjusted download's own, 98/99 - 1
    assert chosen["adj_close"].tolist() == pytest.approx([100.0, 101.0, 102.0, 98.0 * 102.0 / 99.0])


def test_an_unknown_volume_is_no_bad_volume():
    # indices and FX often have no volume at all: missing is not negative or fractional
    assert validate(bar(volume=None), bar(day="2025-01-07", volume=float("nan"))).rejected.empty


def test_fx_close_outside_the_bar_range_is_kept():
    # Yahoo's FX close is a fixing outside the bar's window: 7.8354 above a high of 7.8353 is real data.
    fx = bar(symbol="USDHKD=X", close=7.835400104522705, low=7.829899787902832, high=7.835299968719482,
             currency="HKD_per_USD", basis="fx", volume=0.0)  # fmt: skip
    result = validate(fx)
    assert len(result.rows) == 1 and result.rejected.empty


def test_an_empty_symbol_is_rejected():
    # found by the property test (tests/faults/test_properties.py): "" slipped past a null check
    result = validate(bar(symbol=""), bar())
    assert result.rejected["reason"].tolist() == ["missing_symbol"] and len(result.rows) == 1


def test_a_one_day_download_whose_adjusted_close_jumps_is_held_back():
    # A newer file with one new day whose adj_close has a typo (31.7 for 317.0): nothing in its own
    # file can reveal it, the spliced series can. The traded close is fine; the row is held back.
    history = series({"2025-01-06": 316.0, "2025-01-07": 317.5}, vintage="big.csv")
    typo = bar(day="2025-01-08", close=317.0, adj_close=31.7, vintage="new.csv")
    valid = validate(*history, typo)
    choice = choose_prices(valid.rows, NO_SPLITS)
    assert choice.rows["date"].tolist() == [date(2025, 1, 6), date(2025, 1, 7)]
    assert choice.rejected["reason"].tolist() == ["implausible_move"]
    assert json.loads(choice.rejected["payload"][0])["vintage"] == "new.csv"


def test_a_small_new_download_does_not_rebase_the_adjusted_history():
    # The larger download anchors the adjusted series; a two-day file is rescaled onto it.
    big = series({"2025-01-06": 100.0, "2025-01-07": 101.0, "2025-01-08": 102.0}, vintage="big.csv")
    small = [bar(day="2025-01-08", close=102.0, adj_close=51.0, vintage="small.csv"),
             bar(day="2025-01-09", close=103.0, adj_close=51.5, vintage="small.csv")]  # fmt: skip
    chosen = choose(*big, *small)
    assert chosen["adj_close"].tolist() == [100.0, 101.0, 102.0, 103.0]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["ACME", "^GSPC", "CNY=X"]), st.integers(min_value=0, max_value=30),
                          st.floats(min_value=1.0, max_value=500.0), st.floats(min_value=0.5, max_value=1.0)),
                min_size=1, max_size=40))  # fmt: skip
def test_the_vectorized_single_download_path_is_the_general_rule(bars):
    """A symbol with one download takes the fast path of choose_prices; the general per-symbol rule
    (_choose_symbol) must give exactly the same rows."""
    from datetime import timedelta

    from orchestration.normalize.prices import _choose_symbol, choose_prices, coerce_price_types

    basis = {"ACME": "raw", "^GSPC": "index", "CNY=X": "fx"}
    rows = pd.DataFrame([{"symbol": s, "date": date(2025, 1, 1) + timedelta(days=d), "open": c, "high": c, "low": c,
                          "close": c, "adj_close": None if basis[s] != "raw" else c * f, "volume": 1000.0,
                          "dividends": None, "stock_splits": None, "currency": "USD", "price_basis": basis[s],
                          "vintage": "one.csv", "line": i + 2} for i, (s, d, c, f) in enumerate(bars)])  # fmt: skip
    rows = coerce_price_types(rows.drop_duplicates(subset=["symbol", "date"]))  # typed, as validation leaves them
    no_splits = pd.DataFrame({"symbol": pd.Series(dtype=object), "ex_date": pd.Series(dtype=object), "split_ratio": pd.Series(dtype=float)})
    fast = choose_prices(rows, no_splits)
    general = pd.concat([_choose_symbol(group, no_splits) for _, group in rows.groupby("symbol")], ignore_index=True)
    held = set(zip(*[pd.Series([json.loads(p)["symbol"] for p in fast.rejected["payload"]]),
                     pd.Series([json.loads(p)["date"] for p in fast.rejected["payload"]])])) if len(fast.rejected) else set()  # fmt: skip
    general = general[[(s, d.isoformat()) not in held for s, d in zip(general["symbol"], general["date"])]]
    order = ["symbol", "date"]
    pd.testing.assert_frame_equal(
        fast.rows.sort_values(order, ignore_index=True)[PRICES.data_columns],
        general.sort_values(order, ignore_index=True)[PRICES.data_columns].astype(fast.rows.dtypes.to_dict()),
        check_dtype=False,
    )


def test_a_bar_without_an_adjusted_close_gets_the_traded_return_chained():
    # Yahoo's newest bar without an Adj Close: 98 x 102 / 100 = 99.96, the traded return of the day
    chosen = choose(bar(day="2025-01-06", close=100.0, adj_close=98.0), bar(day="2025-01-07", close=102.0, adj_close=""))
    assert chosen["adj_close"].tolist() == pytest.approx([98.0, 99.96], rel=1e-12)
    assert chosen["adj_close_basis"].tolist() == ["download", "chained"]
    assert chosen["close"].tolist() == [100.0, 102.0], "the traded close is untouched"


def test_no_return_is_chained_across_a_dividend():
    # A dividend of 2 on 01-07: the adjusted return is not the traded one, and is unknown here; the
    # chain stays broken until a download gives an adjusted close again.
    chosen = choose(bar(day="2025-01-06", close=100.0, adj_close=98.0),
                    bar(day="2025-01-07", close=101.0, adj_close="", dividends=2.0),
                    bar(day="2025-01-08", close=103.0, adj_close=""))  # fmt: skip
    assert chosen["adj_close"].iloc[0] == 98.0 and chosen["adj_close"].iloc[1:].isna().all()
    assert chosen["adj_close_basis"].iloc[0] == "download" and chosen["adj_close_basis"].iloc[1:].isna().all()
    assert chosen["close"].tolist() == [100.0, 101.0, 103.0], "valuation still has its traded closes"


def test_an_auto_adjusted_download_gives_adjusted_days_and_traded_days_on_one_basis():
    # auto_adjust=True: the day before the ex-date of a dividend of 1 is adjusted (traded 100, factor
    # 1 - 1/100 = 0.99, so 99); the ex-date and later are traded closes, equal to their adjusted ones.
    chosen = choose(bar(day="2025-01-06", close=99.0, adj_close="", basis="adjusted", dividends=0.0),
                    bar(day="2025-01-07", close=101.0, adj_close="", dividends=1.0),
                    bar(day="2025-01-08", close=102.0, adj_close=""))  # fmt: skip
    assert chosen["close"].tolist() == pytest.approx([99.0 / 0.99, 101.0, 102.0], rel=1e-12)
    assert chosen["price_basis"].tolist() == ["from_dividends", "raw", "raw"]
    assert chosen["adj_close"].tolist() == pytest.approx([99.0, 101.0, 102.0], rel=1e-12)


def test_an_adjusted_close_is_a_traded_close_over_the_same_ratio_on_both_sides():
    # adjusted / traded = 99 / 100 = 0.99 on 01-06 and 108.9 / 110 = 0.99 on 01-09: no dividend lies
    # between, so 01-07 is 101.97 / 0.99 = 103 and 01-08 is 102.96 / 0.99 = 104.
    traded = [bar(day="2025-01-06", close=100.0, vintage="traded.csv"), bar(day="2025-01-09", close=110.0, vintage="traded.csv")]
    adjusted = series({"2025-01-06": 99.0, "2025-01-07": 101.97, "2025-01-08": 102.96, "2025-01-09": 108.9},
                      vintage="adjusted.csv", basis="adjusted", adj_close="")  # fmt: skip
    chosen = choose(*traded, *adjusted)
    assert chosen["close"].tolist() == pytest.approx([100.0, 103.0, 104.0, 110.0], rel=1e-12)
    assert chosen["price_basis"].tolist() == ["raw", "from_overlap", "from_overlap", "raw"]


def test_a_ratio_that_changes_between_two_traded_days_recovers_nothing():
    # 0.99 on 01-06, 1.0 on 01-09: a dividend went ex between them, on a day the data does not tell
    traded = [bar(day="2025-01-06", close=100.0, vintage="traded.csv"), bar(day="2025-01-09", close=110.0, vintage="traded.csv")]
    adjusted = series({"2025-01-06": 99.0, "2025-01-07": 101.97, "2025-01-09": 110.0},
                      vintage="adjusted.csv", basis="adjusted", adj_close="")  # fmt: skip
    chosen = choose(*traded, *adjusted)
    assert np.isnan(chosen["close"].iloc[1]) and chosen["price_basis"].iloc[1] == "adjusted"
