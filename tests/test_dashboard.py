"""The dashboard in a real browser: Streamlit on a free localhost port, headless Chromium."""

import os
import sys
import time
from pathlib import Path

import pytest

from tests.servers import free_port, running_server

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
CHARTS = 4


@pytest.fixture
def dashboard(sample_warehouse):
    port = free_port()
    env = {**os.environ, "VALUATION_SERVING": str(sample_warehouse.parent / "serving.duckdb")}
    command = [str(Path(sys.executable).parent / "streamlit"), "run", "dashboard/app.py", "--server.address", "127.0.0.1",
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"]  # fmt: skip
    with running_server(command, f"http://127.0.0.1:{port}/_stcore/health", env):
        yield f"http://127.0.0.1:{port}/"


def test_every_chart_renders_with_data_in_a_real_browser(dashboard, tmp_path):
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium and chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,2600"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    try:
        driver.get(dashboard)
        charts_drawn = (
            "return [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
            ".filter(c => [...c.querySelectorAll('canvas, svg')].some(m => m.getBoundingClientRect().height > 100)).length"
        )
        WebDriverWait(driver, 90).until(lambda d: d.execute_script(charts_drawn) >= CHARTS)
        time.sleep(1)
        assert driver.execute_script(charts_drawn) == CHARTS
        assert driver.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]') == []
        warnings = [e.text for e in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stAlert"]')]
        assert warnings == [], f"a chart had no data: {warnings}"
        assert driver.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]'), "the freshness table is shown"
        driver.save_screenshot(str(tmp_path / "dashboard.png"))
        print(f"\nscreenshot: {tmp_path / 'dashboard.png'}")
        assert (tmp_path / "dashboard.png").stat().st_size > 50_000
    finally:
        driver.quit()


def test_the_dashboard_reads_the_serving_copy_beside_the_configured_warehouse(tmp_path, monkeypatch):
    # VALUATION_SERVING unset: the copy the pipeline publishes, beside VALUATION_WAREHOUSE.
    from streamlit.testing.v1 import AppTest

    monkeypatch.delenv("VALUATION_SERVING", raising=False)
    monkeypatch.setenv("VALUATION_WAREHOUSE", str(tmp_path / "elsewhere" / "valuation.duckdb"))
    app = AppTest.from_file(str(Path(__file__).parents[1] / "dashboard" / "app.py")).run()
    assert [e.value for e in app.error] == [f"No serving copy at {tmp_path / 'elsewhere' / 'serving.duckdb'}: run `make demo` (or `make run`) first."]
