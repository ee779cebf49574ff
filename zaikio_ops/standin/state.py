"""In-memory state of the stand-in Hub: accounts, apps, connections, codes and tokens.

All mutation goes through :class:`HubState` methods under one lock, because the
server runs in its own thread while tests and the demo change the state (add
connections, set faults) from another.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlsplit

from zaikio_ops.secret import Secret
from zaikio_ops.standin.faults import FaultConfig, FaultInjector, FaultStats
from zaikio_ops.standin.tokens import TokenSigner

__all__ = [
    "ROLE_ORDER",
    "ROLE_NAMES",
    "StandinPerson",
    "StandinOrganization",
    "StandinMembership",
    "StandinApp",
    "StandinConnection",
    "AuthorizationCode",
    "RefreshGrant",
    "HubState",
    "iso_timestamp",
]

# Role ids in the Hub's order, with English and German names, as GET /roles returns them.
ROLE_ORDER = ["owner", "admin", "member", "purchaser", "production_planner",
              "customer_service_representative", "sales_representative", "designer", "developer"]
ROLE_NAMES = {
    "en": ["Owner", "Admin", "Member", "Purchaser", "Production Planner", "Customer Service Representative",
           "Sales Representative", "Designer", "Developer"],
    "de": ["Eigentümer", "Administrator", "Mitglied", "Einkauf", "Produktionsplaner", "Kundenberater",
           "Vertrieb", "Designer", "Entwickler"],
}
GRANTING_ROLES = frozenset({"owner", "admin"})

CODE_LIFETIME = 600
ACCESS_TOKEN_LIFETIME = 3600
REFRESH_TOKEN_LIFETIME = 7 * 24 * 3600


def iso_timestamp(unix_time: float) -> str:
    """Format Unix time as the Hub does: ISO 8601 in UTC with milliseconds and ``Z``."""
    moment = datetime.fromtimestamp(unix_time, tz=timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def slugify(name: str) -> str:
    """Return a lowercase slug of ``name`` with underscores, like the Hub's org slugs."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "organization"


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class StandinPerson:
    """A Zaikio person account. ``last_name`` is sent as the Hub's ``name``."""

    id: str
    email: str
    first_name: str | None
    last_name: str
    locale: str = "en"
    country_code: str | None = "DE"
    currency: str | None = "EUR"
    time_zone: str = "Europe/Berlin"
    unit_system: str = "metric"
    pronoun: str | None = None
    email_confirmed: bool = True
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    @property
    def full_name(self) -> str:
        """First and last name joined by a space."""
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass
class StandinOrganization:
    """A Zaikio organization."""

    id: str
    name: str
    slug: str = ""
    kinds: list[str] = field(default_factory=lambda: ["other"])
    sections: dict[str, list[str]] = field(default_factory=dict)
    country_code: str | None = "DE"
    currency: str | None = "EUR"
    brand_color: str | None = None
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)

    def __post_init__(self) -> None:
        self.slug = self.slug or slugify(self.name)


@dataclass
class StandinMembership:
    """A person's membership in an organization with Hub role ids."""

    id: str
    person_id: str
    organization_id: str
    roles: list[str]
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)


@dataclass
class StandinApp:
    """An app registered at the Hub with one set of OAuth credentials.

    ``desired_scopes`` are plain scopes (``zaikio.person.r``); only these may be
    requested. ``redirect_uris`` are compared exactly.
    """

    name: str
    client_id: str
    client_secret: Secret
    redirect_uris: list[str]
    desired_scopes: list[str]
    confidential: bool = True
    title: str = ""
    category: str = "other"
    entry_point_url: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.client_secret, Secret):
            self.client_secret = Secret(self.client_secret)
        self.title = self.title or self.name.replace("_", " ").title()
        if self.entry_point_url is None and self.redirect_uris:
            parts = urlsplit(self.redirect_uris[0])
            self.entry_point_url = f"{parts.scheme}://{parts.netloc}"


@dataclass
class StandinConnection:
    """Scopes a person or organization granted to an app."""

    app_name: str
    connectable_type: str
    connectable_id: str
    granted_scopes: list[str]
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)


@dataclass
class AuthorizationCode:
    """An issued, single-use authorization code."""

    client_id: str
    bearer_type: str
    bearer_id: str
    scopes: list[str]
    redirect_uri: str
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    used: bool = False


@dataclass
class RefreshGrant:
    """A refresh token's grant; the token itself is stored only as a hash key."""

    client_id: str
    bearer_type: str
    bearer_id: str
    scopes: list[str]
    expires_at: float
    used: bool = False


