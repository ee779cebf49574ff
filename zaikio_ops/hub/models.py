"""Typed views of Zaikio Hub responses.

Each model keeps the parsed JSON object in ``raw`` (excluded from ``repr``), so
fields the model does not name stay reachable. :class:`AccessToken` drops the
token strings from ``raw`` and stores them as :class:`~zaikio_ops.secret.Secret`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from zaikio_ops.hub.errors import HubProtocolError
from zaikio_ops.secret import Secret

__all__ = [
    "AccessToken",
    "Person",
    "Organization",
    "OrganizationMembership",
    "Membership",
    "Role",
    "Connection",
    "Page",
    "split_scopes",
]


def split_scopes(value: str | list[str] | None) -> list[str]:
    """Split a comma- or space-separated scope string into a list of scopes."""
    if value is None:
        return []

    if isinstance(value, list):
        return [str(item) for item in value]

    return [part for part in value.replace(" ", ",").split(",") if part]


def _require(data: dict[str, Any], key: str, object_name: str) -> Any:
    if key not in data:
        raise HubProtocolError(f"The Hub's {object_name} object has no '{key}' key; the API may have changed.")
    return data[key]


def _parse_expiry(value: Any, now: datetime) -> tuple[int | None, datetime | None]:
    """Return ``(expires_in, expires_at)`` for integer seconds or an ISO timestamp."""
    if value is None:
        return None, None

    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        seconds = int(value)
        return seconds, now + timedelta(seconds=seconds)

    # Some Zaikio documentation examples show an ISO timestamp instead of seconds.
    try:
        expires_at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise HubProtocolError(
            f"The token response's expires_in {value!r} is neither seconds nor an ISO timestamp."
        ) from exc

    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=timezone.utc)
    return max(0, int((expires_at - now).total_seconds())), expires_at


@dataclass(frozen=True)
class AccessToken:
    """A token response from ``POST /oauth/access_token``.

    Attributes
    ----------
    access_token : Secret
        The RS256 JWT.
    refresh_token : Secret or None
        Single-use refresh token; None for client-credentials tokens.
    token_type : str
        ``bearer``.
    scopes : list of str
        Granted scopes without the ``Org``/``Per`` prefix.
    audiences : list of str
        The app names the token is valid for.
    expires_in : int or None
        Lifetime in seconds as sent by the Hub.
    expires_at : datetime or None
        UTC time the token expires, computed when the response arrived.
    bearer_id : str
        UUID of the person or organization; migrations store this id.
    bearer_type : str
        ``Person`` or ``Organization``.
    bearer_on_behalf_of : dict or None
        The ``bearer_on_behalf_of`` object of on-behalf tokens.
    raw : dict
        The response without ``access_token`` and ``refresh_token``.
    """

    access_token: Secret
    refresh_token: Secret | None
    token_type: str
    scopes: list[str]
    audiences: list[str]
    expires_in: int | None
    expires_at: datetime | None
    bearer_id: str
    bearer_type: str
    bearer_on_behalf_of: dict[str, Any] | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any], now: datetime | None = None) -> AccessToken:
        """Parse a token response; ``now`` fixes the reference time for ``expires_at``."""
        now = now or datetime.now(timezone.utc)
        bearer = _require(data, "bearer", "token response")
        expires_in, expires_at = _parse_expiry(data.get("expires_in"), now)
        refresh = data.get("refresh_token")
        safe_raw = {k: v for k, v in data.items() if k not in ("access_token", "refresh_token")}

        return cls(
            access_token=Secret(_require(data, "access_token", "token response")),
            refresh_token=Secret(refresh) if refresh else None,
            token_type=str(data.get("token_type", "bearer")),
            scopes=split_scopes(data.get("scope")),
            audiences=list(data.get("audiences") or []),
            expires_in=expires_in,
            expires_at=expires_at,
            bearer_id=str(_require(bearer, "id", "token bearer")),
            bearer_type=str(_require(bearer, "type", "token bearer")),
            bearer_on_behalf_of=data.get("bearer_on_behalf_of"),
            raw=safe_raw,
        )

    def unverified_claims(self) -> dict[str, Any]:
        """Decode the JWT payload without checking the signature (for display and ids only)."""
        parts = self.access_token.reveal().split(".")
        if len(parts) != 3:
            raise HubProtocolError("The access token is not a JWT (expected three dot-separated parts).")

        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        return json.loads(base64.urlsafe_b64decode(payload))

    def is_expired(self, now: datetime | None = None, leeway: float = 30.0) -> bool:
        """Return True when the token expires within ``leeway`` seconds of ``now``."""
        if self.expires_at is None:
            return False
        now = now or datetime.now(timezone.utc)
        return self.expires_at - timedelta(seconds=leeway) <= now


@dataclass(frozen=True)
class Organization:
    """An organization as returned by ``GET /organization`` or inside a membership."""

    id: str
    name: str
    slug: str | None
    connected: bool | None
    kinds: list[str]
    country_code: str | None
    currency: str | None
    granted_oauth_scopes: list[str]
    created_at: str | None
    updated_at: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Organization:
        """Parse an organization object."""
        return cls(
            id=str(_require(data, "id", "organization")),
            name=str(data.get("name") or ""),
            slug=data.get("slug"),
            connected=data.get("connected"),
            kinds=list(data.get("kinds") or []),
            country_code=data.get("country_code"),
            currency=data.get("currency"),
            granted_oauth_scopes=list(data.get("granted_oauth_scopes") or []),
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            raw=data,
        )


@dataclass(frozen=True)
class OrganizationMembership:
    """A membership seen from the person's side (``GET /person``)."""

    id: str
    roles: list[str]
    organization: Organization
    created_at: str | None
    updated_at: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrganizationMembership:
        """Parse an ``organization_memberships`` item."""
        return cls(
            id=str(_require(data, "id", "organization membership")),
            roles=list(data.get("roles") or []),
            organization=Organization.from_dict(_require(data, "organization", "organization membership")),
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            raw=data,
        )


