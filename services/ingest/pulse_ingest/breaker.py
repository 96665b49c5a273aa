"""The circuit breaker the provider client keeps per platform (provider.py says why)."""

from __future__ import annotations

from typing import Final, Literal

from .provider_bodies import OUT_OF_CREDITS
from .provider_runs import BAD_REQUEST, NOT_FOUND

# Failures that say nothing about whether the platform's scraper works.
NEUTRAL_FAILURES: Final = frozenset({OUT_OF_CREDITS, BAD_REQUEST, NOT_FOUND})


class Breaker:
    """Consecutive-failure circuit breaker for one platform (single event loop, no locks)."""

    def __init__(self, failures: int, reset_s: float) -> None:
        self.threshold = max(1, failures)
        self.reset_s = reset_s
        self.state: Literal["closed", "open", "half_open"] = "closed"
        self.failures = 0
        self.opened_at = 0.0
        self.trial_in_flight = False

    def admit(self, now: float) -> Literal["pass", "trial"] | None:
        """None: skip; "trial": the single half-open probe; "pass": normal call."""
        if self.state == "closed":
            return "pass"
        if self.state == "open":
            if now - self.opened_at < self.reset_s:
                return None
            self.state = "half_open"
        if self.trial_in_flight:
            return None
        self.trial_in_flight = True
        return "trial"

    def is_open(self) -> bool:
        return self.state != "closed"

    def retry_in(self, now: float) -> float:
        return max(0.0, self.reset_s - (now - self.opened_at))

    def record(
        self, admitted: Literal["pass", "trial"], error_code: str | None, now: float
    ) -> None:
        if admitted == "trial":
            self.trial_in_flight = False
        if error_code is None:
            self.state, self.failures = "closed", 0
            return
        if error_code in NEUTRAL_FAILURES:
            # Neither health nor sickness: keep the count; a neutral trial frees the slot so
            # the next call becomes the trial.
            return
        if admitted == "trial":
            self._open(now)
            return
        self.failures += 1
        if self.state == "closed" and self.failures >= self.threshold:
            self._open(now)

    def _open(self, now: float) -> None:
        self.state = "open"
        self.opened_at = now
