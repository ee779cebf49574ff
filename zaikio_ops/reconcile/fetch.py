"""Fetching each claimed organization's Zaikio memberships, concurrently and by shard.

Every organization needs its own client-credentials token
(``Org/<uuid>.zaikio.organization_members.r``). The workers of one
:class:`~concurrent.futures.ThreadPoolExecutor` share one
:class:`~zaikio_ops.hub.HubClient`, whose retry policy waits out 429 responses
until ``RateLimit-Reset`` and backs off after 5xx responses. An organization
that still fails is returned as ``failed`` while the others complete.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from tqdm.auto import tqdm

from zaikio_ops.config import Config
from zaikio_ops.errors import ConfigError, HubError
from zaikio_ops.hub import BearerDoesNotExist, HubClient, RetryPolicy

logger = logging.getLogger(__name__)

MEMBERS_SCOPE = "zaikio.organization_members.r"
STATUS_OK = "ok"
STATUS_DISCONNECTED = "disconnected"
STATUS_FAILED = "failed"


def open_hub_client(config: Config, retry: RetryPolicy | None = None) -> HubClient:
    """Create a Hub client from ``[hub]`` and the environment, for client-credentials grants.

    Raises
    ------
    ConfigError
        When the client id or the client secret is missing.
    """
    hub = config.hub
    if not hub.client_id:
        raise ConfigError(f"{config.where('hub.client_id')}: missing. Set ZAIKIO_CLIENT_ID or [hub] client_id "
                          f"to the app's OAuth client id.")
    if hub.client_secret is None:
        raise ConfigError("The reconciliation needs the app's client secret for client-credentials tokens; "
                          "set ZAIKIO_CLIENT_SECRET in the environment.")
    return HubClient(hub.url, hub.client_id, hub.client_secret, retry=retry)


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based), written ``index/count`` on the command line."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def contains(self, organization_id: str) -> bool:
        """Return True when the organization belongs to this shard.

        The shard is the organization id's SHA-256 modulo ``count``, which is
        stable across runs, machines and Python versions (unlike ``hash()``).
        """
        digest = hashlib.sha256(str(organization_id).encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1


def parse_shard(text: str | None) -> Shard | None:
    """Parse ``"k/n"`` (1 <= k <= n) into a :class:`Shard`; empty or None means all organizations.

    Raises
    ------
    ConfigError
        When the text is not two whole numbers ``k/n`` with 1 <= k <= n.
    """
    if not text:
        return None

    index, separator, count = text.partition("/")
    try:
        shard = Shard(int(index), int(count))
    except ValueError:
        shard = None
    if not separator or shard is None or not 1 <= shard.index <= shard.count:
        raise ConfigError(f"Invalid shard {text!r}: expected k/n with 1 <= k <= n, e.g. 2/4 for the "
                          f"second of four shards.")
    return shard


@dataclass(frozen=True)
class ZaikioMember:
    """One member of a Zaikio organization."""

    zaikio_person_id: str
    roles: tuple[str, ...]
    email: str | None


@dataclass(frozen=True)
class FetchOutcome:
    """The result of fetching one organization's memberships.

    ``status`` is ``ok`` (``members`` contains them), ``disconnected`` (the
    organization has not connected the app, so the Hub issues no token) or
    ``failed`` (``error`` says why; a later run tries again).
    """

    organization_id: str
    zaikio_organization_id: str
    status: str
    members: tuple[ZaikioMember, ...] = ()
    error: str | None = None


def fetch_organization(hub: HubClient, organization_id: str, zaikio_organization_id: str) -> FetchOutcome:
    """Fetch the members of one organization; Hub errors become a ``disconnected`` or ``failed`` outcome."""
    try:
        token = hub.client_credentials(zaikio_organization_id, [MEMBERS_SCOPE])
        memberships = hub.list_memberships(token)
    except BearerDoesNotExist as exc:
        logger.info("Organization %s (Zaikio %s) is not connected to the app", organization_id,
                    zaikio_organization_id)
        return FetchOutcome(organization_id, zaikio_organization_id, STATUS_DISCONNECTED, error=str(exc))
    except HubError as exc:
        logger.warning("Fetching the memberships of organization %s (Zaikio %s) failed: %s",
                       organization_id, zaikio_organization_id, exc)
        return FetchOutcome(organization_id, zaikio_organization_id, STATUS_FAILED, error=str(exc))

    members = tuple(ZaikioMember(m.person.id, tuple(m.roles), m.person.email) for m in memberships)
    logger.debug("Organization %s has %d Zaikio members", organization_id, len(members))
    return FetchOutcome(organization_id, zaikio_organization_id, STATUS_OK, members)


def fetch_all(hub: HubClient, organizations: Sequence[tuple[str, str]], *, concurrency: int = 4,
              progress: bool = False) -> list[FetchOutcome]:
    """Fetch the members of many organizations with at most ``concurrency`` requests at a time.

    Parameters
    ----------
    hub : HubClient
        The shared client; it must hold the app's client secret.
    organizations : sequence of (str, str)
        ``(organization_id, zaikio_organization_id)`` pairs.
    concurrency : int
        Worker threads, at least 1.
    progress : bool
        Show a tqdm progress bar over the organizations.

    Returns
    -------
    list of FetchOutcome
        In the order of ``organizations``.
    """
    if concurrency < 1:
        raise ConfigError(f"Invalid concurrency {concurrency}: expected a whole number >= 1.")

    outcomes: dict[int, FetchOutcome] = {}
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="reconcile-fetch") as executor:
        futures = {executor.submit(fetch_organization, hub, local_id, zaikio_id): position
                   for position, (local_id, zaikio_id) in enumerate(organizations)}
        bar = tqdm(as_completed(futures), total=len(futures), unit="org", desc="Zaikio memberships",
                   disable=not progress)
        for future in bar:
            outcomes[futures[future]] = future.result()

    failed = sum(1 for outcome in outcomes.values() if outcome.status == STATUS_FAILED)
    logger.info("Fetched %d organizations, %d failed", len(outcomes), failed)
    return [outcomes[position] for position in range(len(organizations))]
