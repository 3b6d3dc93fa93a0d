"""universe.yml is validated before any fetch; each error names the entry and its line."""

from pathlib import Path

import pytest

from orchestration.universe import UniverseError, load_universe, parse_universe

REPO_UNIVERSE = Path(__file__).parent.parent / "universe.yml"
FIXTURE = (Path(__file__).parent / "fixtures" / "universe.yml").read_text()


def line_number(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_the_repository_universe_is_valid_and_complete():
    universe = load_universe(REPO_UNIVERSE)
    company_ids = {c.company_id for c in universe.companies}
    assert {"alibaba", "tencent", "jd", "pdd", "baidu", "amazon", "microsoft", "alphabet", "meta", "apple",
            "nvidia"} <= company_ids  # fmt: skip
    alibaba = next(c for c in universe.companies if c.company_id == "alibaba")
    listings = {listing.symbol: listing for listing in alibaba.listings}
    assert (listings["BABA"].exchange, listings["BABA"].currency, listings["BABA"].shares_per_listing_unit) == (
        "NYSE", "USD", 8)  # fmt: skip
    assert (listings["9988.HK"].exchange, listings["9988.HK"].currency, listings["9988.HK"].shares_per_listing_unit) == (
        "HKEX", "HKD", 1)  # fmt: skip
    assert {"china_internet", "us_megacap_tech", "hyperscalers"} <= set(universe.peer_groups)
    assert {"^HSI", "^GSPC", "^IXIC"} <= {b.symbol for b in universe.benchmarks}
    assert {(p.base_currency, p.quote_currency) for p in universe.fx_pairs} == {("USD", "HKD"), ("USD", "CNY")}


def test_unknown_peer_group_names_the_company_and_line():
    bad = FIXTURE.replace("peer_groups: [us_megacap_tech]", "peer_groups: [us_megacap_tek]")
    with pytest.raises(UniverseError) as error:
        parse_universe(bad)
    message = str(error.value)
    assert f"universe.yml:{line_number(bad, 'us_megacap_tek')}: companies[acme].peer_groups" in message
    assert "unknown peer group 'us_megacap_tek'" in message


def test_duplicate_symbol_names_both_places():
    bad = FIXTURE.replace("{symbol: ACME,", "{symbol: DRGN,")
    with pytest.raises(UniverseError) as error:
        parse_universe(bad)
    message = str(error.value)
    assert f"universe.yml:{line_number(bad, '{symbol: DRGN, exchange: NASDAQ')}: companies[acme].listings[DRGN]" in message
    assert "duplicate symbol 'DRGN' (first defined at companies.0.listings.0)" in message


def test_listing_without_currency_is_named():
    bad = FIXTURE.replace("{symbol: 9999.HK, exchange: HKEX, currency: HKD,", "{symbol: 9999.HK, exchange: HKEX,")
    with pytest.raises(UniverseError) as error:
        parse_universe(bad)
    assert (
        f"universe.yml:{line_number(bad, 'symbol: 9999.HK')}: companies[dragon].listings[9999.HK]: "
        "missing required field 'currency'" in str(error.value)
    )


@pytest.mark.parametrize("symbol", ["acme", "AC ME", "ACME;DROP", "AC'ME", "ACME$"])
def test_symbol_with_characters_outside_the_allowed_set_is_named(symbol):
    bad = FIXTURE.replace("{symbol: ACME,", f'{{symbol: "{symbol}",')
    with pytest.raises(UniverseError) as error:
        parse_universe(bad)
    assert f"companies[acme].listings[{symbol}].symbol: symbol {symbol!r} has characters outside [A-Z0-9.^=-]" in str(
        error.value
    )


def test_benchmark_and_fx_symbols_are_checked_too():
    bad = FIXTURE.replace("{symbol: CNY=X,", "{symbol: CNY X,")
    with pytest.raises(UniverseError, match=r"fx_pairs\[CNY X\]\.symbol: symbol 'CNY X' has characters"):
        parse_universe(bad)


def test_unknown_exchange_and_benchmark_are_errors():
    bad = FIXTURE.replace("exchange: NASDAQ, currency: USD", "exchange: NASDQ, currency: USD").replace(
        "primary: true, benchmark: ^HSI", "primary: true, benchmark: ^HSX"
    )
    bad = bad.replace("shares_per_listing_unit: 1, benchmark: ^HSI}", "shares_per_listing_unit: 1, benchmark: ^HSX}")
    with pytest.raises(UniverseError) as error:
        parse_universe(bad)
    assert "listing 'ACME': unknown exchange 'NASDQ'" in str(error.value)
    assert "listing '9999.HK': unknown benchmark '^HSX'" in str(error.value)


def test_every_company_needs_exactly_one_primary_listing():
    bad = FIXTURE.replace("shares_per_listing_unit: 1, benchmark: ^HSI}", "shares_per_listing_unit: 1, primary: true, benchmark: ^HSI}")
    with pytest.raises(UniverseError, match=r"companies\[dragon\]: needs exactly one primary listing"):
        parse_universe(bad)


def test_invalid_yaml_is_a_universe_error():
    with pytest.raises(UniverseError, match="not valid YAML"):
        parse_universe("companies: [unclosed")


# --- Bad input is refused before it is built: size, nesting and alias limits, every field's domain.

ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
)  # 9 ** 9 = 387,420,489 strings once every alias is expanded, from 9 lines and 72 aliases


