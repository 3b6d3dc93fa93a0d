"""Daily prices: validation of every row, then the choice among vintages, by explicit rules.

A source hands over *vintages*: downloads of a symbol made at different times (the files of a
snapshot, or one Yahoo fetch). Each row is validated on its own and against its neighbours in
its vintage before it takes part in any choice, so one bad row can never decide which download
wins or restate a symbol's history. Then, per symbol and day (`choose_prices`):

- every vintage is put on today's split basis with the split events (a download's "raw" close is
  split-adjusted as of its download date, taken as its last valid date);
- the traded close (for valuation) comes from a raw vintage, newest first; where only a
  dividend-adjusted vintage covers the day, it is recovered from that vintage's own dividends
  (`from_dividends`), or from its ratio to traded downloads on both sides of the day when that
  ratio is the same on both sides, so that no dividend can lie between (`from_overlap`); where
  neither is possible it stays null (price_basis `adjusted`) and valuation is null;
- adj_close (for returns) is one continuous series on the newest vintage's dividend basis. Where a
  download has a traded close but no adjusted close (an auto-adjusted download's rows after its
  last ex-date, or Yahoo's newest bar), the traded close's return is chained from the last adjusted
  close of the same download while no dividend or split is known in between; `adj_close_basis`
  says how each day's adjusted close was obtained.

A normalized price frame has exactly the columns of raw.prices (orchestration.warehouse.schema.PRICES).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from orchestration.normalize.validated import Validated, first_reason, rejected_rows
from orchestration.warehouse.schema import PRICES

NUMERIC_COLUMNS = ["open", "high", "low", "close", "adj_close", "volume", "dividends", "stock_splits"]
# Relative slack for "close within [low, high]": adjusted series are float products of factors.
RANGE_TOLERANCE = 1e-6
# A close more than this multiple away from its neighbours, with no split to explain it, is held
# back as implausible (a 100x typo) until a second vintage confirms it.
IMPLAUSIBLE_MOVE = 2.5
# Two vintages "agree" on a day within this relative difference.
AGREEMENT_TOLERANCE = 0.01
# price_basis of a chosen row: how its traded close was obtained. Higher wins over lower, in the
# choice and in the upsert (a stored traded close is never replaced by a recovered or missing one).
BASIS_RANK = {"adjusted": 1, "from_dividends": 2, "from_overlap": 2, "raw": 3, "index": 3, "fx": 3}
VINTAGE_COLUMNS = ["vintage", "line"]  # where a row came from: file (or fetch) and line
# What a source hands over: raw.prices' columns but those the choice among downloads sets.
CHOSEN_COLUMNS = ["vintage_date", "adj_close_basis"]
SOURCE_COLUMNS = [c for c in PRICES.data_columns if c not in CHOSEN_COLUMNS]
# Two ratios of an adjusted to a traded close "are the same" within this: any real dividend moves
# the ratio by far more (a 0.1% yield by 1e-3); float noise of two downloads stays below 1e-6.
SAME_RATIO_TOLERANCE = 1e-5


def empty_prices() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in SOURCE_COLUMNS})


def empty_vintage_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in SOURCE_COLUMNS + VINTAGE_COLUMNS})


def _parse_dates(values: pd.Series) -> pd.Series:
    """ISO dates (YYYY-MM-DD) only; anything else, 2025-02-30 included, is NaT."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values).dt.normalize()
    if pd.api.types.infer_dtype(values, skipna=True) in ("date", "datetime"):  # date objects, not text
        return pd.to_datetime(values, errors="coerce").dt.normalize()
    as_text = values.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v).astype("object")
    return pd.to_datetime(as_text, errors="coerce", format="%Y-%m-%d")


