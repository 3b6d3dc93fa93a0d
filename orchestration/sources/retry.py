"""Retries with exponential backoff and jitter, within a request budget per run. No Dagster here."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")


class BudgetExhausted(RuntimeError):
    """The run's request budget is spent: what is not fetched yet is reported, not attempted."""


class Transient(RuntimeError):
    """A failure worth retrying (rate limit, network), raised by the code around a request."""


@dataclass
class RequestBudget:
    limit: int
    used: int = 0

    def spend(self, requests: int = 1) -> None:
        if self.used + requests > self.limit:
            raise BudgetExhausted(f"request budget of {self.limit} per run exhausted ({self.used} used)")
        self.used += requests


@dataclass
class RetryPolicy:
    max_attempts: int = 5
    base_delay_seconds: float = 2.0
    max_delay_seconds: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    slept: list[float] = field(default_factory=list)  # every wait, for metadata and tests

    def delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^attempt)] (attempt counts from 0)."""
        return self.rng.uniform(0, min(self.max_delay_seconds, self.base_delay_seconds * 2**attempt))

    def call(self, request: Callable[[], T], budget: RequestBudget, cost: int = 1) -> T:
        """Run `request`, retrying Transient failures. Each attempt spends `cost` from the budget."""
        for attempt in range(self.max_attempts):
            budget.spend(cost)
            try:
                return request()
            except Transient:
                if attempt == self.max_attempts - 1:
                    raise
                wait = self.delay(attempt)
                self.slept.append(wait)
                self.sleep(wait)
        raise AssertionError("unreachable")
