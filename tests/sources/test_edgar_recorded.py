"""The EDGAR source over the real recorded SEC answers (../shared/edgar-recorded), served under the
production `requests.Session` by a transport adapter (tests/fakes/edgar_http.py). Expected values
were read off the recorded JSON by hand. Error answers and the 20-F payload are scripted (the SEC's
documented shapes), and say so."""

from __future__ import annotations

from datetime import date

import pytest

from orchestration.sources import EdgarSettings, EdgarSource, SourceError, StatementPlan
from tests.fakes.edgar_http import RECORDED_DIR, ReplayAdapter, replay_session

pytestmark = pytest.mark.skipif(not RECORDED_DIR.exists(), reason=f"recorded EDGAR answers not found at {RECORDED_DIR}")

AGENT = "Valuation Tests tests@example.com"
TESLA = StatementPlan("TSLA", "USD", fiscal_year_end_month=12)
SNOWFLAKE = StatementPlan("SNOW", "USD", fiscal_year_end_month=1)
TENCENT = StatementPlan("0700.HK", "CNY", fiscal_year_end_month=12)
FACTS = "/api/xbrl/companyfacts/CIK{:010d}.json"


def edgar(adapter: ReplayAdapter, tmp_path, **settings) -> EdgarSource:
    return EdgarSource(
        EdgarSettings(user_agent=AGENT, requests_per_second=0, cache_dir=str(tmp_path / "edgar-cache"), **settings),
        session=replay_session(adapter),
        sleep=lambda seconds: None,
    )


def rows(frame, line_item, end=None):
    picked = frame[frame["line_item"] == line_item]
    if end is not None:
        picked = picked[picked["period_end"] == end]
    return picked


def test_tesla_quarter_eps_is_told_apart_from_the_six_months_by_its_start(tmp_path):
    fetched = edgar(ReplayAdapter(), tmp_path).fetch_statements([TESLA])
    eps = rows(fetched.frame, "us-gaap:EarningsPerShareDiluted", date(2022, 6, 30))
    # companyfacts: 4.82 from 2022-01-01 (six months, no frame) and 1.95 from 2022-04-01 (CY2022Q2)
    assert eps[["period_type", "period_start", "value", "filed_date", "accn", "form"]].values.tolist() == [
        ["quarterly", date(2022, 4, 1), 1.95, date(2022, 7, 25), "0000950170-22-012936", "10-Q"]
    ]
    assert eps["fiscal_period"].tolist() == ["Q2 FY2022"]
    # one company_tickers.json, one companyfacts: a company never loaded asks no submissions
    assert fetched.requests_by_endpoint == {"company_tickers": 1, "companyfacts": 1}
    assert fetched.requests == 2


def test_a_10k_and_its_10ka_are_two_vintages_each_known_from_its_own_filing_date(tmp_path):
    frame = edgar(ReplayAdapter(), tmp_path).fetch_statements([TESLA]).frame
    fy2011 = rows(frame, "us-gaap:Revenues", date(2011, 12, 31))
    fy2011 = fy2011[fy2011["period_type"] == "annual"].sort_values("filed_date")
    # FY2011 revenue 204,242,000: the 10-K of 2012-02-27, the 10-K/A of 2012-03-28, then the
    # comparatives of the next two 10-Ks
    assert fy2011[["filed_date", "form", "accn", "value"]].values.tolist() == [
        [date(2012, 2, 27), "10-K", "0001193125-12-081990", 204_242_000.0],
        [date(2012, 3, 28), "10-K/A", "0001193125-12-137560", 204_242_000.0],
        [date(2013, 3, 7), "10-K", "0001193125-13-096241", 204_242_000.0],
        [date(2014, 2, 26), "10-K", "0001193125-14-069681", 204_242_000.0],
    ]


def test_one_concept_per_metric_period_and_filing(tmp_path):
    frame = edgar(ReplayAdapter(), tmp_path).fetch_statements([TESLA]).frame
    # Tesla's 10-Qs of 2018 tag RevenueFromContractWithCustomerExcludingAssessedTax beside Revenues:
    # Revenues (precedence 1) is kept, so revenue is never summed twice
    revenue = frame[frame["line_item"].isin(["us-gaap:Revenues", "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax"])]
    per_filing = revenue.groupby(["period_type", "period_start", "period_end", "accn"], dropna=False)["line_item"].nunique()
    assert per_filing.max() == 1
    assert "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax" not in set(revenue["line_item"])


def test_cover_page_share_counts_on_the_basis_of_their_filing(tmp_path):
    frame = edgar(ReplayAdapter(), tmp_path).fetch_statements([TESLA]).frame
    shares = rows(frame, "dei:EntityCommonStockSharesOutstanding").set_index("period_end")["value"]
    # before the 5:1 split of 2020-08-31, after it, and after the 3:1 split of 2022-08-25
    assert shares[date(2020, 7, 20)] == 186_361_726
    assert shares[date(2020, 10, 20)] == 947_900_733
    assert shares[date(2022, 10, 18)] == 3_157_752_449