def coerce_price_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Cast a price frame to its contract types (dates as datetime.date, numbers as float64)."""
    extra = [c for c in VINTAGE_COLUMNS + CHOSEN_COLUMNS if c in frame.columns]
    out = frame[SOURCE_COLUMNS + extra].copy()
    out["symbol"] = out["symbol"].astype("object")
    out["date"] = _parse_dates(out["date"]).dt.date
    for column in NUMERIC_COLUMNS:
        out[column] = pd.to_numeric(out[column].replace("", None), errors="coerce").astype("float64")
    for column in ("currency", "price_basis", *(["adj_close_basis"] if "adj_close_basis" in out.columns else [])):
        out[column] = out[column].astype("object")
    return out.reset_index(drop=True)


def _unparseable(original: pd.Series, parsed: pd.Series) -> pd.Series:
    """A cell that had a value the parser could not read (never stored as null over a good value)."""
    if pd.api.types.is_numeric_dtype(original) or pd.api.types.is_datetime64_any_dtype(original):
        return original.notna() & parsed.isna()  # typed already: no text to read (a live source's frame)
    present = original.notna() & original.astype("str").str.strip().ne("")
    return present & parsed.isna()


def _log_steps(ordered: pd.DataFrame, column: str, series: list[str]) -> tuple[pd.Series, pd.Series]:
    """Log change of `column` from the previous row and to the next row of the same series (rows
    already sorted by series and date); NaN at a series' ends and where a value is missing."""
    values = np.log(ordered[column].where(ordered[column] > 0))
    grouped = values.groupby([ordered[c] for c in series], sort=False)
    return values - grouped.shift(1), values - grouped.shift(-1)


def _neighbour_jumps(frame: pd.DataFrame, split_dates: set[tuple[str, date]]) -> pd.Series:
    """Rows whose close is more than IMPLAUSIBLE_MOVE times away from the previous or next close of
    its own vintage, in the same direction on both sides (a spike), or from the previous one with
    no split on that day (a jump). FX and other series are judged alike."""
    ordered = frame.sort_values(["vintage", "symbol", "date"])
    step_in, step_out = _log_steps(ordered, "close", ["vintage", "symbol"])
    limit = np.log(IMPLAUSIBLE_MOVE)
    spike = (step_in.abs() > limit) & (step_out.abs() > limit) & (np.sign(step_in) == np.sign(step_out))
    explained = pd.Series(
        [(s, d) in split_dates for s, d in zip(ordered["symbol"], ordered["date"])], index=ordered.index
    )
    after_spike = spike.groupby([ordered["vintage"], ordered["symbol"]]).shift(1).fillna(False).astype(bool)
    jump = (step_in.abs() > limit) & ~explained & ~after_spike  # the day after a spike is back to normal
    return (spike | jump).reindex(frame.index).fillna(False)


