"""The dashboard: its data functions on the sample warehouse, the app through Streamlit's AppTest,
and the page in a real browser (Streamlit on a free localhost port, headless Chromium).

The figures it must show are worked out here from the sample's CSV files, not from the warehouse."""

import csv
import os
import re
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from dashboard import charts as dash
from tests.conftest import SAMPLE_DIR, query
from tests.servers import chromium, free_port, running_server

APP = Path(__file__).parents[1] / "dashboard" / "app.py"
CHARTS = 5
FEB_14 = date(2025, 2, 14)
# the last day of each series, from the coverage tables of the sample's README (with its 2026-12
# additions: ^HSI and BABA to 2026-04-10, 9988.HK's traded closes to 2025-10-30, CNY=X to 2026-03-23)
LAST_DAYS = {"^HSI": "2026-04-10", "9988.HK": "2025-10-30", "BABA": "2026-04-10", "USDHKD=X": "2026-03-23", "CNY=X": "2026-03-23"}
DEFAULT_AS_OF = date(2025, 10, 30)  # the last day every series has: 9988.HK's
# the peer-group medians of 2025-02-14, worked out by hand from the sample's prices and filings,
# with how many of the group's companies have a P/E that day (each company once):
# - us_megacap_tech, 6 of 6: GOOGL 185.23 / 8.04 = 23.0, META 736.67 / 23.86 = 30.9, MSFT 408.43 / 11.80
#   = 34.6, AAPL 244.60 / 6.08 = 40.2, AMZN 228.68 / 5.53 = 41.4, NVDA 54.6: (34.61 + 40.23) / 2 = 37.4
# - hyperscalers, 5 of 5: GOOGL 23.0, BABA 29.1, META 30.9, MSFT 34.6, AMZN 41.4: META's 30.9
# - china_internet, 3 of 5 (Alibaba, Tencent, Baidu; JD and PDD publish no EPS by then): BIDU 12.9,
#   Tencent 24.9, BABA 29.1: Tencent's 24.9
MEDIAN_PE_FEB_14 = {"us_megacap_tech": 37.4, "hyperscalers": 30.9, "china_internet": 24.9}
COMPANIES_WITH_PE_FEB_14 = {"us_megacap_tech": (6, 6), "hyperscalers": (5, 5), "china_internet": (3, 5)}


def sample_row(relative_path: str, **match: str) -> dict:
    with open(SAMPLE_DIR / relative_path, newline="") as f:
        return next(row for row in csv.DictReader(f) if all(row[k] == v for k, v in match.items()))


@pytest.fixture(scope="module")
def msft_feb_14(sample_dir) -> dict:
    """MSFT on 2025-02-14 from the CSVs: the traded close over FY2024's diluted EPS (the last 10-K
    filed by then, 2024-07-30); market cap = diluted shares x close, in HKD at that day's USDHKD=X."""
    close = float(sample_row("prices/us_daily_raw_2021_2026.csv", ticker="MSFT", date="2025-02-14")["close"])
    annual = "fundamentals/msft_annual_10k_fy2021_fy2025.csv"
    eps = float(sample_row(annual, fiscal_period="FY2024", line_item="eps_diluted")["value"])
    shares = float(sample_row(annual, fiscal_period="FY2024", line_item="weighted_avg_shares_diluted")["value"]) * 1e6
    hkd_per_usd = float(sample_row("prices/fx_hkd_daily_2016_2026.csv", date="2025-02-14")["close"])
    assert (round(close, 2), eps, shares, round(hkd_per_usd, 3)) == (408.43, 11.80, 7_469e6, 7.788)
    return {"pe": close / eps, "market_cap_hkd_bn": shares * close * hkd_per_usd / 1e9}


@pytest.fixture
def serving(sample_warehouse) -> Path:
    return sample_warehouse.parent / "serving.duckdb"


# --- the data functions, no Streamlit -------------------------------------------------------------