def test_snowflake_fourth_quarter_is_the_year_minus_nine_months_labelled_derived(tmp_path):
    frame = edgar(ReplayAdapter(), tmp_path).fetch_statements([SNOWFLAKE]).frame
    q4 = rows(frame, "us-gaap:NetIncomeLoss", date(2023, 1, 31))
    q4 = q4[(q4["period_type"] == "quarterly") & (q4["filed_date"] == date(2023, 3, 29))]
    # FY2023 (2022-02-01..2023-01-31) -796,705,000 in the 10-K of 2023-03-29, minus the nine
    # months to 2022-10-31, -589,536,000, of the 10-Q of 2022-12-02
    assert q4["value"].tolist() == [-796_705_000 - -589_536_000]
    assert q4["fiscal_period"].tolist() == ["Q4 FY2023 derived"]
    assert q4["period_start"].tolist() == [date(2022, 11, 1)]
    assert q4["form"].tolist() == ["10-K"] and q4["accn"].tolist() == ["0001640147-23-000030"]


def test_tencent_has_no_cik_and_fails_alone_with_its_reason(tmp_path):
    adapter = ReplayAdapter()
    fetched = edgar(adapter, tmp_path).fetch_statements([TENCENT, TESLA])
    assert fetched.failures == {"0700.HK": "no SEC CIK: files in Hong Kong"}
    assert set(fetched.frame["symbol"]) == {"TSLA"}
    assert adapter.paths() == ["/files/company_tickers.json", FACTS.format(1318605)]


def test_the_daily_check_asks_submissions_and_fetches_facts_only_after_a_new_filing(tmp_path):
    adapter = ReplayAdapter()
    source = edgar(adapter, tmp_path)
    # the last loaded filing is Tesla's 10-Q of 2022-10-24: submissions list nothing newer of its forms
    current = StatementPlan("TSLA", "USD", last_filed=date(2022, 10, 24), last_accn="0000950170-22-019867")
    fetched = source.fetch_statements([current])
    assert fetched.unchanged == {"TSLA": "no filing since 2022-10-24 (0000950170-22-019867)"}
    assert fetched.frame.empty and not fetched.failures
    assert fetched.requests_by_endpoint == {"company_tickers": 1, "submissions": 1}
    # loaded up to the 10-Q of 2022-07-25: the 10-Q of 2022-10-24 is new, so companyfacts again
    behind = StatementPlan("TSLA", "USD", last_filed=date(2022, 7, 25), last_accn="0000950170-22-012936")
    fetched = source.fetch_statements([behind])
    assert fetched.requests_by_endpoint == {"submissions": 1, "companyfacts": 1}  # the CIK list is known
    assert len(fetched.frame) and not fetched.unchanged


def test_cik_list_is_cached_in_the_project_cache_dir(tmp_path):
    edgar(ReplayAdapter(), tmp_path).fetch_statements([TESLA])
    assert (tmp_path / "edgar-cache" / "company_tickers.json").exists()
    adapter = ReplayAdapter()
    edgar(adapter, tmp_path).fetch_statements([TESLA])  # a new run, within tickers_max_age_days
    assert adapter.paths() == [FACTS.format(1318605)]
    adapter = ReplayAdapter()
    edgar(adapter, tmp_path, tickers_max_age_days=0).fetch_statements([TESLA])  # too old: asked again
    assert adapter.paths()[0] == "/files/company_tickers.json"


def test_transient_answers_are_retried_and_every_request_carries_the_user_agent(tmp_path):
    # scripted: 429, 403, 500, a timeout and a truncated body before the recorded answer
    adapter = ReplayAdapter(faults={FACTS.format(1318605): [429, 403, 500, "timeout", "truncated"]})
    source = edgar(adapter, tmp_path, max_attempts=6)
    fetched = source.fetch_statements([TESLA])
    assert not fetched.failures and len(fetched.frame)
    assert fetched.requests_by_endpoint == {"company_tickers": 1, "companyfacts": 6}
    assert len(source.retry.slept) == 5
    assert {agent for _, agent, _ in adapter.hits} == {AGENT}


def test_giving_up_fails_the_company_alone(tmp_path):
    adapter = ReplayAdapter(faults={FACTS.format(1318605): [500, 500]})
    fetched = edgar(adapter, tmp_path, max_attempts=2).fetch_statements([TESLA, SNOWFLAKE])
    assert list(fetched.failures) == ["TSLA"] and "gave up after 2 attempts" in fetched.failures["TSLA"]
    assert set(fetched.frame["symbol"]) == {"SNOW"}