def validate_prices(
    frame: pd.DataFrame,
    as_of: date,
    expected_currency: dict[str, str],
    split_dates: set[tuple[str, date]] | None = None,
) -> Validated:
    """Split vintage rows into valid rows and rejected rows, each rejection with its reason.

    `expected_currency` maps a listing's symbol to its trading currency (indices and FX are absent).
    `split_dates` holds (symbol, ex_date) of known splits: a jump on such a day is explained.
    Rejected rows keep the row exactly as it came (the strings of a file), with its file and line.
    """
    if "vintage" not in frame.columns:
        frame = frame.assign(vintage="fetch", line=None)
    original = frame[SOURCE_COLUMNS + VINTAGE_COLUMNS].reset_index(drop=True)
    typed = coerce_price_types(original)
    close, low, high = typed["close"], typed["low"], typed["high"]
    slack_low, slack_high = low.abs() * RANGE_TOLERANCE, high.abs() * RANGE_TOLERANCE
    codes, symbols = pd.factorize(typed["symbol"])  # one lookup per distinct symbol, not per row
    expected = pd.Series(
        np.array([expected_currency.get(s) for s in symbols] + [None], dtype=object)[codes], index=typed.index
    )
    unparseable = pd.Series(False, index=typed.index)
    for column in NUMERIC_COLUMNS:
        unparseable |= _unparseable(original[column], typed[column])
    key = ["vintage", *PRICES.key]
    values = SOURCE_COLUMNS
    basis = typed["price_basis"]
    traded = basis.isin(["raw", "adjusted"])
    factor = typed["adj_close"] / close
    checks = [
        ("missing_symbol", typed["symbol"].isna() | typed["symbol"].astype("str").str.strip().eq("")),
        ("unparseable_date", typed["date"].isna()),
        ("unparseable_number", unparseable),
        ("missing_close", close.isna()),
        ("non_finite_price", ~np.isfinite(typed[["open", "high", "low", "close", "adj_close"]].fillna(0)).all(axis=1)),
        ("non_positive_price", (typed[["open", "high", "low", "close", "adj_close"]] <= 0).any(axis=1)),
        ("unknown_price_basis", ~basis.isin(["raw", "adjusted", "index", "fx"])),
        ("high_below_low", high < low),
        # Yahoo's daily FX close is a fixing taken outside the bar's high/low window: only
        # traded instruments must close inside their range.
        ("close_outside_low_high", basis.ne("fx") & ((close < low - slack_low) | (close > high + slack_high))),
        # A dividend adjustment only ever lowers a close; a split never shows in one download.
        ("adj_close_above_close", basis.eq("raw") & (factor > 1 + RANGE_TOLERANCE)),
        ("negative_or_fractional_volume", typed["volume"].notna() & ((typed["volume"] < 0) | (typed["volume"] % 1 != 0))),
        ("negative_dividend", typed["dividends"] < 0),
        ("non_positive_split_ratio", typed["stock_splits"] < 0),
        ("future_date", pd.to_datetime(typed["date"]) > pd.Timestamp(as_of)),  # NaT compares False
        ("currency_mismatch", traded & expected.notna() & (expected != typed["currency"])),
    ]
    reasons = first_reason(typed, checks)

    # Among rows valid so far: a key seen twice in one vintage is a duplicate when the values are
    # the same, and a conflict when they differ (both are held back: no rule says which is right).
    valid = reasons.isna()
    candidates = typed[valid]
    repeated = candidates.duplicated(subset=key, keep=False)
    if repeated.any():
        same_values = candidates[repeated].astype("str").duplicated(subset=key + values, keep=False)
        conflict = same_values.index[~same_values]
        reasons[conflict] = "conflicting_duplicate"
        # the same row twice is one fact: it loads once (dropped after validation, below)

    # Implausible moves, judged against the valid neighbours of the same vintage only, and
    # confirmed when another vintage has (nearly) the same close that day.
    valid = reasons.isna()
    jumps = _neighbour_jumps(typed[valid], split_dates or set())
    if jumps.any():
        suspects = typed[valid][jumps]
        others = typed[valid & ~typed.index.isin(suspects.index)]
        for index, row in suspects.iterrows():
            same_day = others[(others["symbol"] == row["symbol"]) & (others["date"] == row["date"])
                              & (others["vintage"] != row["vintage"])]  # fmt: skip
            if not any(_agree_but_for_a_split(row["close"], other) for other in same_day["close"]):
                reasons[index] = "implausible_move"

    ok = reasons.isna()
    rows = typed[ok].drop_duplicates(subset=key).reset_index(drop=True)
    return Validated(rows=rows, rejected=rejected_rows("prices", original, reasons))


def _agree_but_for_a_split(a: float, b: float) -> bool:
    """Two closes of one day agree when equal within AGREEMENT_TOLERANCE, or a whole split ratio
    apart (two downloads on different split bases)."""
    ratio = max(a, b) / min(a, b)
    return abs(ratio / round(ratio) - 1) < AGREEMENT_TOLERANCE


def _split_factor_after(dates: pd.Series, events: pd.DataFrame, basis_date: date) -> pd.Series:
    """Product of the split ratios a download made on `basis_date` has not applied yet, per row:
    every event after the download, for the rows dated before its ex_date."""
    factor = pd.Series(1.0, index=dates.index)
    for ex_date, ratio in events[["ex_date", "split_ratio"]].itertuples(index=False):
        if ex_date > basis_date:
            factor[dates < ex_date] *= ratio
    return factor