def test_each_series_says_where_it_ends_and_the_default_date_is_the_last_one_they_share(serving):
    frames = dash.load(serving)
    caption = dash.series_ends_caption(frames)
    for series, last_day in LAST_DAYS.items():
        assert f"{series} ends {last_day}," in caption
    # China internet: its median needs three of its five companies; from 2026-03-31 the CNY=X rate
    # (2026-03-23, carried 7 days) has ended, and only Tencent's HKD-quoted P/E is left
    assert "median P/E china_internet ends 2026-03-30," in caption
    assert "No median P/E on any day" not in caption
    assert dash.default_as_of(frames) == DEFAULT_AS_OF


def test_the_peers_of_a_picked_date_are_the_sample_s_and_the_marts(serving, sample_warehouse, msft_feb_14):
    rows = dash.peers(serving, FEB_14)
    assert set(rows["date"].dt.date) == {FEB_14}
    msft = rows[rows["symbol"] == "MSFT"]
    assert list(msft["peer_group"]) == ["hyperscalers", "us_megacap_tech"]
    assert msft["pe_ttm"].tolist() == pytest.approx([msft_feb_14["pe"]] * 2, abs=0.005)  # 34.61
    assert msft["market_cap_HKD"].tolist() == pytest.approx([msft_feb_14["market_cap_hkd_bn"] * 1e9] * 2, rel=1e-6)
    for group, median in MEDIAN_PE_FEB_14.items():
        shown = rows[rows["peer_group"] == group]
        assert shown["median_pe_ttm"].iloc[0] == pytest.approx(median, abs=0.05)
        assert shown["pe_ttm"].median() == pytest.approx(shown["median_pe_ttm"].iloc[0])  # the median of the P/Es shown
    for group, (with_pe, in_group) in COMPANIES_WITH_PE_FEB_14.items():
        shown = rows[rows["peer_group"] == group]
        assert (shown["companies_with_pe"].iloc[0], shown["companies_in_group"].iloc[0], len(shown)) == (with_pe, in_group, in_group)
        assert shown["pe_ttm"].notna().sum() == with_pe  # the count is of the P/Es shown
    marts = dict(query(sample_warehouse, "select peer_group, median_pe_ttm from marts.mart_peer_valuation_daily where date = ?", [FEB_14]))
    shown = {g: None if pd.isna(m) else m for g, m in zip(rows["peer_group"], rows["median_pe_ttm"])}
    assert shown == {g: None if m is None else pytest.approx(m) for g, m in marts.items()}
    # each median with its count beside it
    table = dash.peer_table(rows, "USD")
    assert set(table[table["peer group"] == "us_megacap_tech"]["group median P/E"]) == {f"{MEDIAN_PE_FEB_14['us_megacap_tech']} (6 of 6)"}
    assert set(table[table["peer group"] == "china_internet"]["group median P/E"]) == {"24.9 (3 of 5)"}
    # on 2023-06-15 only NVIDIA and Apple of the six had a P/E (MSFT's FY2022-23 10-Ks in the sample
    # are filed 2023-07-27, Amazon's, Alphabet's and Meta's from 2024): no median, shown as missing
    june_2023 = dash.peer_table(dash.peers(serving, date(2023, 6, 15)), "USD")
    assert set(june_2023[june_2023["peer group"] == "us_megacap_tech"]["group median P/E"]) == {"— (2 of 6)"}
    # a company without a P/E (no statements in the sample) is missing, not zero
    jd = rows[rows["company_name"] == "JD.com, Inc."]
    assert jd["pe_ttm"].isna().all() and (dash.peer_table(jd, "HKD")["P/E reported (TTM)"] == "—").all()
    # a Saturday shows Friday's peers
    assert dash.peers(serving, date(2025, 2, 15)).equals(rows)


