"""The scale benchmark runs end to end at a small scale (what CI can afford); it times nothing here."""

import json
import subprocess
import sys

import duckdb
import numpy as np
import pandas as pd

from benchmarks.pandas_panel import valuation_panel
from tests.conftest import REPO_ROOT

COMPARED = ["close", "shares_outstanding", "market_cap_local", "market_cap_usd", "market_cap_hkd", "market_cap_cny",
            "ttm_revenue_usd", "ttm_net_income_usd", "ttm_eps", "pe_ttm", "ps_ttm", "ev_ebitda_ttm"]  # fmt: skip


def test_a_small_scale_benchmark_runs_and_reports_every_measure(tmp_path):
    out = tmp_path / "results"
    completed = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "benchmarks.scale", "--scale", "0.01", "--years", "2", "--runs", "1",
         "--work", str(tmp_path / "work"), "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert "SYNTHETIC market: 50 listings" in completed.stdout
    result = json.loads((out / "scale_50x2.json").read_text())

    assert result["synthetic"] is True
    # 50 listings of 45 companies: every tenth company lists an ADS and Hong Kong shares
    assert (result["scale"]["listings"], result["scale"]["companies"]) == (50, 45)
    # one refresh day adds one bar per listing, benchmark (2) and FX pair (2), and one valuation row per listing
    refresh = result["daily_refresh"]["runs"][0]
    assert (refresh["new_price_rows"], refresh["valuation_rows_for_day"]) == (54, 50)
    # 9 line items a quarter, each company's quarters filed within the two years
    assert result["scale"]["statement_rows"] % 9 == 0 and result["scale"]["statement_rows"] > 45 * 9 * 6
    assert set(result["queries"]) == {p.stem for p in (REPO_ROOT / "analysis").glob("*.sql")}
    assert all(q["rows"] > 0 for name, q in result["queries"].items() if name != "data_freshness")
    for measure in ("raw_load", "full_build", "daily_refresh"):
        assert result[measure]["seconds"] > 0
    assert result["baselines"]["valuation_panel_pandas_seconds"] > 0
    assert result["baselines"]["direct_duckdb_seconds"] > 0
    # the refresh published by patching yesterday's serving copy, as the serving asset does
    assert refresh["publish_mode"] == "patched"

    # The pandas baseline is a second method for the valuation mart: on the benchmark's warehouse it
    # gives the mart's rows, value for value, nulls where the mart has nulls; both as it computes
    # them and as the benchmark's run wrote them.
    warehouse = tmp_path / "work" / "50x2" / "synthetic.duckdb"
    computed = pd.concat(list(valuation_panel(warehouse)), ignore_index=True)
    with duckdb.connect(str(warehouse.with_name("pandas_panel.duckdb")), read_only=True) as conn:
        written = conn.execute("from valuation_panel").df()
    pd.testing.assert_frame_equal(written, computed, check_dtype=False)
    assert result["baselines"]["valuation_panel_pandas_rows"] == len(written)
    panel = written
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        mart = conn.execute(f"select symbol, date, {', '.join(COMPARED)} from marts.fct_valuation_daily").df()
    joined = mart.merge(panel, on=["symbol", "date"], how="outer", suffixes=("_sql", "_pandas"), indicator=True)
    assert len(joined) == len(mart) == result["scale"]["fct_valuation_daily_rows"] and (joined["_merge"] == "both").all()
    assert joined["pe_ttm_sql"].notna().sum() > len(joined) / 2  # the comparison covers real ratios
    for column in COMPARED:
        sql, pandas = joined[f"{column}_sql"].astype(float), joined[f"{column}_pandas"].astype(float)
        assert (sql.isna() == pandas.isna()).all(), column
        assert np.allclose(sql[sql.notna()], pandas[pandas.notna()], rtol=1e-9, atol=0), column