def _dividend_factors(rows: pd.DataFrame, dividend_scale: float = 1.0) -> pd.Series:
    """Yahoo's cumulative dividend adjustment of an adjusted-only download, per row, from the
    dividends in the same download (scaled by `dividend_scale`, see `_calibrated_scale`).

    Yahoo multiplies every close before an ex-date by 1 - D / (traded close the day before). In an
    adjusted series that close is unknown, but for the latest ex-date k with later factor G:
    adjusted(p) = traded(p) * f_k * G and f_k = 1 - D_k / traded(p) give f_k = adj(p) / (adj(p) + D_k * G).
    """
    ordered = rows.sort_values("date")
    adjusted = ordered["close"].to_numpy()
    dividends = ordered["dividends"].fillna(0.0).to_numpy() * dividend_scale
    factors = np.ones(len(ordered))
    later = 1.0
    for i in range(len(ordered) - 1, -1, -1):
        factors[i] = later
        if dividends[i] > 0 and i > 0:
            previous = adjusted[i - 1]
            later *= previous / (previous + dividends[i] * later)
    return pd.Series(factors, index=ordered.index).reindex(rows.index)


# A recovery from dividends must reproduce an overlapping traded download this closely.
RECOVERY_TOLERANCE = 0.002


def _calibrated_scale(adjusted: pd.DataFrame, traded: pd.DataFrame | None) -> float | None:
    """The factor by which Yahoo applied this download's dividends, checked on a traded download.

    Yahoo does not always adjust with the amounts it lists (9988.HK's HKD dividends were applied
    as their USD amounts), so where a traded download overlaps, the scale that makes the recovered
    closes equal the traded ones is solved for and must then fit every overlapping day. Without an
    overlap the listed amounts are taken as they are. None: no scale fits; do not recover.
    """
    if traded is None:
        return 1.0
    common = adjusted.set_index("date")["close"].to_frame("adjusted").join(
        traded.set_index("date")["close"].rename("traded"), how="inner"
    )
    if len(common) < 5:
        return 1.0
    # The latest overlapping days are the ones the recovery extends; a download's last bar may be
    # a session that had not closed yet, so it is left out.
    common = common.iloc[-61:-1]
    observed = float((common["adjusted"] / common["traded"]).median())

    def recovered_factor(scale: float) -> float:
        factors = _dividend_factors(adjusted, scale)
        return float(factors[adjusted["date"].isin(common.index)].median())

    low, high = 0.0, 10.0
    if not recovered_factor(high) <= observed <= recovered_factor(low):
        return None
    for _ in range(60):  # the factor falls as the scale grows: bisect
        middle = (low + high) / 2
        low, high = (middle, high) if recovered_factor(middle) > observed else (low, middle)
    scale = (low + high) / 2
    factors = _dividend_factors(adjusted, scale)
    check = adjusted.assign(factor=factors).set_index("date").join(common, how="inner")
    error = (check["close"] / check["factor"] / check["traded"] - 1).abs().max()
    return scale if error <= RECOVERY_TOLERANCE else None