def test_the_app_follows_the_picked_date_and_currency(serving, msft_feb_14, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("VALUATION_SERVING", str(serving))
    app = AppTest.from_file(str(APP)).run(timeout=60)
    assert app.date_input(key="as_of").value == DEFAULT_AS_OF and app.selectbox(key="currency").value == "USD"
    app.date_input(key="as_of").set_value(FEB_14)
    app.selectbox(key="currency").select("HKD")
    app.run(timeout=60)
    assert not app.exception and not app.warning and not app.error
    table = app.table[0].value
    msft = table[(table["company"] == "Microsoft Corporation") & (table["peer group"] == "us_megacap_tech")].iloc[0]
    assert float(msft["P/E reported (TTM)"]) == pytest.approx(msft_feb_14["pe"], abs=0.05)
    assert float(msft["market cap (HKD bn)"].replace(",", "")) == pytest.approx(msft_feb_14["market_cap_hkd_bn"], abs=0.5)
    assert "^HSI ends 2026-04-10" in app.caption[0].value


def test_the_dashboard_reads_the_serving_copy_beside_the_configured_warehouse(tmp_path, monkeypatch):
    # VALUATION_SERVING unset: the copy the pipeline publishes, beside VALUATION_WAREHOUSE.
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("VALUATION_SERVING", raising=False)
    monkeypatch.setenv("VALUATION_WAREHOUSE", str(tmp_path / "elsewhere" / "valuation.duckdb"))
    app = AppTest.from_file(str(APP)).run()
    assert [e.value for e in app.error] == [f"No serving copy at {tmp_path / 'elsewhere' / 'serving.duckdb'}: run `make demo` (or `make run`) first."]


# --- the page in a real browser ------------------------------------------------------------------


@pytest.fixture
def dashboard(serving, tmp_path):
    """The URL of `streamlit run dashboard/app.py` on the sample, and the file its stderr goes to."""
    port, stderr = free_port(), tmp_path / "streamlit.stderr"
    env = {**os.environ, "VALUATION_SERVING": str(serving), "STREAMLIT_STDERR": str(stderr)}
    streamlit = [str(Path(sys.executable).parent / "streamlit"), "run", "dashboard/app.py", "--server.address", "127.0.0.1",
                 "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]  # fmt: skip
    command = ["sh", "-c", 'exec "$@" 2>"$STREAMLIT_STDERR"', "sh", *streamlit]  # exec: the server itself, its stderr kept
    with running_server(command, f"http://127.0.0.1:{port}/_stcore/health", env):
        yield f"http://127.0.0.1:{port}/", stderr


@pytest.fixture
def browser(tmp_path):
    with chromium(tmp_path / "profile", "1400,3600") as driver:
        yield driver


CHARTS_DRAWN = (
    "return [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
    ".filter(c => [...c.querySelectorAll('canvas, svg')].some(m => m.getBoundingClientRect().height > 100)).length"
)


def by_css(driver, selector: str) -> list:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def wait_for(driver, condition, seconds: float = 90):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds).until(condition)


def assert_clean(driver, stderr: Path) -> None:
    """Every chart drawn, and no exception, warning nor deprecation in the page or the server's log."""
    assert driver.execute_script(CHARTS_DRAWN) == CHARTS
    assert by_css(driver, '[data-testid="stException"]') == []
    assert [e.text for e in by_css(driver, '[data-testid="stAlert"]')] == []
    assert "deprecat" not in by_css(driver, "body")[0].text.lower()
    # the server logs a deprecation as a bare message ("Please replace `use_container_width` with ..."):
    # nothing but its start-up line may be there
    assert [line for line in stderr.read_text().splitlines() if line.strip() and "Uvicorn server started" not in line] == []


def chart_texts(driver) -> list[str]:
    return [chart.text for chart in by_css(driver, '[data-testid="stVegaLiteChart"]')]


def peer_rows(driver) -> list[list[str]]:
    return [[cell.text for cell in row.find_elements("css selector", "td")] for row in by_css(driver, '[data-testid="stTable"] tbody tr')]


def test_every_chart_renders_with_data_as_of_the_default_date_in_a_real_browser(dashboard, browser, tmp_path):
    url, stderr = dashboard
    browser.get(url)
    wait_for(browser, lambda d: d.execute_script(CHARTS_DRAWN) >= CHARTS)
    time.sleep(1)
    assert_clean(browser, stderr)
    assert [e.text for e in by_css(browser, '[data-testid="stDateInput"] [role="spinbutton"]')] == ["2025", "10", "30"]
    caption = by_css(browser, '[data-testid="stCaptionContainer"]')[0].text
    assert all(f"{series} ends {day}" in caption for series, day in LAST_DAYS.items()), caption
    texts = chart_texts(browser)
    assert all("2025-10-30" in text for text in texts), "every chart says as of which date"
    assert "Alibaba Group Holding Limited" in texts[1] and "Alibaba Group Holding Limited" in texts[2]  # names in full
    assert not any("…" in text for text in texts), "no label cut off"
    assert {"2021", "2022", "2023", "2024", "2025"} <= set(re.findall(r"\b20\d\d\b", texts[0])), "the time axis shows years"
    assert by_css(browser, '[data-testid="stDataFrame"]'), "the freshness table is shown"
    browser.save_screenshot(str(tmp_path / "dashboard.png"))
    assert (tmp_path / "dashboard.png").stat().st_size > 50_000


def test_picking_a_date_and_a_currency_in_a_real_browser(dashboard, browser, msft_feb_14):
    from selenium.webdriver.common.keys import Keys

    url, stderr = dashboard
    browser.get(url)
    wait_for(browser, lambda d: d.execute_script(CHARTS_DRAWN) >= CHARTS)
    year = by_css(browser, '[data-testid="stDateInput"] [data-type="year"]')[0]
    year.click()
    year.send_keys("20250214", Keys.TAB, Keys.TAB)  # year, month, day (each segment moves on), then leave the field
    wait_for(browser, lambda d: "as of 2025-02-14" in d.find_element("tag name", "h3").text)
    currency = by_css(browser, '[data-testid="stSelectbox"] input')[0]
    currency.click()
    currency.send_keys("HKD", Keys.ENTER)
    wait_for(browser, lambda d: "market cap (HKD bn)" in by_css(d, '[data-testid="stTable"] thead')[0].text)
    wait_for(browser, lambda d: d.execute_script(CHARTS_DRAWN) >= CHARTS and "currency=HKD" in d.current_url)
    time.sleep(1)
    assert_clean(browser, stderr)
    assert "as_of=2025-02-14" in browser.current_url  # the view can be linked to

    rows = {(row[0], row[1]): row for row in peer_rows(browser)}
    header = [cell.text for cell in by_css(browser, '[data-testid="stTable"] thead th')]
    pe, median, market_cap = header.index("P/E reported (TTM)"), header.index("group median P/E"), header.index("market cap (HKD bn)")
    msft = rows["us_megacap_tech", "Microsoft Corporation"]
    assert float(msft[pe]) == pytest.approx(msft_feb_14["pe"], abs=0.05)  # 408.43 / 11.80 = 34.61
    assert float(msft[market_cap].replace(",", "")) == pytest.approx(msft_feb_14["market_cap_hkd_bn"], abs=0.5)
    for group, expected in MEDIAN_PE_FEB_14.items():
        medians = {row[median] for key, row in rows.items() if key[0] == group}
        with_pe, in_group = COMPANIES_WITH_PE_FEB_14[group]
        assert len(medians) == 1 and medians.pop() == f"{expected} ({with_pe} of {in_group})"  # e.g. "37.4 (6 of 6)"
    assert rows["china_internet", "JD.com, Inc."][pe] == "—", "a missing P/E is shown as missing"
    texts = chart_texts(browser)
    assert all("2025-02-14" in text for text in texts), "every chart moved to the picked date"
    assert "Market cap in HKD (billions), as of 2025-02-14" in texts[2] and "no P/E" in texts[1]
    # the counts beside the medians in the charts too: the groups' headers, the time series' last week
    us_median = f"median P/E {MEDIAN_PE_FEB_14['us_megacap_tech']} (6 of 6)"
    assert f"us_megacap_tech: {us_median}" in texts[1] and "china_internet: median P/E 24.9 (3 of 5)" in texts[1]
    assert f"us_megacap_tech on 2025-02-14: {us_median}" in texts[0]
    assert "china_internet on 2025-02-14: median P/E 24.9 (3 of 5)" in texts[0]