@dataclass(frozen=True)
class Person:
    """A person as returned by ``GET /person`` or inside an organization membership.

    ``organization_memberships`` is empty for the membership variant, which
    carries no memberships of its own.
    """

    id: str
    first_name: str | None
    name: str | None
    full_name: str | None
    email: str | None
    email_confirmed: bool | None
    locale: str | None
    connected: bool | None
    granted_oauth_scopes: list[str]
    organization_memberships: list[OrganizationMembership]
    created_at: str | None
    updated_at: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Person:
        """Parse a person object."""
        memberships = [OrganizationMembership.from_dict(m) for m in data.get("organization_memberships") or []]
        return cls(
            id=str(_require(data, "id", "person")),
            first_name=data.get("first_name"),
            name=data.get("name"),
            full_name=data.get("full_name"),
            email=data.get("email"),
            email_confirmed=data.get("email_confirmed"),
            locale=data.get("locale"),
            connected=data.get("connected"),
            granted_oauth_scopes=list(data.get("granted_oauth_scopes") or []),
            organization_memberships=memberships,
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            raw=data,
        )


@dataclass(frozen=True)
class Membership:
    """A membership seen from the organization's side (``GET /organization/memberships``)."""

    id: str
    roles: list[str]
    person: Person
    created_at: str | None
    updated_at: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Membership:
        """Parse a membership item."""
        return cls(
            id=str(_require(data, "id", "membership")),
            roles=list(data.get("roles") or []),
            person=Person.from_dict(_require(data, "person", "membership")),
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            raw=data,
        )


@dataclass(frozen=True)
class Role:
    """A role id and its translated name from ``GET /roles``."""

    id: str
    name: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Role:
        """Parse a role object."""
        return cls(id=str(_require(data, "id", "role")), name=str(data.get("name") or ""), raw=data)


@dataclass(frozen=True)
class Connection:
    """A person or organization that connected the app (``GET /connections``)."""

    connectable_type: str
    connectable_id: str
    app_name: str
    granted_oauth_scopes: list[str]
    created_at: str | None
    updated_at: str | None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def id(self) -> str:
        """The connection id used in URLs: ``<connectable_type>-<connectable_id>``."""
        return f"{self.connectable_type}-{self.connectable_id}"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Connection:
        """Parse a connection object."""
        return cls(
            connectable_type=str(_require(data, "connectable_type", "connection")),
            connectable_id=str(_require(data, "connectable_id", "connection")),
            app_name=str(data.get("app_name") or ""),
            granted_oauth_scopes=list(data.get("granted_oauth_scopes") or []),
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            raw=data,
        )


@dataclass(frozen=True)
class Page:
    """One page of a paginated list with the Hub's pagination headers.

    ``current_page``, ``total_pages`` and ``total_count`` are None when the Hub
    sent no such header (unpaginated lists).
    """

    items: list[dict[str, Any]]
    current_page: int | None
    total_pages: int | None
    total_count: int | None
    next_url: str | None