def _chain_adjusted_close(frame: pd.DataFrame, split_days: set[tuple[str, date]]) -> pd.DataFrame:
    """Fill the adjusted close where a download gives a traded close but none, with how each was obtained.

    Per download and symbol, in date order (`adj_close_basis`):
    - `download`: the download's own adjusted close, or the close of a row it labels `adjusted`
      (an auto-adjusted download: its close is the adjusted close);
    - `unadjusted`: an index or FX close (nothing is paid on them);
    - `chained`: the last known adjusted close times the traded close's return since that day,
      while no dividend or split is known in between (Yahoo adjusts only the days before an
      ex-date, so those returns are the adjusted ones). A download with no adjusted close at all
      starts its chain at its first day; the splice puts the series on the common basis;
    - null: a dividend or split since the last adjusted close: the return is unknown.
    A dividend on the day after a row that is already on the adjusted basis breaks nothing: that
    row's close was adjusted for it.
    """
    out = frame.sort_values(["vintage", "symbol", "date"]).copy()
    adj = out["adj_close"].copy()
    basis = pd.Series(np.where(adj.notna(), "download", None), index=out.index, dtype="object")
    labelled_adjusted = out["price_basis"].eq("adjusted") & adj.isna()
    adj[labelled_adjusted] = out.loc[labelled_adjusted, "close"]
    basis[labelled_adjusted] = "download"
    market = out["price_basis"].isin(["index", "fx"]) & adj.isna()
    adj[market] = out.loc[market, "close"]
    basis[market] = "unadjusted"

    groups = [out["vintage"], out["symbol"]]
    first_row = ~out.duplicated(subset=["vintage", "symbol"])
    without_any = adj.notna().groupby(groups).transform("sum").eq(0)
    start = first_row & without_any & out["close"].notna()
    adj[start] = out.loc[start, "close"]
    basis[start] = "chained"

    known = adj.notna()
    segment = known.groupby(groups).cumsum()  # rows since (and including) the last known adjusted close
    keys = [out["vintage"], out["symbol"], segment]
    anchor_adj = adj.where(known).groupby(keys).transform("first")
    anchor_close = out["close"].where(known).groupby(keys).transform("first")
    split_day = pd.Series([(s, d) in split_days for s, d in zip(out["symbol"], out["date"])], index=out.index)
    action = (out["dividends"].fillna(0) > 0) | (out["stock_splits"].fillna(0) > 0) & out["stock_splits"].ne(1) | split_day
    previous_adjusted = out["price_basis"].eq("adjusted").groupby(groups).shift(1).fillna(False).astype(bool)
    breaks = (~known & action & ~previous_adjusted).astype(int).groupby(keys).cumsum()
    chained = ~known & out["close"].notna() & segment.gt(0) & breaks.eq(0) & anchor_close.gt(0)
    adj[chained] = anchor_adj[chained] * out.loc[chained, "close"] / anchor_close[chained]
    basis[chained] = "chained"
    out["adj_close"] = adj
    out["adj_close_basis"] = basis
    return out.reindex(frame.index)


def _recovered_from_overlap(frame: pd.DataFrame, traded: pd.DataFrame) -> pd.Series:
    """Traded closes of a download's adjusted days (NaN where unknown) from its ratio to traded closes.

    Yahoo's adjusted / traded ratio is a step function of the date that changes only at ex-dates.
    Where the ratio on the nearest traded day before a day and on the nearest one after it is the
    same (within SAME_RATIO_TOLERANCE), no dividend or split lies between them, and the day's
    traded close is its adjusted close over that ratio. Otherwise (or with traded days on one side
    only) nothing is known.
    """
    adjusted = frame[frame["price_basis"].eq("adjusted")][["date", "close"]].sort_values("date")
    if adjusted.empty or traded.empty:
        return pd.Series(np.nan, index=frame.index)
    common = adjusted.merge(traded[["date", "close"]].rename(columns={"close": "traded"}), on="date")
    common = common[common["traded"] > 0].assign(ratio=lambda c: c["close"] / c["traded"])[["date", "ratio"]]
    if common.empty:
        return pd.Series(np.nan, index=frame.index)
    days = pd.DataFrame({"date": pd.to_datetime(adjusted["date"]), "row": adjusted.index})
    ratios = common.assign(date=pd.to_datetime(common["date"])).sort_values("date")
    before = pd.merge_asof(days, ratios, on="date", direction="backward")["ratio"].to_numpy()
    after = pd.merge_asof(days, ratios, on="date", direction="forward")["ratio"].to_numpy()
    same = np.abs(after / before - 1) <= SAME_RATIO_TOLERANCE
    recovered = np.where(same, adjusted["close"].to_numpy() / before, np.nan)
    return pd.Series(recovered, index=days["row"].to_numpy()).reindex(frame.index)