def test_an_alias_bomb_fails_at_once_with_a_short_error_naming_the_line():
    import time
    import traceback

    began = time.monotonic()
    with pytest.raises(UniverseError) as error:
        parse_universe(ALIAS_BOMB)
    assert time.monotonic() - began < 0.5
    # a = 10 nodes, b = 1 + 9 x 10 = 91, c = 820, d = 7,381, e = 66,430. The aliases of lines 2-5
    # copy 9 x (10 + 91 + 820 + 7,381) = 74,718 nodes; the first *e, on line 6, brings that to 141,148.
    assert str(error.value) == (
        "universe.yml:6: YAML alias *e brings the nodes aliases copy past 100,000 (an alias bomb?); "
        "write the entries out"
    )
    # nothing chained or attached: formatting the error cannot expand the document
    assert error.value.__cause__ is None and error.value.__context__ is None
    assert error.value.args == (str(error.value),)
    assert len("".join(traceback.format_exception(error.value))) < 5_000


def test_a_few_aliases_are_fine_but_more_than_a_hundred_are_refused():
    shared = FIXTURE.replace("  NYSE:   {calendar: XNYS", "  NYSE:   &us {calendar: XNYS").replace(
        "  NASDAQ: {calendar: XNYS, timezone: America/New_York}", "  NASDAQ: *us"
    )
    assert parse_universe(shared).exchanges["NASDAQ"].calendar == "XNYS"

    many = shared + "x: [" + ", ".join(["*us"] * 101) + "]\n"
    with pytest.raises(UniverseError) as error:
        parse_universe(many)
    assert str(error.value) == "universe.yml:38: more than 100 YAML aliases; write the entries out"


def test_a_universe_file_over_32_megabytes_is_refused(tmp_path):
    big = tmp_path / "universe.yml"
    big.write_text("#" * 31_999_999 + "\n" + FIXTURE)  # a valid universe, padded past 32,000,000 bytes
    with pytest.raises(UniverseError) as error:
        load_universe(big)
    assert str(error.value) == f"universe.yml: {32_000_000 + len(FIXTURE):,} bytes, over the 32,000,000-byte limit"


def test_the_70000_listing_universe_the_readme_sizes_is_one_the_loader_takes(tmp_path):
    """The README extrapolates to 70,000 listings: that universe, written as the benchmark writes
    one (about 21 MB), loads and validates (it was refused by a 4 MB limit)."""
    from benchmarks.synthetic import synthetic_companies, universe_yaml

    path = tmp_path / "universe.yml"
    path.write_text(universe_yaml(synthetic_companies(70_000)))
    assert 20_000_000 < path.stat().st_size
    universe = load_universe(path)
    assert sum(len(company.listings) for company in universe.companies) == 70_000


def test_the_garbage_collector_runs_again_after_a_parse_good_or_bad():
    import gc

    parse_universe(FIXTURE)
    assert gc.isenabled()
    with pytest.raises(UniverseError):
        parse_universe(FIXTURE.replace("currency: USD", "currency: usd", 1))
    assert gc.isenabled()


def test_nesting_deeper_than_64_levels_is_refused_at_its_line():
    bad = FIXTURE.replace("    country: US\n", "    country: US\n    sector: " + "[" * 100 + "]" * 100 + "\n")
    with pytest.raises(UniverseError) as error:
        parse_universe(bad)
    assert str(error.value) == "universe.yml:33: nested deeper than 64 levels"