def test_unknown_cik_404_fails_that_company_alone(tmp_path):
    # scripted: a ticker whose CIK has no companyfacts file answers 404, as the SEC does
    tickers = (RECORDED_DIR / "company_tickers.json").read_bytes()
    import json

    payload = json.loads(tickers)
    payload["99999"] = {"cik_str": 9999999, "ticker": "GONE", "title": "Scripted Corp"}
    adapter = ReplayAdapter(extra={"/files/company_tickers.json": payload})
    fetched = edgar(adapter, tmp_path).fetch_statements([StatementPlan("GONE", "USD"), TESLA])
    assert list(fetched.failures) == ["GONE"] and "404" in fetched.failures["GONE"]
    assert set(fetched.frame["symbol"]) == {"TSLA"}


def test_sustained_refusals_open_the_circuit_and_defer_the_rest(tmp_path):
    adapter = ReplayAdapter(faults={FACTS.format(1318605): [403] * 10})
    fetched = edgar(adapter, tmp_path, max_attempts=10, breaker_threshold=3).fetch_statements([TESLA, SNOWFLAKE])
    assert set(fetched.deferred) == {"TSLA", "SNOW"}
    assert fetched.requests_by_endpoint == {"company_tickers": 1, "companyfacts": 3}


def test_no_user_agent_is_refused_before_any_request():
    with pytest.raises(SourceError, match="VALUATION_SEC_USER_AGENT"):
        EdgarSource(EdgarSettings(user_agent=None), session=replay_session(ReplayAdapter()))


# SCRIPTED, not recorded: a 20-F filer in the documented companyfacts shape (no 20-F payload is
# recorded). Annual figures in CNY beside USD convenience translations, as Alibaba's 20-F tags them.
def _twenty_f_payload() -> dict:
    def fact(val, start, end, accn, filed, form="20-F"):
        return {"val": val, "start": start, "end": end, "accn": accn, "fy": 2023, "fp": "FY", "form": form, "filed": filed}

    year = ("2022-04-01", "2023-03-31", "0001577552-23-000001", "2023-07-20")
    earlier = ("2021-04-01", "2022-03-31", "0001577552-23-000001", "2023-07-20")
    return {
        "cik": 1577552,
        "entityName": "Scripted 20-F filer",
        "facts": {
            "dei": {"EntityCommonStockSharesOutstanding": {"units": {"shares": [
                {"val": 20_000_000_000, "end": "2023-06-30", "accn": year[2], "fy": 2023, "fp": "FY", "form": "20-F", "filed": year[3]}]}}},
            "us-gaap": {
                "Revenues": {"units": {"CNY": [fact(868_687_000_000, *year), fact(853_062_000_000, *earlier)],
                                       "USD": [fact(126_491_000_000, *year)]}},
                "NetIncomeLoss": {"units": {"CNY": [fact(72_509_000_000, *year)], "USD": [fact(10_558_000_000, *year)]}},
                "EarningsPerShareDiluted": {"units": {"CNY/shares": [fact(3.46, *year)], "USD/shares": [fact(0.50, *year)]}},
            },
        },
    }


def test_scripted_20f_filer_takes_the_reporting_currency_and_passes_over_usd_translations(tmp_path):
    tickers = __import__("json").loads((RECORDED_DIR / "company_tickers.json").read_bytes())
    adapter = ReplayAdapter(extra={FACTS.format(1577552): _twenty_f_payload(), "/files/company_tickers.json": tickers})
    fetched = edgar(adapter, tmp_path).fetch_statements([StatementPlan("BABA", "CNY", 8, fiscal_year_end_month=3)])
    frame = fetched.frame
    assert set(frame["currency"].dropna()) == {"CNY"}
    revenue = rows(frame, "us-gaap:Revenues").sort_values("period_end")
    assert revenue[["period_type", "fiscal_period", "value", "form"]].values.tolist() == [
        ["annual", "FY2022", 853_062_000_000.0, "20-F"],
        ["annual", "FY2023", 868_687_000_000.0, "20-F"],
    ]
    assert rows(frame, "us-gaap:EarningsPerShareDiluted")["value"].tolist() == [3.46]
    assert rows(frame, "us-gaap:EarningsPerShareDiluted")["unit"].tolist() == ["per_share"]
    assert not (frame["period_type"] == "quarterly").any() or set(frame[frame["period_type"] == "quarterly"]["line_item"]) == set()
    assert any("USD" in w and "passed over" in w for w in fetched.warnings)


def test_a_company_not_reporting_in_its_configured_currency_is_refused(tmp_path):
    fetched = edgar(ReplayAdapter(), tmp_path).fetch_statements([StatementPlan("TSLA", "CNY")])
    assert "no figures in CNY" in fetched.failures["TSLA"]
