"""A request budget per asset run (each asset of a run has its own), and exponential backoff with full jitter. No Dagster here."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class BudgetExhausted(RuntimeError):
    """The asset run's request budget is spent: what is not fetched yet is deferred, not attempted."""


@dataclass
class RequestBudget:
    limit: int
    used: int = 0

    def spend(self, requests: int = 1) -> None:
        if self.used + requests > self.limit:
            raise BudgetExhausted(f"request budget of {self.limit} HTTP requests exhausted ({self.used} used)")
        self.used += requests


@dataclass
class RetryPolicy:
    max_attempts: int = 4
    base_delay_seconds: float = 60.0
    max_delay_seconds: float = 900.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    slept: list[float] = field(default_factory=list)  # every wait, for metadata and tests

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^attempt)] (attempt counts from 0)."""
        return self.rng.uniform(0, min(self.max_delay_seconds, self.base_delay_seconds * 2**attempt))


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds; None without one, or for an HTTP date (our own backoff decides)."""
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
