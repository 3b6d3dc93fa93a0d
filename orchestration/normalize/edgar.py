"""SEC EDGAR XBRL payloads -> rows of raw.financial_statements. Pure functions, no network.

Shapes (the API's documented ones; the recorded answers in ../shared/edgar-recorded):
- `companyfacts`: `facts.<taxonomy>.<Concept>.units.<unit>` is a list of facts with `val`, `end`,
  `start` (durations only), `accn`, `fy`, `fp`, `form`, `filed` and, on one fact per period,
  `frame`. Every filing that reports a figure repeats it (the original 10-Q, next year's
  comparatives, a 10-K/A): each repetition is a vintage, known from its own `filed` date.
- `submissions`: `filings.recent` holds parallel lists `accessionNumber`, `filingDate`, `form`, ...
- `company_tickers.json`: {"0": {"cik_str": 320193, "ticker": "AAPL", "title": "Apple Inc."}, ...}.

Rules:
- Which concepts give a metric, and which wins where one filing tags several for one period, is
  data: dbt_project/seeds/edgar_concepts.csv. Per metric, period (start, end) and filing (accn),
  the facts of the lowest `precedence` present are kept (several concepts of one precedence are
  parts that sum, e.g. LongTermDebtNoncurrent + LongTermDebtCurrent); the others are dropped, so
  that int_financial_metrics, which sums the line items of one metric, never adds two revenue
  concepts of one filing together. line_item is `<taxonomy>:<Concept>`, mapped in line_item_metrics.
- Durations are told apart by `start` and `end`, never by position: a quarter is 80-100 days, a
  year 350-380; six and nine months year-to-date are not loaded (raw.financial_statements has no
  period type for them) but a nine-month figure gives the fourth quarter where a 10-K tags none of
  its own (none filed by the 10-K's date): the year minus the nine months of the latest 10-Q filed by then, `fiscal_period`
  "Q4 FY2022 derived", filed on the 10-K's date with the 10-K's accn and form. (Diluted EPS so
  derived is the year's EPS minus the nine months', an approximation the label owns up to.)
- Units: amounts in the reporting currency of universe.yml (`USD`, `CNY`), per-share figures in
  `<currency>/shares`, counts in `shares`. Any other unit is passed over and counted in a warning:
  Alibaba's 20-F tags USD "convenience translations" beside its CNY figures, at one rate for every
  period. Per-share facts are stored per_share (per ordinary share, as US GAAP's EPS is tagged).
- `dei:EntityCommonStockSharesOutstanding` is the cover page's count, dated by its own date (after
  the period end, before the filing date); where one filing tags several values at one date (share
  classes), they are summed (equal values counted once: companyfacts cannot tell a repeated fact from
  two classes of one size). Classes tagged only by dimension are not in companyfacts at all.
- 20-F filers (BABA, JD, PDD, BIDU): forms 20-F and 20-F/A are accepted, annual durations only.
  UNTESTED against a recorded payload: none is recorded; tests/sources/test_edgar_recorded.py has
  a small scripted 20-F payload in the documented shape.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from orchestration.normalize.statements import empty_statements

CONCEPTS_FILE = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "edgar_concepts.csv"
# Forms whose XBRL facts are statements (8-K press releases and 6-Ks carry none worth keeping)
FORMS = {"10-K", "10-K/A", "10-Q", "10-Q/A", "10-KT", "10-KT/A", "20-F", "20-F/A", "40-F", "40-F/A"}
ANNUAL_FORMS = {"10-K", "10-K/A", "10-KT", "10-KT/A", "20-F", "20-F/A", "40-F", "40-F/A"}
QUARTER_DAYS = (80, 100)
NINE_MONTH_DAYS = (260, 290)
YEAR_DAYS = (350, 380)
DERIVED = "derived"


@dataclass(frozen=True)
class Concept:
    taxonomy: str
    concept: str
    metric: str
    statement: str  # income | balance | cashflow
    unit: str  # amount | per_share | shares
    precedence: int

    @property
    def line_item(self) -> str:
        return f"{self.taxonomy}:{self.concept}"


def load_concepts(path: Path = CONCEPTS_FILE) -> list[Concept]:
    with open(path, newline="") as handle:
        return [Concept(r["taxonomy"], r["concept"], r["metric"], r["statement"], r["unit"], int(r["precedence"]))
                for r in csv.DictReader(handle)]  # fmt: skip


def ciks_from_tickers(payload: dict) -> dict[str, int]:
    """company_tickers.json as ticker -> CIK (the first entry of a ticker wins)."""
    ciks: dict[str, int] = {}
    for entry in payload.values():
        ciks.setdefault(str(entry["ticker"]).upper(), int(entry["cik_str"]))
    return ciks


def sec_ticker(symbol: str) -> str:
    """The SEC's spelling of a listing symbol: BRK-B stays BRK-B; a class dot is a dash."""
    return symbol.upper().replace(".", "-")


