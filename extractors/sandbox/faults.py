"""Deterministic fault injection: the same (seed, request key, attempt) always gets the same fault.

A request key names what was asked (stream + page position + filters), so a client that
retries the same request sees attempt 1, 2, 3 ... and, because consecutive failures per key
are capped, always gets its data eventually.

Profiles:
- none:    no faults.
- flaky:   ~5% of first attempts fail; at most one consecutive failure per key.
- hostile: ~25% of first attempts fail, later attempts fail with 50%; at most three in a row.
Slow pages (0.5-2 s sleep, then the normal answer) come on top and never count as failures.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .pools import key64, splitmix

PROFILES = {
    #          p_first, p_again, max_consecutive, p_slow
    "none": (0.0, 0.0, 0, 0.0),
    "flaky": (0.05, 0.0, 1, 0.01),
    "hostile": (0.25, 0.5, 3, 0.03),
}
# Failure kinds per API style, with relative weights.
KINDS = {
    "crm": [("crm_rate_limit", 3), ("crm_busy", 2), ("crm_token_expired", 1), ("http_500", 1), ("http_502", 1),
            ("http_503", 1), ("truncated", 2)],
    "marketing": [("http_429", 4), ("http_500", 1), ("http_502", 1), ("http_503", 1), ("truncated", 2)],
    "erp": [("http_429", 4), ("http_500", 1), ("http_502", 1), ("http_503", 1), ("truncated", 2)],
}


@dataclass(frozen=True)
class Fault:
    kind: str  # one of KINDS' names, or "slow"
    delay: float = 0.0


class FaultPlan:
    def __init__(self, profile: str, seed: int) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown fault profile {profile!r}; choose one of {', '.join(PROFILES)}")
        self.profile = profile
        self.seed = seed
        self.p_first, self.p_again, self.max_run, self.p_slow = PROFILES[profile]
        self._attempts: Counter[str] = Counter()
        self._runs: Counter[str] = Counter()
        self.served: Counter[str] = Counter()
        self._lock = threading.Lock()

    def _u(self, *parts: object) -> float:
        x = splitmix(np.array([key64(self.seed, *parts)], dtype=np.uint64))[0]
        return float(int(x) >> 11) / (1 << 53)

    def decide(self, source: str, key: str) -> Fault | None:
        """The fault (or None) for this attempt at `key`; counts what it serves."""
        if self.profile == "none":
            return None
        with self._lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
            run = self._runs[key]
            p = self.p_first if attempt == 0 else self.p_again
            if run < self.max_run and self._u("fail", key, attempt) < p:
                kinds = KINDS[source]
                total = sum(w for _, w in kinds)
                pick = self._u("kind", key, attempt) * total
                for kind, wgt in kinds:
                    pick -= wgt
                    if pick < 0:
                        break
                self._runs[key] += 1
                self.served[kind] += 1
                return Fault(kind)
            self._runs[key] = 0
            if self._u("slow", key, attempt) < self.p_slow:
                self.served["slow"] += 1
                return Fault("slow", 0.5 + 1.5 * self._u("delay", key, attempt))
            return None

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(sorted(self.served.items()))