LISTING_ACME = "{symbol: ACME, exchange: NASDAQ, currency: USD, shares_per_listing_unit: 1, primary: true,"


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("{calendar: XHKG,", "{calendar: XHKX,",
         "universe.yml:5: exchanges.HKEX.calendar: calendar 'XHKX' is not an exchange_calendars calendar (e.g. XNYS, XHKG)"),
        ("timezone: Asia/Hong_Kong", "timezone: Asia/Hongkong_",
         "universe.yml:5: exchanges.HKEX.timezone: timezone 'Asia/Hongkong_' is not an IANA time zone (e.g. America/New_York)"),
        # a real zone, but not the calendar's: every session open (from the calendar) would move
        ("timezone: Asia/Hong_Kong", "timezone: Asia/Tokyo",
         "universe.yml:5: exchanges.HKEX: timezone 'Asia/Tokyo' is not calendar XHKG's time zone 'Asia/Hong_Kong'"),
        ("timezone: Asia/Hong_Kong", "timezone: ../../etc/passwd",
         "universe.yml:5: exchanges.HKEX.timezone: timezone '../../etc/passwd' is not an IANA time zone (e.g. America/New_York)"),
        ("{symbol: ACME,", '{symbol: "ACME\\n",',
         "universe.yml:37: companies[acme].listings[ACME\\n].symbol: symbol 'ACME\\n' has characters outside [A-Z0-9.^=-]"),
        ("ACME, exchange: NASDAQ, currency: USD,", 'ACME, exchange: NASDAQ, currency: "USD\\n",',
         "universe.yml:37: companies[acme].listings[ACME].currency: currency 'USD\\n' is not a three-letter ISO code"),
        ("shares_per_listing_unit: 1, primary: true,", "shares_per_listing_unit: .nan, primary: true,",
         "universe.yml:37: companies[acme].listings[ACME].shares_per_listing_unit: must be a finite number greater than 0, not nan"),
        ("shares_per_listing_unit: 1, primary: true,", "shares_per_listing_unit: .inf, primary: true,",
         "universe.yml:37: companies[acme].listings[ACME].shares_per_listing_unit: must be a finite number greater than 0, not inf"),
        ("shares_per_listing_unit: 1, primary: true,", "shares_per_listing_unit: -8, primary: true,",
         "universe.yml:37: companies[acme].listings[ACME].shares_per_listing_unit: must be a finite number greater than 0, not -8"),
        ("shares_per_listing_unit: 1, primary: true,", "shares_per_listing_unit: 0.0, primary: true,",
         "universe.yml:37: companies[acme].listings[ACME].shares_per_listing_unit: must be a finite number greater than 0, not 0.0"),
        ("shares_per_listing_unit: 1, primary: true,", "shares_per_listing_unit: true, primary: true,",
         "universe.yml:37: companies[acme].listings[ACME].shares_per_listing_unit: must be a number, not True"),
        ("shares_per_listing_unit: 1, primary: true,", 'shares_per_listing_unit: "8", primary: true,',
         "universe.yml:37: companies[acme].listings[ACME].shares_per_listing_unit: must be a number, not '8'"),
        (LISTING_ACME, LISTING_ACME.replace("primary: true", 'primary: "yes"'),
         "universe.yml:37: companies[acme].listings[ACME].primary: must be true or false, not 'yes'"),
        ("fiscal_year_end_month: 9", "fiscal_year_end_month: true",
         "universe.yml:34: companies[acme].fiscal_year_end_month: must be a whole number, not True"),
        ("fiscal_year_end_month: 9", 'fiscal_year_end_month: "9"',
         "universe.yml:34: companies[acme].fiscal_year_end_month: must be a whole number, not '9'"),
        ("reporting_currency: USD", 'reporting_currency: "USD\\n"',
         "universe.yml:33: companies[acme].reporting_currency: currency 'USD\\n' is not a three-letter ISO code"),
        ("name: Acme Corporation", 'name: "Acme\\tCorporation"',
         "universe.yml:31: companies[acme].name: 'Acme\\tCorporation' contains control characters"),
        ("name: Acme Corporation", 'name: " "', "universe.yml:31: companies[acme].name: must not be blank"),
        ("us_megacap_tech: US technology megacaps", 'us_megacap_tech: "US\\u0007tech"',
         "universe.yml:17: peer_groups.us_megacap_tech: 'US\\x07tech' contains control characters"),
        ("base_currency: USD, quote_currency: HKD", "base_currency: HKD, quote_currency: HKD",
         "universe.yml:8: fx_pairs[USDHKD=X]: base and quote currency are both HKD"),
    ],
)  # fmt: skip
def test_each_field_outside_its_domain_names_file_line_and_field(old, new, expected):
    assert old in FIXTURE
    with pytest.raises(UniverseError) as error:
        parse_universe(FIXTURE.replace(old, new, 1))
    assert str(error.value) == f"invalid universe:\n  {expected}"
