"""The universe of companies, listings, peer groups, benchmarks and FX pairs (`universe.yml`).

Validated on load, before any fetch: every error names the entry and its line in the file.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from orchestration.instruments import Instrument

SYMBOL_PATTERN = re.compile(r"^[A-Z0-9.^=-]+$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


class UniverseError(ValueError):
    """universe.yml is malformed. The message names the offending entry and its line."""


def _check_symbol(symbol: str) -> str:
    if not SYMBOL_PATTERN.match(symbol):
        raise ValueError(f"symbol {symbol!r} has characters outside [A-Z0-9.^=-]")
    return symbol


def _check_currency(currency: str) -> str:
    if not CURRENCY_PATTERN.match(currency):
        raise ValueError(f"currency {currency!r} is not a three-letter ISO code")
    return currency


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exchange(_Strict):
    calendar: str  # exchange-calendars code, e.g. XNYS, XHKG
    timezone: str


class FxPair(_Strict):
    symbol: str
    base_currency: str
    quote_currency: str

    _symbol = field_validator("symbol")(_check_symbol)
    _base = field_validator("base_currency", "quote_currency")(_check_currency)


class Benchmark(_Strict):
    symbol: str
    name: str
    exchange: str

    _symbol = field_validator("symbol")(_check_symbol)


class Listing(_Strict):
    symbol: str
    exchange: str
    currency: str
    # Ordinary shares represented by one traded unit: one BABA ADS is 8 ordinary shares.
    shares_per_listing_unit: float = Field(gt=0)
    primary: bool = False
    benchmark: str | None = None

    _symbol = field_validator("symbol")(_check_symbol)
    _currency = field_validator("currency")(_check_currency)


class Company(_Strict):
    company_id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    country: str
    reporting_currency: str
    fiscal_year_end_month: int = Field(ge=1, le=12)
    sector: str | None = None
    industry: str | None = None
    peer_groups: list[str] = []
    listings: list[Listing] = Field(min_length=1)

    _currency = field_validator("reporting_currency")(_check_currency)

    @model_validator(mode="after")
    def _one_primary_listing(self) -> Company:
        primaries = [listing.symbol for listing in self.listings if listing.primary]
        if len(primaries) != 1:
            raise ValueError(f"needs exactly one primary listing, has {primaries or 'none'}")
        return self

    @property
    def primary_listing(self) -> Listing:
        return next(listing for listing in self.listings if listing.primary)


class Universe(_Strict):
    exchanges: dict[str, Exchange]
    fx_pairs: list[FxPair] = []
    benchmarks: list[Benchmark] = []
    peer_groups: dict[str, str]
    companies: list[Company] = Field(min_length=1)

    @property
    def listings(self) -> list[tuple[Company, Listing]]:
        return [(company, listing) for company in self.companies for listing in company.listings]

    @property
    def price_symbols(self) -> list[str]:
        """Every symbol whose daily prices are loaded: listings, benchmarks and FX pairs."""
        return (
            [listing.symbol for _, listing in self.listings]
            + [benchmark.symbol for benchmark in self.benchmarks]
            + [pair.symbol for pair in self.fx_pairs]
        )

    def instruments(self, exchanges: Collection[str] | None = None, fx: bool = True) -> list[Instrument]:
        """Price series with the unit their prices are quoted in: the listings and benchmarks of
        `exchanges` (all when None), and the FX pairs when `fx`."""
        return (
            [Instrument(listing.symbol, listing.currency, "raw") for _, listing in self.listings
             if exchanges is None or listing.exchange in exchanges]
            + [Instrument(benchmark.symbol, "index_points", "index") for benchmark in self.benchmarks
               if exchanges is None or benchmark.exchange in exchanges]
            + ([Instrument(pair.symbol, f"{pair.quote_currency}_per_{pair.base_currency}", "fx") for pair in self.fx_pairs]
               if fx else [])
        )  # fmt: skip

    @property
    def fundamentals_symbols(self) -> list[str]:
        """Statements are fetched once per company, through its primary listing."""
        return [company.primary_listing.symbol for company in self.companies]

    def expected_currency(self, symbol: str) -> str | None:
        """The currency a symbol's prices must be quoted in (None for indices and FX rates)."""
        for _, listing in self.listings:
            if listing.symbol == symbol:
                return listing.currency
        return None


