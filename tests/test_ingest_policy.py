"""When a live source is asked for what: hand-worked calendars, no Dagster."""

from datetime import date, timedelta

from orchestration.ingest_policy import StatementsFetch, annual_due, deferred_first, estimates_due, profiles_due, statements_due


def test_profiles_are_fetched_for_new_listings_and_then_weekly():
    last = {"OLD": date(2025, 2, 3), "RECENT": date(2025, 2, 8)}
    assert profiles_due(["NEW", "OLD", "RECENT"], last, date(2025, 2, 10), max_age_days=7) == ["NEW", "OLD"]


def test_estimates_rotate_each_listing_on_its_own_business_day_of_the_cycle():
    # 700 listings all fetched by a first run on Monday 2025-02-03, then the policy every business
    # day: each is asked exactly once in each following cycle of 7 business days, about a seventh
    # of them a day (never all on one weekday), and none on a weekend.
    symbols = [f"L{i:03d}" for i in range(700)]
    last = dict.fromkeys(symbols, date(2025, 2, 3))
    asked: dict[str, list[date]] = {s: [] for s in symbols}
    day, per_day = date(2025, 2, 3), []
    while day < date(2025, 3, 13):  # 28 business days after the first run
        day += timedelta(days=1)
        due = estimates_due(symbols, last, day, cycle_business_days=7)
        assert day.weekday() < 5 or due == []
        if day.weekday() < 5:
            per_day.append(len(due))
            last.update(dict.fromkeys(due, day))
            for symbol in due:
                asked[symbol].append(day)
    assert all(len(days) == 4 for days in asked.values())  # 28 business days: four cycles each
    assert all(60 <= count <= 140 for count in per_day)  # 100 a day on average
    # 7 business days apart: 9 calendar days, or 11 across two weekends
    assert all((b - a).days in (9, 11) for days in asked.values() for a, b in zip(days, days[1:]))
    # a new listing is asked at once; one whose slot passed unrun (a holiday) as soon as a cycle has passed
    assert estimates_due(["NEW"], {}, date(2025, 3, 14), cycle_business_days=7) == ["NEW"]
    missed = {s: date(2025, 2, 3) for s in symbols}  # nothing since the first run: 8 business days by 2025-02-13
    assert estimates_due(symbols, missed, date(2025, 2, 13), cycle_business_days=7) == symbols
    assert estimates_due(symbols, missed, date(2025, 2, 4), cycle_business_days=7) != symbols


def test_statements_are_due_after_a_scheduled_release_and_until_its_quarter_is_in():
    as_of = date(2025, 2, 3)
    fetches = {
        # the release of 2025-01-30 was scheduled at the last fetch: due
        "SCHEDULED": StatementsFetch(date(2025, 1, 20), date(2025, 1, 30), date(2024, 10, 31), date(2024, 9, 30)),
        # fetched the day after the release, but the December quarter was not in yet: due again
        "LATE": StatementsFetch(date(2025, 1, 31), date(2025, 4, 30), date(2025, 1, 30), date(2024, 9, 30)),
        # the December quarter came with the fetch after the release: nothing more to ask
        "IN": StatementsFetch(date(2025, 1, 31), date(2025, 4, 30), date(2025, 1, 30), date(2024, 12, 31)),
        # the grace week after the release is over
        "OVER": StatementsFetch(date(2025, 1, 20), date(2025, 4, 30), date(2025, 1, 10), date(2024, 9, 30)),
    }
    assert statements_due(["NEVER", *fetches], fetches, as_of, max_age_days=30) == ["NEVER", "SCHEDULED", "LATE"]
    assert statements_due(["OVER"], fetches, date(2025, 2, 20), max_age_days=30) == ["OVER"]  # 31 days old


def test_annual_statements_only_after_fiscal_year_results():
    # September fiscal year (Apple): the release of 2024-10-31 follows the September quarter
    after_year_end = StatementsFetch(date(2024, 10, 20), date(2024, 10, 31), None, None)
    assert annual_due(after_year_end, date(2024, 11, 1), fiscal_year_end_month=9, max_age_days=30)
    # the release of 2025-01-30 follows the December quarter: quarterly only
    mid_year = StatementsFetch(date(2025, 1, 20), date(2025, 1, 30), None, None)
    assert not annual_due(mid_year, date(2025, 1, 31), fiscal_year_end_month=9, max_age_days=30)
    # a March fiscal year (Alibaba): results in May follow the March quarter
    alibaba = StatementsFetch(date(2025, 5, 1), date(2025, 5, 15), None, None)
    assert annual_due(alibaba, date(2025, 5, 16), fiscal_year_end_month=3, max_age_days=30)
    assert annual_due(None, date(2025, 5, 16), fiscal_year_end_month=3, max_age_days=30)  # never fetched


def test_deferred_symbols_come_first_in_their_order():
    assert deferred_first(["A", "B", "C", "D"], {"D", "B"}) == ["B", "D", "A", "C"]


def test_a_restated_overlap_names_its_symbol():
    import pandas as pd

    from orchestration.ingest_policy import restated_symbols

    day = date(2025, 1, 6)
    stored = pd.DataFrame({"symbol": ["A", "B", "C"], "date": [day] * 3, "close": [100.0, 50.0, 10.0], "adj_close": [99.0, 49.0, 9.9]})
    fetched = pd.DataFrame({"symbol": ["A", "B", "C", "D"], "date": [day] * 4, "close": [100.0, 50.0, 10.04, 7.0],
                            "adj_close": [99.0, 48.0, 9.9, 7.0]})  # fmt: skip
    # B's adjusted close moved 2%; C's close 0.4% (within the 0.5% tolerance); D is new
    assert restated_symbols(fetched, stored) == ["B"]
