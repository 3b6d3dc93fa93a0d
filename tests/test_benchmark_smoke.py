"""The scale benchmark runs end to end at a small scale (what CI can afford); it times nothing here."""

import json
import subprocess
import sys

from tests.conftest import REPO_ROOT


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