def recent_filings(payload: dict) -> list[tuple[str, date, str]]:
    """`filings.recent` of a submissions payload as (accn, filing date, form), statement forms only."""
    recent = (payload.get("filings") or {}).get("recent") or {}
    out = []
    for accn, filed, form in zip(recent.get("accessionNumber", []), recent.get("filingDate", []), recent.get("form", [])):
        if form in FORMS:
            out.append((accn, date.fromisoformat(filed), form))
    return out


def has_new_filing(payload: dict, last_filed: date | None, last_accn: str | None) -> bool:
    """Whether submissions list a statement filing the warehouse has not loaded: filed after the last
    loaded one, or on its day under another accession number."""
    if last_filed is None:
        return True
    return any(filed > last_filed or (filed == last_filed and accn != last_accn)
               for accn, filed, _ in recent_filings(payload))  # fmt: skip


def _days(start: date, end: date) -> int:
    return (end - start).days + 1


def _within(days: int, bounds: tuple[int, int]) -> bool:
    return bounds[0] <= days <= bounds[1]


def fiscal_label(end: date, fiscal_year_end_month: int, annual: bool) -> str:
    """Q2 FY2022 / FY2022 from a period end (10 days back, for 52/53-week years ending just after a month)."""
    day = end - timedelta(days=10)
    year = day.year if day.month <= fiscal_year_end_month else day.year + 1
    if annual:
        return f"FY{year}"
    quarter = ((day.month - (fiscal_year_end_month + 1)) % 12) // 3 + 1
    return f"Q{quarter} FY{year}"


@dataclass
class _Fact:
    concept: Concept
    value: float
    start: date | None
    end: date
    accn: str
    form: str
    filed: date
    fy: object
    fp: object


def _facts(payload: dict, concepts: list[Concept], currency: str) -> tuple[list[_Fact], dict[str, int]]:
    units = {"amount": currency, "per_share": f"{currency}/shares", "shares": "shares"}
    facts: list[_Fact] = []
    passed_over: dict[str, int] = defaultdict(int)
    for concept in concepts:
        node = (payload.get("facts") or {}).get(concept.taxonomy, {}).get(concept.concept)
        if not node:
            continue
        wanted = units[concept.unit]
        for unit, items in (node.get("units") or {}).items():
            if unit != wanted:
                passed_over[unit] += len(items)
                continue
            for item in items:
                if item.get("form") not in FORMS or item.get("val") is None:
                    continue
                facts.append(_Fact(
                    concept, float(item["val"]),
                    date.fromisoformat(item["start"]) if item.get("start") else None,
                    date.fromisoformat(item["end"]), item["accn"], item["form"], date.fromisoformat(item["filed"]),
                    item.get("fy"), item.get("fp"),
                ))  # fmt: skip
    return facts, dict(passed_over)


def _unique(facts: list[_Fact]) -> list[_Fact]:
    """One fact per concept, period and filing; a cover page's several values of one date (share
    classes) summed into one."""
    seen: dict[tuple, _Fact] = {}
    classes: dict[tuple, set[float]] = defaultdict(set)
    for fact in facts:
        key = (fact.concept.line_item, fact.start, fact.end, fact.accn)
        if fact.concept.taxonomy == "dei" and fact.concept.unit == "shares":
            classes[key].add(fact.value)
        seen.setdefault(key, fact)
    for key, values in classes.items():
        seen[key].value = float(sum(values))
    return list(seen.values())


def _chosen(facts: list[_Fact]) -> list[_Fact]:
    """Per metric, period and filing: the facts of the best precedence present."""
    groups: dict[tuple, list[_Fact]] = defaultdict(list)
    for fact in facts:
        groups[(fact.concept.metric, fact.start, fact.end, fact.accn)].append(fact)
    out = []
    for group in groups.values():
        best = min(f.concept.precedence for f in group)
        out.extend(f for f in group if f.concept.precedence == best)
    return out


