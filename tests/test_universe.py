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