def _choose_symbol(rows: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """One symbol's rows from all its vintages, by the rules in the module docstring (the general case)."""
    split_days = {(symbol, ex_date) for symbol, ex_date in zip(events["symbol"], events["ex_date"])}
    restated = []
    for vintage, frame in rows.groupby("vintage", sort=True):
        frame = frame.copy()
        basis_date = frame["date"].max()  # a download is split-adjusted as of (at least) its last day
        factor = _split_factor_after(frame["date"], events, basis_date)
        for column in ("open", "high", "low", "close", "adj_close", "dividends"):
            frame[column] = frame[column] / factor
        frame["volume"] = frame["volume"] * factor
        restated.append(_chain_adjusted_close(frame.assign(vintage_date=basis_date), split_days))
    traded_vintages = [v for v in restated if (v["price_basis"] == "raw").all()]
    traded_days = pd.concat([v[v["price_basis"] == "raw"] for v in restated]).drop_duplicates("date")
    vintages = []
    for frame in restated:
        frame = frame.copy()
        adjusted_days = frame["price_basis"].eq("adjusted")
        if adjusted_days.any():
            # an adjusted download (or the adjusted days of an auto-adjusted one): its close is no
            # traded close until recovered
            recovered = pd.DataFrame(np.nan, index=frame.index, columns=["open", "high", "low", "close"])
            if frame["dividends"].notna().any():
                scale = _calibrated_scale(frame, pd.concat(traded_vintages) if traded_vintages else None)
                if scale is not None:
                    dividend_factor = _dividend_factors(frame, scale)
                    for column in recovered.columns:
                        recovered[column] = frame[column] / dividend_factor
                    recovered[~adjusted_days] = np.nan
                    frame.loc[adjusted_days, "price_basis"] = "from_dividends"
            by_overlap = _recovered_from_overlap(frame, traded_days) / frame["close"]
            from_overlap = adjusted_days & frame["price_basis"].eq("adjusted") & by_overlap.notna()
            for column in recovered.columns:
                recovered.loc[from_overlap, column] = frame.loc[from_overlap, column] * by_overlap[from_overlap]
            frame.loc[from_overlap, "price_basis"] = "from_overlap"
            for column in recovered.columns:
                frame.loc[adjusted_days, column] = recovered.loc[adjusted_days, column]
        frame["_rank"] = frame["price_basis"].map(BASIS_RANK)
        vintages.append(frame.set_index("date", drop=False))

    # Traded closes first, newest download first among equals.
    ordered = sorted(vintages, key=lambda v: (v["vintage_date"].iloc[0], v["vintage"].iloc[0]), reverse=True)
    candidates = pd.concat([frame.assign(_order=i) for i, frame in enumerate(ordered)])
    best = candidates.sort_values(["_rank", "_order"], ascending=[False, True]).groupby(level=0).head(1)
    best = best.sort_index()

    # adj_close: one continuous series. The largest download is the anchor (a new file of a few
    # days must not rebase a whole history); every other one is rescaled onto the series by its
    # median ratio on common days (the factor of the dividends paid between the two downloads).
    by_size = sorted(vintages, key=lambda v: (v["adj_close"].notna().sum(), v["vintage_date"].iloc[0]), reverse=True)
    anchor = by_size[0][by_size[0]["adj_close"].notna()]
    adjusted, how = anchor["adj_close"], anchor["adj_close_basis"]
    for frame in by_size[1:]:
        frame = frame[frame["adj_close"].notna()]
        other = frame["adj_close"]
        common = adjusted.index.intersection(other.index)
        ratio = float((adjusted[common] / other[common]).median()) if len(common) else 1.0
        new = ~other.index.isin(adjusted.index)
        adjusted = pd.concat([adjusted, other[new] * ratio]).sort_index()
        how = pd.concat([how, frame.loc[new, "adj_close_basis"]]).sort_index()
    best["adj_close"] = adjusted.reindex(best.index).to_numpy()
    best["adj_close_basis"] = how.reindex(best.index).to_numpy()
    return best.reset_index(drop=True)


def choose_prices(valid_rows: pd.DataFrame, splits: pd.DataFrame) -> Validated:
    """One row per (symbol, date) from validated vintage rows, by the rules in the module docstring.

    `splits`: symbol, ex_date, split_ratio (ratio 1 rows change nothing). Returns raw.prices rows,
    and the chosen rows held back because the chosen series jumps implausibly there (a download of
    one day whose typo no neighbour in its own file could reveal).
    """
    if valid_rows.empty:
        empty = pd.DataFrame({c: pd.Series(dtype="object") for c in PRICES.data_columns})
        return Validated(rows=empty, rejected=rejected_rows("prices", empty_vintage_rows(), pd.Series(dtype=object)))
    # The common case, vectorized: a symbol with one download, traded (or an index, an FX pair), and
    # no split after its last day has nothing to choose or restate (a daily run, a large backfill).
    last_day = valid_rows.groupby("symbol")["date"].max()
    one_vintage = valid_rows.groupby("symbol")["vintage"].nunique() == 1
    adjusted_only = valid_rows.loc[valid_rows["price_basis"] == "adjusted", "symbol"].unique()
    real_splits = splits[splits["split_ratio"] != 1.0]
    split_later = {s for s, d in zip(real_splits["symbol"], real_splits["ex_date"]) if s in last_day and d > last_day[s]}
    simple = set(one_vintage[one_vintage].index) - set(adjusted_only) - split_later
    fast = valid_rows[valid_rows["symbol"].isin(simple)].copy()
    fast["vintage_date"] = fast["symbol"].map(last_day)
    fast = fast.drop_duplicates(subset=["symbol", "date"])
    market = fast["price_basis"].isin(["index", "fx"])
    fast["adj_close_basis"] = np.where(fast["adj_close"].notna(), "download", np.where(market, "unadjusted", None))
    fast.loc[market, "adj_close"] = fast.loc[market, "adj_close"].fillna(fast.loc[market, "close"])
    # chained only where a download lacks an adjusted close (a whole backfill seldom does)
    gaps = fast["symbol"].isin(fast.loc[fast["adj_close"].isna(), "symbol"].unique())
    if gaps.any():
        split_days = {(symbol, ex_date) for symbol, ex_date in zip(real_splits["symbol"], real_splits["ex_date"])}
        fast.loc[gaps] = _chain_adjusted_close(fast[gaps], split_days)
    chosen = [fast]
    for symbol, rows in valid_rows[~valid_rows["symbol"].isin(simple)].groupby("symbol", sort=True):
        chosen.append(_choose_symbol(rows, splits[(splits["symbol"] == symbol) & (splits["split_ratio"] != 1.0)]))
    out = pd.concat(chosen, ignore_index=True)
    held = _series_jumps(out)
    return Validated(
        rows=out[~held][PRICES.data_columns].astype({"symbol": "object", "currency": "object", "price_basis": "object"}).reset_index(drop=True),
        rejected=rejected_rows(
            "prices", out[SOURCE_COLUMNS + VINTAGE_COLUMNS], held.map({True: "implausible_move", False: None})
        ),
    )


def _series_jumps(chosen: pd.DataFrame) -> pd.Series:
    """Chosen rows where the spliced series (traded close, or adjusted close) jumps more than
    IMPLAUSIBLE_MOVE from the day before, unless the next day confirms the new level: every
    download is on today's split basis by now, so no split explains a jump any more."""
    ordered = chosen.sort_values(["symbol", "date"])
    flagged = pd.Series(False, index=ordered.index)
    limit = np.log(IMPLAUSIBLE_MOVE)
    for column in ("close", "adj_close"):
        step_in, step_out = _log_steps(ordered, column, ["symbol"])
        # no next value (the last day, or a day with only an adjusted close) cannot vouch for it
        flagged |= ((step_in.abs() > limit) & ((step_out.abs() > limit) | step_out.isna())).fillna(False)
    return flagged.reindex(chosen.index)
