"""Retry policy for Hub requests: 429 waits, exponential backoff with jitter.

Only idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE) are retried. A POST,
in particular to the token endpoint, is sent once, because resending a code or
refresh token would consume it twice.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Callable

import httpx

from zaikio_ops.hub.errors import HubConnectionError, HubTimeout

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy", "send_with_retry"]

logger = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

# A RateLimit-Reset below this is a delta in seconds (IETF draft), above it a Unix time (Zaikio).
_UNIX_TIME_THRESHOLD = 1_000_000_000


@dataclass
class RetryPolicy:
    """How often and how long to wait before resending a failed idempotent request.

    Parameters
    ----------
    max_attempts : int
        Total attempts per request, including the first.
    backoff_base : float
        Seconds before the first retry after a 5xx or timeout; doubles per attempt.
    backoff_max : float
        Upper bound in seconds of one backoff wait.
    max_rate_limit_wait : float
        Upper bound in seconds of one wait for ``RateLimit-Reset``/``Retry-After``;
        a longer announced wait raises instead of blocking.
    reset_margin : float
        Seconds added after ``RateLimit-Reset`` so the retry lands after the reset.
    clock : callable
        Returns the current Unix time; injectable for tests.
    sleep : callable
        Waits the given seconds; injectable for tests.
    rng : random.Random
        Source of jitter.
    """

    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_rate_limit_wait: float = 120.0
    reset_margin: float = 0.05
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Return the wait after failed attempt ``attempt`` (1-based): half fixed, half random."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def rate_limit_wait(self, response: httpx.Response, attempt: int) -> float:
        """Return the wait after a 429: until ``RateLimit-Reset``, else ``Retry-After``, else backoff."""
        reset = _parse_float(response.headers.get("RateLimit-Reset"))
        if reset is not None:
            delta = reset - self.clock() if reset >= _UNIX_TIME_THRESHOLD else reset
            return max(0.0, delta) + self.reset_margin

        retry_after = _parse_retry_after(response.headers.get("Retry-After"), self.clock())
        if retry_after is not None:
            return retry_after + self.reset_margin

        return self.backoff(attempt)


def _parse_float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _parse_retry_after(value: str | None, now: float) -> float | None:
    seconds = _parse_float(value)
    if seconds is not None or value is None:
        return max(0.0, seconds) if seconds is not None else None

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def _is_retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def send_with_retry(client: httpx.Client, request: httpx.Request, policy: RetryPolicy,
                    path: str) -> httpx.Response:
    """Send ``request`` and resend it per ``policy`` while it fails transiently.

    Parameters
    ----------
    client : httpx.Client
        The shared client; its timeouts apply to each attempt.
    request : httpx.Request
        A request without a streaming body, so it can be resent.
    policy : RetryPolicy
        Attempts, waits, clock and sleep.
    path : str
        Path without query string, used in logs and errors.

    Returns
    -------
    httpx.Response
        The last response; it may still be a 429 or 5xx when attempts ran out,
        and the caller turns it into an error.

    Raises
    ------
    HubTimeout, HubConnectionError
        The transport failed on the last allowed attempt.
    """
    method = request.method
    attempts_allowed = policy.max_attempts if method in IDEMPOTENT_METHODS else 1
    attempt = 0

    while True:
        attempt += 1

        try:
            response = client.send(request)
        except httpx.TimeoutException as exc:
            if attempt >= attempts_allowed:
                raise HubTimeout(method, path, attempt) from exc
            _wait(policy, policy.backoff(attempt), method, path, "timed out", attempt, attempts_allowed)
            continue
        except httpx.TransportError as exc:
            if attempt >= attempts_allowed:
                raise HubConnectionError(method, path, attempt, type(exc).__name__) from exc
            _wait(policy, policy.backoff(attempt), method, path, type(exc).__name__, attempt, attempts_allowed)
            continue

        if not _is_retryable_status(response.status_code) or attempt >= attempts_allowed:
            return response

        response.read()
        if response.status_code == 429:
            delay = policy.rate_limit_wait(response, attempt)
            if delay > policy.max_rate_limit_wait:
                logger.warning("Hub asked %s %s to wait %.1f s, more than the %.1f s allowed; giving up",
                               method, path, delay, policy.max_rate_limit_wait)
                return response
        else:
            delay = policy.backoff(attempt)

        _wait(policy, delay, method, path, f"status {response.status_code}", attempt, attempts_allowed)


def _wait(policy: RetryPolicy, delay: float, method: str, path: str, reason: str,
          attempt: int, attempts_allowed: int) -> None:
    logger.warning("Hub request %s %s failed (%s) on attempt %d of %d; retrying in %.2f s",
                   method, path, reason, attempt, attempts_allowed, delay)
    policy.sleep(delay)
