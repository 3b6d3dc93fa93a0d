"""The landing zone: what a live source returned, kept as immutable batches in the snapshot layout.

A fetch (any process, any machine) writes one batch per dataset and listing bucket: the files in
the layout the sample source replays (prices/, fundamentals/, profiles/, consensus/) and a manifest of what was
asked, what failed or was deferred and how many requests it took. The batch is written under a
temporary name and renamed when complete, so a reader sees a whole batch or none: a fetch that
crashes halfway leaves a `.partial-*` folder that nothing loads. The load (the one DuckDB writer)
upserts the batches it has not loaded yet and records them in `raw.landed_batches` in the same
transaction, then writes `state.json`: what the next fetches need to know (each symbol's last
loaded date and closes, when statements, profiles and estimates were last fetched, what was deferred),
so fetchers never open the DuckDB file.

No Dagster imports here.
"""

from __future__ import annotations

import json
import os
import uuid
import zlib
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd

from orchestration.failpoints import failpoint
from orchestration.ingest_policy import StatementsFetch
from orchestration.sources.base import Fetched
from orchestration.sources.recording import SnapshotRecorder

LANDING_BUCKETS = 8
DATASETS = ("prices", "company_profiles", "financial_statements", "consensus_estimates")
MANIFEST = "manifest.json"
STATE = "state.json"


def bucket_keys(buckets: int = LANDING_BUCKETS) -> list[str]:
    return [f"bucket-{k}-of-{buckets}" for k in range(1, buckets + 1)]


def listing_bucket(symbol: str, buckets: int = LANDING_BUCKETS) -> str:
    """A symbol's bucket: stable across runs, machines and Python versions (CRC-32 of the symbol),
    and unchanged when listings are added or removed."""
    return bucket_keys(buckets)[zlib.crc32(symbol.encode()) % buckets]


def in_buckets(symbols: list[str], keys: list[str], buckets: int = LANDING_BUCKETS) -> list[str]:
    wanted = set(keys)
    return [symbol for symbol in symbols if listing_bucket(symbol, buckets) in wanted]


class MissingLandingState(RuntimeError):
    """The landing zone has no state from a load yet."""


@dataclass(frozen=True)
class LandedBatch:
    batch_id: str  # dataset/bucket/folder: unique, and the key loads are recorded under
    path: Path
    manifest: dict

    @property
    def landed_at(self) -> datetime:
        return datetime.fromisoformat(self.manifest["landed_at"])


@dataclass
class LandingState:
    """What the last load knew, for the next fetches. Empty: everything is new (full history)."""

    loaded_at: str | None = None
    price_last_dates: dict[str, str] = field(default_factory=dict)  # symbol -> last loaded date
    recent_closes: list[list] = field(default_factory=list)  # [symbol, date, close, adj_close] in the overlap
    deferred: dict[str, list[str]] = field(default_factory=dict)  # dataset -> symbols the last fetch deferred
    profiles_fetched: dict[str, str] = field(default_factory=dict)  # symbol -> last good profile fetch (date)
    estimates_fetched: dict[str, str] = field(default_factory=dict)  # symbol -> last good consensus fetch (date)
    statement_fetches: dict[str, list] = field(default_factory=dict)  # symbol -> StatementsFetch fields
    releases: dict[str, list[str]] = field(default_factory=dict)  # symbol -> earnings dates that have passed
    # symbol -> [filing date, accession number] of the latest EDGAR filing loaded: the daily check asks
    # the SEC's submissions whether a newer one exists before fetching companyfacts again
    edgar_last_filings: dict[str, list] = field(default_factory=dict)

    def edgar_last_filing(self, symbol: str) -> tuple[date | None, str | None]:
        filed, accn = self.edgar_last_filings.get(symbol) or (None, None)
        return _day(filed), accn

    def watermarks(self) -> dict[str, date]:
        return {s: date.fromisoformat(d) for s, d in self.price_last_dates.items()}

    def stored_closes(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.recent_closes, columns=["symbol", "date", "close", "adj_close"])
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        return frame

    def last_statement_fetches(self) -> dict[str, StatementsFetch]:
        return {s: StatementsFetch(*(_day(v) for v in values)) for s, values in self.statement_fetches.items()}

    def known_releases(self) -> dict[str, tuple[date, ...]]:
        return {s: tuple(date.fromisoformat(d) for d in days) for s, days in self.releases.items()}

    def profile_fetch_days(self) -> dict[str, date]:
        return {s: date.fromisoformat(d) for s, d in self.profiles_fetched.items()}

    def estimate_fetch_days(self) -> dict[str, date]:
        return {s: date.fromisoformat(d) for s, d in self.estimates_fetched.items()}


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