def statement_rows(
    symbol: str, payload: dict, currency: str, fiscal_year_end_month: int, concepts: list[Concept] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The rows of raw.financial_statements one companyfacts payload gives, and warnings."""
    concepts = concepts if concepts is not None else load_concepts()
    facts, passed_over = _facts(payload, concepts, currency)
    warnings = [f"{symbol}: {count} facts in {unit} passed over (the reporting currency is {currency})"
                for unit, count in sorted(passed_over.items()) if "shares" != unit]  # fmt: skip
    chosen = _chosen(_unique(facts))
    rows = []

    def row(fact: _Fact, period_type: str, fiscal_period: str, start: date | None, value: float | None = None) -> None:
        rows.append({
            "symbol": symbol,
            "statement": fact.concept.statement,
            "period_type": period_type,
            "fiscal_period": fiscal_period,
            "period_start": start,
            "period_end": fact.end,
            "filed_date": fact.filed,
            "line_item": fact.concept.line_item,
            "value": fact.value if value is None else value,
            "currency": None if fact.concept.unit == "shares" else currency,
            "unit": fact.concept.unit,
            "accn": fact.accn,
            "form": fact.form,
        })  # fmt: skip

    quarter_first_filed: dict[tuple, date] = {}  # (metric, end) -> first filing date of a quarter fact
    years: list[_Fact] = []
    nine_months: dict[tuple, list[_Fact]] = defaultdict(list)  # (metric, start) -> 9M facts, every vintage
    for fact in chosen:
        if fact.start is None:  # an instant: a balance, or the cover page's share count
            annual = fact.form in ANNUAL_FORMS
            if fact.concept.taxonomy == "dei":
                label = f"{fact.fp} FY{fact.fy}" if fact.fp not in (None, "FY") else f"FY{fact.fy}"
            else:
                label = fiscal_label(fact.end, fiscal_year_end_month, annual)
            row(fact, "annual" if annual else "quarterly", label, None)
            continue
        days = _days(fact.start, fact.end)
        if _within(days, QUARTER_DAYS):
            key = (fact.concept.metric, fact.end)
            quarter_first_filed[key] = min(fact.filed, quarter_first_filed.get(key, fact.filed))
            row(fact, "quarterly", fiscal_label(fact.end, fiscal_year_end_month, False), fact.start)
        elif _within(days, YEAR_DAYS):
            years.append(fact)
            row(fact, "annual", fiscal_label(fact.end, fiscal_year_end_month, True), fact.start)
        elif _within(days, NINE_MONTH_DAYS):
            nine_months[(fact.concept.metric, fact.start)].append(fact)
        # six months year-to-date and odd lengths (a transition period) are not loaded

    # The fourth quarter of a year whose 10-K tags none: the year minus the nine months known then.
    year_sums: dict[tuple, tuple[_Fact, float]] = {}
    for fact in years:
        if fact.concept.statement == "balance" or fact.concept.unit == "shares":
            continue  # a weighted-average count of Q4 is not the year's minus the nine months'
        key = (fact.concept.metric, fact.start, fact.end, fact.accn)
        first, total = year_sums.get(key, (fact, 0.0))
        year_sums[key] = (first, total + fact.value)
    for (metric, start, end, accn), (fact, year_value) in year_sums.items():
        tagged = quarter_first_filed.get((metric, end))
        if tagged is not None and tagged <= fact.filed:
            continue  # the quarter has a fact of its own, known by then
        candidates = [
            f for s in (start + timedelta(days=d) for d in range(-5, 6)) for f in nine_months.get((metric, s), [])
            if f.filed <= fact.filed and _within(_days(f.end, end) - 1, (80, 100))
        ]  # fmt: skip
        if not candidates:
            continue
        latest_filed = max(f.filed for f in candidates)
        latest = [f for f in candidates if f.filed == latest_filed]
        nine_value = sum(f.value for f in latest if f.accn == latest[0].accn)
        label = f"{fiscal_label(end, fiscal_year_end_month, False)} {DERIVED}"
        row(fact, "quarterly", label, latest[0].end + timedelta(days=1), year_value - nine_value)

    if not rows:
        return empty_statements(), warnings
    frame = pd.DataFrame(rows, columns=empty_statements().columns)
    return frame, warnings


def reports_currency(payload: dict, currency: str) -> bool:
    """Whether any us-gaap/ifrs fact of the payload is in `currency` (a wrong reporting currency in
    universe.yml would otherwise load nothing, silently)."""
    for taxonomy, concepts in (payload.get("facts") or {}).items():
        if taxonomy == "dei":
            continue
        for node in concepts.values():
            if currency in (node.get("units") or {}):
                return True
    return False
