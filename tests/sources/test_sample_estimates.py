"""The sample source replays the snapshot's consensus/ folder: the earnings trend (a row per symbol
and period) and Yahoo's quoted figures (long, each module's currency a row of its own), only for
the symbols asked. A file it cannot read is quarantined by name, and the other file loads."""

from __future__ import annotations

import shutil

import pytest

from orchestration.normalize.estimates import validate_estimates, validate_vendor_figures
from orchestration.sources import SampleSource
from tests.conftest import FIXTURE_SNAPSHOT

RECORDED = ["AAPL", "AMZN", "BABA", "GOOG"]


def test_sixteen_estimate_rows_for_the_four_symbols(sample_dir):
    fetched = SampleSource(sample_dir).fetch_estimates(RECORDED)
    # yahoo_earnings_trend_2025-02-24.csv: 16 data lines, 4 periods x 4 symbols
    assert len(fetched.frame) == 4 * 4 and fetched.failures == {} and fetched.quarantined == {}
    rows = validate_estimates(fetched.frame).rows
    baba = rows[(rows["symbol"] == "BABA") & (rows["period"] == "0y")].iloc[0]
    # line 12: BABA,...,0y,2025-03-31,64.85275,58.2905,67.59157,62.23,28,CNY,...
    assert (str(baba["end_date"]), baba["eps_avg"], baba["eps_analysts"], baba["eps_currency"]) == ("2025-03-31", 64.85275, 28, "CNY")


def test_quoted_figures_take_their_modules_currency_from_its_own_row(sample_dir):
    fetched = SampleSource(sample_dir).fetch_estimates(["BABA"])
    vendor = validate_vendor_figures(fetched.vendor_figures).rows.set_index(["module", "field"])
    # BABA's 22 lines: 7 defaultKeyStatistics, 7 summaryDetail (currency among them), 4 financialData
    # (financialCurrency among them), 4 price (currency among them): less the 3 currency rows
    assert len(vendor) == 7 + 7 + 4 + 4 - 3
    assert vendor.loc[("financialData", "totalRevenue"), "currency"] == "CNY"
    assert vendor.loc[("summaryDetail", "forwardPE"), "currency"] == "USD"
    assert vendor.loc[("defaultKeyStatistics", "forwardPE"), "currency"] is None
    assert ("summaryDetail", "currency") not in vendor.index and ("financialData", "financialCurrency") not in vendor.index


def test_only_the_symbols_asked_and_the_others_are_named(sample_dir):
    fetched = SampleSource(sample_dir).fetch_estimates(["AAPL", "9988.HK"])
    assert set(fetched.frame["symbol"]) == {"AAPL"} and set(fetched.vendor_figures["symbol"]) == {"AAPL"}
    assert fetched.failures == {"9988.HK": "no estimates in the snapshot"}


def test_a_snapshot_without_consensus_reports_every_symbol():
    fetched = SampleSource(FIXTURE_SNAPSHOT).fetch_estimates(["DRGN"])
    assert fetched.frame.empty and fetched.vendor_figures.empty
    assert fetched.failures == {"DRGN": "no estimates in the snapshot"}


@pytest.mark.parametrize(
    "broken, kept",
    [("yahoo_earnings_trend_2025-02-24.csv", "vendor_figures"), ("yahoo_quoted_figures_2025-02-24.csv", "frame")],
)
def test_a_malformed_consensus_file_is_quarantined_with_its_reason_and_the_other_loads(tmp_path, sample_dir, broken, kept):
    snapshot = tmp_path / "snapshot"
    shutil.copytree(sample_dir / "prices", snapshot / "prices")
    shutil.copytree(sample_dir / "consensus", snapshot / "consensus")
    path = snapshot / "consensus" / broken
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:3], lines[3] + ",an extra field", *lines[4:]]) + "\n")  # line 4 one field too many
    fetched = SampleSource(snapshot).fetch_estimates(["AAPL"])
    assert fetched.quarantined == {str(path): f"line 4 has {len(lines[0].split(',')) + 1} fields, the header has {len(lines[0].split(','))}"}
    other = getattr(fetched, kept)
    assert len(other) > 0 and set(other["symbol"]) == {"AAPL"}, "the other file still loads"
    assert fetched.failures == {}


def test_a_file_named_for_neither_layout_is_named_not_lost(tmp_path, sample_dir):
    snapshot = tmp_path / "snapshot"
    shutil.copytree(sample_dir / "prices", snapshot / "prices")
    shutil.copytree(sample_dir / "consensus", snapshot / "consensus")
    (snapshot / "consensus" / "notes.csv").write_text("symbol,comment\nAAPL,hello\n")
    fetched = SampleSource(snapshot).fetch_estimates(["AAPL"])
    assert fetched.quarantined == {} and len(fetched.frame) == 4
    assert any("notes.csv" in warning for warning in fetched.warnings)
