"""Injectable faults for the stand-in Hub: 429s, 5xx, added latency and timeouts.

A :class:`FaultConfig` sits on :class:`~zaikio_ops.standin.state.HubState`
(``state.set_faults(...)`` at any time). :class:`FaultMiddleware` draws from a
seeded RNG once per request under the configured path prefixes, so a given
seed and request sequence yields the same faults.

Each 429 announces a reset time (``RateLimit-Reset``, Unix seconds) for the
calling client, identified by its ``Authorization`` header or else its address.
Any request from that client before the reset gets another 429 and is counted
in :attr:`FaultStats.early_requests`. A client that honours the header keeps
that counter at 0.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["FaultConfig", "FaultStats", "FaultInjector", "FaultMiddleware"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FaultConfig:
    """Which faults to inject, as shares of requests (0.0 to 1.0).

    Parameters
    ----------
    rate_429 : float
        Share of requests that get a 429 with ``RateLimit-Reset``.
    rate_5xx : float
        Share that get a 500, 502 or 503 response.
    timeout_rate : float
        Share held for ``timeout_seconds`` before being served, so that a
        client with a shorter read timeout gives up.
    timeout_seconds : float
        Hold time of a timeout fault.
    latency_ms : int
        Delay added to every request under ``paths``.
    rate_limit_window : int
        Seconds from the current whole second to the announced reset.
    rate_limit_rule : str
        Value of the ``RateLimit-Rule`` header.
    seed : int or None
        Seed of the fault RNG; None draws a random seed.
    paths : tuple of str
        Path prefixes that get faults. The token endpoint is excluded by
        default because clients never retry its POSTs.
    """

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    latency_ms: int = 0
    rate_limit_window: int = 1
    rate_limit_rule: str = "300reqs/60s"
    seed: int | None = None
    paths: tuple[str, ...] = ("/api/v1/",)

    def __post_init__(self) -> None:
        for name in ("rate_429", "rate_5xx", "timeout_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"FaultConfig.{name} is {value}; it must be between 0.0 and 1.0.")

        total = self.rate_429 + self.rate_5xx + self.timeout_rate
        if total > 1.0:
            raise ValueError(f"FaultConfig rates add up to {total:.2f}; their sum must be at most 1.0.")


@dataclass
class FaultStats:
    """Counters of injected faults and of requests that ignored an announced reset."""

    requests_seen: int = 0
    injected_429: int = 0
    injected_5xx: int = 0
    injected_timeouts: int = 0
    early_requests: int = 0


@dataclass
class FaultInjector:
    """Decides per request which fault to inject and tracks announced resets."""

    config: FaultConfig = field(default_factory=FaultConfig)
    clock: Callable[[], float] = time.time
    stats: FaultStats = field(default_factory=FaultStats)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.config.seed)
        self._resets: dict[str, int] = {}

    def configure(self, config: FaultConfig) -> None:
        """Replace the configuration, reseed the RNG and forget announced resets."""
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
            self._resets.clear()

    def reset_stats(self) -> None:
        """Zero all counters."""
        with self._lock:
            self.stats = FaultStats()

    def applies_to(self, path: str) -> bool:
        """Return True when ``path`` is under one of the configured prefixes."""
        return any(path.startswith(prefix) for prefix in self.config.paths)

    def decide(self, client_key: str) -> tuple[str, int | None]:
        """Return ``(kind, value)``: ``("early", reset)``, ``("429", reset)``, ``("5xx", status)``,
        ``("timeout", None)`` or ``("pass", None)``."""
        with self._lock:
            self.stats.requests_seen += 1
            now = self.clock()

            announced = self._resets.get(client_key)
            if announced is not None and now < announced:
                self.stats.early_requests += 1
                return "early", announced

            draw = self._rng.random()
            config = self.config

            if draw < config.rate_429:
                reset = int(math.floor(now)) + config.rate_limit_window
                self._resets[client_key] = reset
                self.stats.injected_429 += 1
                return "429", reset

            if draw < config.rate_429 + config.rate_5xx:
                self.stats.injected_5xx += 1
                return "5xx", self._rng.choice((500, 502, 503))

            if draw < config.rate_429 + config.rate_5xx + config.timeout_rate:
                self.stats.injected_timeouts += 1
                return "timeout", None

            return "pass", None


def _client_key(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            return "auth:" + hashlib.sha256(value).hexdigest()[:16]

    client = scope.get("client") or ("unknown", 0)
    return f"addr:{client[0]}"


async def _send_plain(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    headers = headers + [(b"content-type", b"text/plain; charset=utf-8"),
                         (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FaultMiddleware:
    """ASGI middleware that applies the :class:`FaultInjector` of a stand-in state."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.injector.applies_to(scope["path"]):
            await self.app(scope, receive, send)
            return

        config = self.injector.config
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)

        kind, value = self.injector.decide(_client_key(scope))

        if kind in ("early", "429"):
            headers = [(b"ratelimit-reset", str(value).encode()),
                       (b"ratelimit-rule", config.rate_limit_rule.encode())]
            await _send_plain(send, 429, b"Retry later", headers)
            return

        if kind == "5xx":
            await _send_plain(send, int(value), b"Injected server error", [])
            return

        if kind == "timeout":
            await asyncio.sleep(config.timeout_seconds)

        await self.app(scope, receive, send)