def _cross_reference_errors(universe: Universe) -> list[tuple[tuple[Any, ...], str]]:
    """Rules that span entries. Each error carries the path of the entry it names."""
    errors: list[tuple[tuple[Any, ...], str]] = []
    seen: dict[str, tuple[Any, ...]] = {}

    def claim(symbol: str, path: tuple[Any, ...]) -> None:
        if symbol in seen:
            errors.append((path, f"duplicate symbol {symbol!r} (first defined at {_describe(seen[symbol])})"))
        else:
            seen[symbol] = path

    benchmark_symbols = {benchmark.symbol for benchmark in universe.benchmarks}
    company_ids: set[str] = set()
    for i, company in enumerate(universe.companies):
        if company.company_id in company_ids:
            errors.append((("companies", i, "company_id"), f"duplicate company_id {company.company_id!r}"))
        company_ids.add(company.company_id)
        for group in company.peer_groups:
            if group not in universe.peer_groups:
                errors.append(
                    (
                        ("companies", i, "peer_groups"),
                        f"company {company.company_id!r}: unknown peer group {group!r} "
                        f"(known: {', '.join(sorted(universe.peer_groups))})",
                    )
                )
        for j, listing in enumerate(company.listings):
            path = ("companies", i, "listings", j)
            claim(listing.symbol, path)
            if listing.exchange not in universe.exchanges:
                errors.append((path, f"listing {listing.symbol!r}: unknown exchange {listing.exchange!r}"))
            if listing.benchmark is not None and listing.benchmark not in benchmark_symbols:
                errors.append((path, f"listing {listing.symbol!r}: unknown benchmark {listing.benchmark!r}"))
    for i, benchmark in enumerate(universe.benchmarks):
        claim(benchmark.symbol, ("benchmarks", i))
        if benchmark.exchange not in universe.exchanges:
            errors.append((("benchmarks", i), f"benchmark {benchmark.symbol!r}: unknown exchange {benchmark.exchange!r}"))
    for i, pair in enumerate(universe.fx_pairs):
        claim(pair.symbol, ("fx_pairs", i))
    return errors


def _describe(path: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in path)


def _line_of(root: yaml.Node | None, path: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at `path` (or of its nearest existing parent)."""
    node, line = root, None
    for part in path:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            node = next((value for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


def _entry_name(data: Any, path: tuple[Any, ...]) -> str:
    """A readable name for the entry at `path`: `companies[alibaba].listings[BABA].currency`."""
    parts: list[str] = []
    node = data
    for part in path:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            node = node[part]
            label = node.get("company_id") or node.get("symbol") if isinstance(node, dict) else None
            parts[-1] += f"[{label if label else part}]"
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


# libyaml's parser where PyYAML was built with it: a 5,000-listing universe parses in well under a
# second instead of about ten.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_universe(text: str, origin: str = "universe.yml") -> Universe:
    """Parse and validate universe YAML text. Raises UniverseError naming each bad entry."""
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as error:
        raise UniverseError(f"{origin}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise UniverseError(f"{origin}: expected a mapping at the top level")

    def located(path: tuple[Any, ...], message: str) -> str:
        # The node tree (for line numbers) is composed only when there is an error to place.
        line = _line_of(yaml.compose(text, Loader=_LOADER), path)
        where = f"{origin}:{line}" if line else origin
        return f"{where}: {_entry_name(data, path)}: {message}"

    try:
        universe = Universe.model_validate(data)
    except ValidationError as error:
        messages = []
        for item in error.errors():
            path = tuple(item["loc"])
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "missing":
                message = f"missing required field {path[-1]!r}"
                path = path[:-1]
            messages.append(located(path, message))
        raise UniverseError("invalid universe:\n  " + "\n  ".join(messages)) from None

    cross_errors = _cross_reference_errors(universe)
    if cross_errors:
        raise UniverseError("invalid universe:\n  " + "\n  ".join(located(p, m) for p, m in cross_errors))
    return universe


def load_universe(path: str | Path) -> Universe:
    path = Path(path)
    return parse_universe(path.read_text(), origin=path.name)
