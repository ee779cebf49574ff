"""Client for the Zaikio Hub: OAuth redirect flow with PKCE, token grants and the REST API."""

from __future__ import annotations

from zaikio_ops.hub.client import HubClient
from zaikio_ops.hub.errors import *  # noqa: F401,F403 - the package re-exports the error hierarchy
from zaikio_ops.hub.errors import __all__ as _error_names
from zaikio_ops.hub.jwt_verify import InvalidAccessToken, verify_access_token
from zaikio_ops.hub.models import (
    AccessToken,
    Connection,
    Membership,
    Organization,
    OrganizationMembership,
    Page,
    Person,
    Role,
    split_scopes,
)
from zaikio_ops.hub.oauth import PersonPrefill, PkcePair, build_authorize_url, generate_pkce, parse_callback
from zaikio_ops.hub.retry import RetryPolicy

__all__ = [
    "HubClient",
    "AccessToken",
    "Connection",
    "Membership",
    "Organization",
    "OrganizationMembership",
    "Page",
    "Person",
    "Role",
    "split_scopes",
    "PersonPrefill",
    "PkcePair",
    "build_authorize_url",
    "generate_pkce",
    "parse_callback",
    "RetryPolicy",
    "InvalidAccessToken",
    "verify_access_token",
    *_error_names,
]