class LandingZone:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    # ------------------------------------------------------------ fetchers write

    def land(self, dataset: str, bucket: str, fetched: Fetched, asked: list[str], source: str) -> LandedBatch:
        """Write one batch whole, then make it visible by renaming its folder."""
        if dataset not in DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}: one of {', '.join(DATASETS)}")
        landed_at = datetime.now(timezone.utc).replace(tzinfo=None)
        name = f"{landed_at:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
        parent = self.root / dataset / bucket
        partial = parent / f".partial-{name}"
        # the sample source's layout: a batch is read back exactly as the sample is
        for folder in ("prices", "fundamentals", "profiles", "consensus"):
            (partial / folder).mkdir(parents=True, exist_ok=True)
        recorder = SnapshotRecorder(partial, source_id=source)
        write = {
            "prices": recorder.prices,
            "financial_statements": recorder.statements,
            "company_profiles": recorder.profiles,
            "consensus_estimates": lambda frame: recorder.estimates(frame, fetched.vendor_figures),
        }
        write[dataset](fetched.frame)
        manifest = {
            "dataset": dataset,
            "bucket": bucket,
            "source": source,
            "landed_at": landed_at.isoformat(),
            "asked": list(dict.fromkeys(asked)),
            "rows": len(fetched.frame),
            "failures": fetched.failures,
            "deferred": fetched.deferred,
            "unchanged": fetched.unchanged,
            "warnings": fetched.warnings,
            "requests": fetched.requests,
            "requests_by_endpoint": fetched.requests_by_endpoint,
            "next_update": {s: _iso(d) for s, d in fetched.next_update.items()},
            "last_update": {s: _iso(d) for s, d in fetched.last_update.items()},
        }
        _write_durably(partial / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        failpoint("landing.before_rename")
        final = parent / name
        os.rename(partial, final)
        return LandedBatch(f"{dataset}/{bucket}/{name}", final, manifest)

    # ------------------------------------------------------------ the loader reads

    def batches(self, dataset: str, loaded: set[str] = frozenset()) -> list[LandedBatch]:
        """Complete batches of `dataset` not in `loaded`, oldest first (a later fetch wins a tie)."""
        found = []
        for manifest_path in (self.root / dataset).glob(f"*/*/{MANIFEST}"):
            folder = manifest_path.parent
            if folder.name.startswith("."):
                continue
            batch_id = f"{dataset}/{folder.parent.name}/{folder.name}"
            if batch_id not in loaded:
                found.append(LandedBatch(batch_id, folder, json.loads(manifest_path.read_text())))
        return sorted(found, key=lambda batch: (batch.manifest["landed_at"], batch.batch_id))

    def partial_batches(self) -> list[Path]:
        """Folders of fetches that did not finish: never loaded, listed so they can be cleared."""
        return sorted(self.root.glob("*/*/.partial-*"))

    def read_state(self) -> LandingState:
        """The state the last load wrote. None yet is an error, not "everything is new": a fetch
        that guessed would ask for every symbol's whole history (a load writes it, even an empty one)."""
        path = self.root / STATE
        if not path.exists():
            raise MissingLandingState(
                f"no landing state at {path}: run the raw loads once first (dg launch --assets 'group:raw'); "
                "they write it from the warehouse, and on an empty warehouse the next fetch takes every history"
            )
        return LandingState(**json.loads(path.read_text()))

    def write_state(self, state: LandingState) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.root / f".{STATE}.{uuid.uuid4().hex[:8]}"
        _write_durably(temporary, json.dumps(asdict(state), sort_keys=True))
        os.replace(temporary, self.root / STATE)


def statement_fetch_fields(fetch: StatementsFetch) -> list[str | None]:
    return [_iso(getattr(fetch, f)) for f in StatementsFetch.__dataclass_fields__]


def _write_durably(path: Path, text: str) -> None:
    with open(path, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def landed_fetch(batch: LandedBatch, replayed: Fetched, asked: list[str]) -> Fetched:
    """A batch as its fetch returned it: the rows read back from its files (`replayed`, by the sample
    source: the same reader as the sample), and the statuses, requests and dates from its manifest,
    for the symbols in `asked` (a listing since removed from the universe is not reported).
    A symbol the fetch got no rows for (a holiday) is not a failure: only the manifest says what failed."""
    m, wanted = batch.manifest, set(asked)
    return Fetched(
        replayed.frame,
        failures={s: r for s, r in m["failures"].items() if s in wanted},
        requests=m["requests"],
        warnings=list(m["warnings"]),
        next_update={s: date.fromisoformat(d) for s, d in m["next_update"].items()},
        last_update={s: date.fromisoformat(d) for s, d in m["last_update"].items()},
        quarantined=replayed.quarantined,
        splits=replayed.splits,
        vendor_figures=replayed.vendor_figures,
        deferred={s: r for s, r in m["deferred"].items() if s in wanted},
        requests_by_endpoint=dict(m["requests_by_endpoint"]),
        unchanged={s: r for s, r in m.get("unchanged", {}).items() if s in wanted},
    )


def merge_fetched(parts: list[tuple[list[str], Fetched]]) -> Fetched:
    """Several fetches, in order, as one: all their rows, and each symbol's status from the last
    fetch that asked for it (failed on Monday, fetched on Tuesday: not a failure)."""
    failures: dict[str, str] = {}
    deferred: dict[str, str] = {}
    merged = Fetched(pd.DataFrame(), next_update={}, last_update={})
    by_endpoint: dict[str, int] = {}
    for asked, fetched in parts:
        for symbol in asked:
            failures.pop(symbol, None)
            deferred.pop(symbol, None)
        failures.update(fetched.failures)
        deferred.update(fetched.deferred)
        merged.next_update.update(fetched.next_update)
        merged.last_update.update(fetched.last_update)
        merged.quarantined.update(fetched.quarantined)
        merged.warnings.extend(fetched.warnings)
        merged.requests += fetched.requests
        for endpoint, count in fetched.requests_by_endpoint.items():
            by_endpoint[endpoint] = by_endpoint.get(endpoint, 0) + count
    frames = [fetched.frame for _, fetched in parts if len(fetched.frame)]
    merged.frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    merged.failures, merged.deferred, merged.requests_by_endpoint = failures, deferred, by_endpoint
    return merged
