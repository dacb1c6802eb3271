"""The one HTTP layer: a pooled `requests.Session` per source with timeouts, a request-rate
cap (pyrate-limiter) and retries with exponential backoff + jitter (tenacity).

Retried: connection errors, timeouts, HTTP 429 and 5xx (honouring `Retry-After`), bodies that
end early or do not parse (truncated), and API-level "busy" answers that a connector's `check`
turns into `RetryableError`. Anything else is raised at once. When retries run out the caller
gets `RetriesExhausted`; `extractors.extract` adds the stream and its last committed cursor.
Request bodies (which carry tokens) are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import orjson
import requests
from pyrate_limiter import Duration, Limiter, Rate
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from extractors.config import RetryConfig, SourceConfig

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class SourceError(Exception):
    """A source answered with something we cannot use and must not retry."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status  # the HTTP status when the transport said no


class RetryableError(Exception):
    """A transient failure; `retry_after` (seconds) when the server said how long to wait."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class RetriesExhausted(Exception):
    def __init__(self, message: str, attempts: int, last_error: BaseException | None):
        super().__init__(message)
        self.attempts = attempts
        self.last_error = last_error


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date: rare on these APIs; fall back to our own backoff


class _BackoffHonouringRetryAfter:
    """tenacity wait: the server's Retry-After when given (capped), else exponential + jitter."""

    def __init__(self, cfg: RetryConfig):
        self._cap = cfg.retry_after_max_seconds
        self._exp = wait_exponential_jitter(
            multiplier=cfg.wait_initial_seconds,
            max=cfg.wait_max_seconds,
            jitter=cfg.wait_initial_seconds,
        )

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(retry_after, self._cap)
        return self._exp(state)


def _make_limiter(per_second: float | None) -> Limiter | None:
    if not per_second:
        return None
    if per_second >= 1:
        return Limiter(Rate(int(per_second), Duration.SECOND))
    return Limiter(Rate(1, int(1000 / per_second)))


class HttpClient:
    """JSON over HTTP for one source. `check(payload)` lets a connector reject a 200 answer."""

    def __init__(
        self,
        name: str,
        base_url: str,
        config: SourceConfig,
        *,
        headers: dict[str, str] | None = None,
        rate_limit_per_second: float | None = None,
    ):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.timeout = (config.connect_timeout_seconds, config.read_timeout_seconds)
        self.retry = config.retry
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=4, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Accept": "application/json", **(headers or {})})
        self._limiter = _make_limiter(rate_limit_per_second or config.rate_limit_per_second)
        self.requests_sent = 0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request_json(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        check: Callable[[Any], None] | None = None,
        what: str = "",
    ) -> Any:
        """One logical request, retried as a whole; returns the parsed JSON body."""
        label = f"{self.name} {method} {path}{' ' + what if what else ''}"
        retrying = Retrying(
            retry=retry_if_exception_type(RetryableError),
            stop=stop_after_attempt(self.retry.attempts),
            wait=_BackoffHonouringRetryAfter(self.retry),
            before_sleep=lambda s: log.warning(
                "%s: attempt %d failed (%s); retrying", label, s.attempt_number,
                s.outcome.exception() if s.outcome else "?",
            ),  # fmt: skip
        )
        try:
            return retrying(self._once, method, path, json, params, check)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise RetriesExhausted(
                f"{label}: gave up after {self.retry.attempts} attempts; last error: {last}",
                self.retry.attempts,
                last,
            ) from last

    def _once(
        self,
        method: str,
        path: str,
        body: Any,
        params: dict[str, Any] | None,
        check: Callable[[Any], None] | None,
    ) -> Any:
        if self._limiter is not None:
            self._limiter.try_acquire(self.name)
        self.requests_sent += 1
        data = None
        headers = None
        if body is not None:
            data = orjson.dumps(body)
            headers = {"Content-Type": "application/json"}
        try:
            resp = self.session.request(
                method,
                self.base_url + path,
                data=data,
                params=params,
                headers=headers,
                timeout=self.timeout,
            )
            content = resp.content  # reading the body here surfaces truncation as an error
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            raise RetryableError(f"transport error: {type(exc).__name__}: {exc}") from exc
        if resp.status_code in RETRYABLE_STATUS:
            raise RetryableError(
                f"HTTP {resp.status_code}",
                retry_after=_retry_after_seconds(resp.headers.get("Retry-After")),
            )
        if resp.status_code >= 400:
            raise SourceError(f"HTTP {resp.status_code}: {_short(content)}", resp.status_code)
        expected = resp.headers.get("Content-Length")
        if expected is not None and expected.isdigit() and int(expected) != len(content):
            raise RetryableError(f"truncated body: {len(content)} of {expected} bytes")
        try:
            payload = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise RetryableError(f"body is not complete JSON ({len(content)} bytes): {exc}") from exc
        if check is not None:
            check(payload)
        return payload


def _short(content: bytes, limit: int = 300) -> str:
    text = content[:limit].decode("utf-8", "replace")
    return text + ("..." if len(content) > limit else "")