_BEARER_TYPES = {"Person": "Person", "Organization": "Organization", "Per": "Person", "Org": "Organization"}


class HubState:
    """Everything the stand-in knows, plus the token signer and fault injector.

    Parameters
    ----------
    clock : callable
        Returns the current Unix time; code and token expiry use it.
    faults : FaultConfig, optional
        Initial faults; change them later with :meth:`set_faults`.
    """

    def __init__(self, clock: Callable[[], float] = time.time, faults: FaultConfig | None = None) -> None:
        self.clock = clock
        self.access_token_lifetime = ACCESS_TOKEN_LIFETIME
        self.lock = threading.RLock()
        self.signer = TokenSigner(clock=lambda: self.clock())
        self.faults = FaultInjector(config=faults or FaultConfig())
        self.persons: dict[str, StandinPerson] = {}
        self.organizations: dict[str, StandinOrganization] = {}
        self.memberships: dict[str, StandinMembership] = {}
        self.apps: dict[str, StandinApp] = {}
        self.connections: dict[tuple[str, str, str], StandinConnection] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.refresh_grants: dict[str, RefreshGrant] = {}
        self.issued_tokens: dict[str, float] = {}
        self.revoked_jtis: dict[str, float] = {}
        self.flows: dict[str, dict] = {}
        self.sessions: dict[str, str] = {}

    def __repr__(self) -> str:
        return (f"HubState(persons={len(self.persons)}, organizations={len(self.organizations)}, "
                f"apps={len(self.apps)}, connections={len(self.connections)})")

    # Faults

    def set_faults(self, config: FaultConfig | None = None, **changes: object) -> FaultConfig:
        """Replace the fault configuration; keyword arguments override fields of ``config``."""
        base = config or FaultConfig()
        new = FaultConfig(**{**base.__dict__, **changes})
        self.faults.configure(new)
        return new

    @property
    def fault_stats(self) -> FaultStats:
        """Counters of injected faults and of requests sent before an announced reset."""
        return self.faults.stats

    # Accounts

    def add_person(self, person: StandinPerson) -> StandinPerson:
        """Add or replace a person (keyed by id)."""
        with self.lock:
            self.persons[person.id] = person
        return person

    def add_organization(self, organization: StandinOrganization) -> StandinOrganization:
        """Add or replace an organization (keyed by id)."""
        with self.lock:
            self.organizations[organization.id] = organization
        return organization

    def add_membership(self, person_id: str, organization_id: str, roles: list[str],
                       membership_id: str | None = None) -> StandinMembership:
        """Add a membership, or merge ``roles`` into the existing one of the pair."""
        with self.lock:
            existing = self.membership_of(person_id, organization_id)
            if existing is not None:
                existing.roles = _ordered_roles(existing.roles + roles)
                return existing

            membership = StandinMembership(
                id=membership_id or str(uuid.uuid4()), person_id=person_id,
                organization_id=organization_id, roles=_ordered_roles(roles),
            )
            self.memberships[membership.id] = membership
            return membership

    def add_app(self, app: StandinApp) -> StandinApp:
        """Register an app and its credentials."""
        with self.lock:
            self.apps[app.name] = app
        return app

    def find_person(self, id_or_email: str) -> StandinPerson | None:
        """Return the person with this id or (case-insensitive) e-mail, or None."""
        person = self.persons.get(id_or_email)
        if person is not None:
            return person

        email = id_or_email.strip().lower()
        return next((p for p in self.persons.values() if p.email.lower() == email), None)

    def membership_of(self, person_id: str, organization_id: str) -> StandinMembership | None:
        """Return the person's membership in the organization, or None."""
        return next((m for m in self.memberships.values()
                     if m.person_id == person_id and m.organization_id == organization_id), None)

    def memberships_of_person(self, person_id: str) -> list[StandinMembership]:
        """Return the person's memberships in insertion order."""
        return [m for m in self.memberships.values() if m.person_id == person_id]

    def memberships_of_organization(self, organization_id: str) -> list[StandinMembership]:
        """Return the organization's memberships in insertion order."""
        return [m for m in self.memberships.values() if m.organization_id == organization_id]

    def may_grant_for(self, person_id: str, organization_id: str) -> bool:
        """Return True when the person is owner or admin of the organization."""
        membership = self.membership_of(person_id, organization_id)
        return membership is not None and bool(GRANTING_ROLES & set(membership.roles))

    # Apps and connections

    def app_by_client_id(self, client_id: str | None) -> StandinApp | None:
        """Return the app whose credentials have this client id, or None."""
        return next((a for a in self.apps.values() if a.client_id == client_id), None)

    def authenticate_app(self, client_id: str | None, client_secret: str | None) -> StandinApp | None:
        """Return the confidential app whose id and secret match, or None."""
        app = self.app_by_client_id(client_id)
        if app is None or not app.confidential or client_secret is None:
            return None
        if not secrets.compare_digest(app.client_secret.reveal().encode(), client_secret.encode()):
            return None
        return app

    def connection(self, app_name: str, bearer_type: str, bearer_id: str) -> StandinConnection | None:
        """Return the connection of a bearer (``Person``/``Organization``) to an app, or None."""
        return self.connections.get((app_name, _BEARER_TYPES[bearer_type], bearer_id))

    def grant(self, app_name: str, bearer_type: str, bearer_id: str, scopes: list[str]) -> StandinConnection:
        """Create the connection or add ``scopes`` to it."""
        bearer_type = _BEARER_TYPES[bearer_type]
        now = self.clock()

        with self.lock:
            key = (app_name, bearer_type, bearer_id)
            connection = self.connections.get(key)
            if connection is None:
                connection = StandinConnection(app_name, bearer_type, bearer_id, sorted(set(scopes)),
                                               created_at=now, updated_at=now)
                self.connections[key] = connection
            elif not set(scopes) <= set(connection.granted_scopes):
                connection.granted_scopes = sorted(set(connection.granted_scopes) | set(scopes))
                connection.updated_at = now
            return connection

    def disconnect(self, app_name: str, bearer_type: str, bearer_id: str) -> None:
        """Remove a connection; later refreshes and client-credentials grants fail."""
        with self.lock:
            self.connections.pop((app_name, _BEARER_TYPES[bearer_type], bearer_id), None)

    def connections_of_app(self, app_name: str) -> list[StandinConnection]:
        """Return the app's connections ordered by creation time."""
        return sorted((c for c in self.connections.values() if c.app_name == app_name),
                      key=lambda c: (c.created_at, c.connectable_type, c.connectable_id))

    # Codes and tokens

    def issue_code(self, grant: AuthorizationCode) -> str:
        """Store an authorization code and return its value."""
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[_hash(code)] = grant
        return code

    def take_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        """Consume a code: return its grant once if valid for the client, else None."""
        with self.lock:
            grant = self.codes.get(_hash(code))
            if grant is None or grant.used or grant.client_id != client_id:
                return None
            grant.used = True
            return grant if grant.expires_at > self.clock() else None

    def issue_refresh_token(self, grant: RefreshGrant) -> str:
        """Store a refresh grant and return the refresh token."""
        token = secrets.token_urlsafe(32)
        with self.lock:
            self.refresh_grants[_hash(token)] = grant
        return token

    def take_refresh_token(self, token: str, client_id: str) -> RefreshGrant | None:
        """Consume a refresh token: return its grant once if valid for the client, else None."""
        with self.lock:
            grant = self.refresh_grants.get(_hash(token))
            if grant is None or grant.used or grant.client_id != client_id:
                return None
            grant.used = True
            return grant if grant.expires_at > self.clock() else None

    def record_token(self, jti: str, expires_at: float) -> None:
        """Remember an issued access token so it can be revoked."""
        with self.lock:
            self.issued_tokens[jti] = expires_at

    def revoke(self, jti: str, expires_at: float) -> None:
        """Mark an access token id as revoked until it expires."""
        with self.lock:
            self.revoked_jtis[jti] = expires_at

    def revoked_ids(self) -> list[str]:
        """Return ids of revoked tokens that have not yet expired."""
        now = self.clock()
        return [jti for jti, expires_at in self.revoked_jtis.items() if expires_at > now]

    # Browser sessions and pending authorizations

    def start_flow(self, flow: dict) -> str:
        """Store a pending authorization and return its id."""
        flow_id = secrets.token_urlsafe(16)
        with self.lock:
            self.flows[flow_id] = flow
        return flow_id

    def open_session(self, person_id: str) -> str:
        """Log a person in and return the session id for the cookie."""
        session_id = secrets.token_urlsafe(24)
        with self.lock:
            self.sessions[session_id] = person_id
        return session_id


def _ordered_roles(roles: list[str]) -> list[str]:
    unique = list(dict.fromkeys(roles))
    return sorted(unique, key=lambda r: ROLE_ORDER.index(r) if r in ROLE_ORDER else len(ROLE_ORDER))
