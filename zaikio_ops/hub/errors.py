"""Errors raised by the Zaikio Hub client.

Every class derives from :class:`zaikio_ops.errors.HubError`::

    HubError
     ├── OAuthError            token endpoint or authorize redirect returned ``error``
     │    ├── InvalidGrant, InvalidRequest, InvalidClient, InvalidScope,
     │    ├── UnauthorizedClient, UnsupportedGrantType, AccessDenied
     ├── StateMismatch         the callback's ``state`` is not the one sent
     ├── ScopeError            ``{"errors": {"scopes": [...]}}`` from the token endpoint
     │    ├── BearerDoesNotExist
     │    └── UngrantedScope
     ├── HubHTTPError          a REST call returned a non-2xx status
     │    ├── BadRequest (400), Unauthorized (401), Forbidden (403), NotFound (404),
     │    ├── ValidationFailed (422), RateLimited (429), ServerError (5xx)
     ├── HubTimeout            no response within the client's timeout
     ├── HubConnectionError    the Hub could not be reached
     └── HubProtocolError      the response could not be parsed

Messages name the HTTP method, the path without its query string, the status,
the Zaikio error ids and what to do. They never contain tokens or secrets.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from zaikio_ops.errors import HubError

__all__ = [
    "HubError",
    "OAuthError",
    "InvalidGrant",
    "InvalidRequest",
    "InvalidClient",
    "InvalidScope",
    "UnauthorizedClient",
    "UnsupportedGrantType",
    "AccessDenied",
    "StateMismatch",
    "ScopeError",
    "BearerDoesNotExist",
    "UngrantedScope",
    "HubHTTPError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "ValidationFailed",
    "RateLimited",
    "ServerError",
    "HubTimeout",
    "HubConnectionError",
    "HubProtocolError",
    "error_from_response",
    "oauth_error_from_id",
]


class OAuthError(HubError):
    """An OAuth error id from the token endpoint or the authorize redirect.

    Parameters
    ----------
    error_id : str
        The OAuth ``error`` value, e.g. ``invalid_grant``.
    description : str or None
        The ``error_description`` sent by the Hub.
    status : int or None
        The HTTP status, or None for an error delivered through a redirect.
    method, path : str
        The request that failed (path without query string).
    """

    hint = "Check the client credentials and the grant parameters, then start the flow again."

    def __init__(
        self,
        error_id: str,
        description: str | None = None,
        *,
        status: int | None = None,
        method: str = "POST",
        path: str = "/oauth/access_token",
    ) -> None:
        self.error_id = error_id
        self.description = description
        self.status = status
        self.method = method
        self.path = path
        super().__init__(self._message())

    def _message(self) -> str:
        status = f" with status {self.status}" if self.status is not None else ""
        detail = f" ({self.description})" if self.description else ""
        return f"{self.method} {self.path} failed{status}: OAuth error {self.error_id}{detail}. {self.hint}"


class InvalidGrant(OAuthError):
    """The code or refresh token is unknown, expired, already used or issued to another client."""

    hint = (
        "Codes and refresh tokens are single-use and short-lived: discard the stored token "
        "and send the user through the authorize flow again."
    )


class InvalidRequest(OAuthError):
    """A required parameter is missing or malformed (often a bad PKCE verifier)."""

    hint = "Check the request parameters; for PKCE send the code_verifier that belongs to the challenge."


class InvalidClient(OAuthError):
    """The client id or secret was rejected."""

    hint = "Check ZAIKIO_CLIENT_ID and ZAIKIO_CLIENT_SECRET against the app's credentials in the Hub."


class InvalidScope(OAuthError):
    """A requested scope is malformed or not among the app's desired scopes."""

    hint = "Request only scopes configured as the app's desired OAuth scopes, spelled app.scope.r|w|rw."


class UnauthorizedClient(OAuthError):
    """The client may not use this grant type."""

    hint = "Use confidential credentials for this grant, or switch to the authorization code flow."


class UnsupportedGrantType(OAuthError):
    """The Hub does not know the grant type."""

    hint = "Use authorization_code, refresh_token or client_credentials."


class AccessDenied(OAuthError):
    """The user cancelled the consent screen or may not grant the requested scopes."""

    hint = "Ask the user to retry; organization scopes can only be granted by an owner or admin."


_OAUTH_CLASSES: dict[str, type[OAuthError]] = {
    "invalid_grant": InvalidGrant,
    "invalid_request": InvalidRequest,
    "invalid_client": InvalidClient,
    "invalid_scope": InvalidScope,
    "unauthorized_client": UnauthorizedClient,
    "unsupported_grant_type": UnsupportedGrantType,
    "access_denied": AccessDenied,
}


def oauth_error_from_id(
    error_id: str,
    description: str | None,
    *,
    status: int | None = None,
    method: str = "POST",
    path: str = "/oauth/access_token",
) -> OAuthError:
    """Build the :class:`OAuthError` subclass that matches an OAuth error id."""
    cls = _OAUTH_CLASSES.get(error_id, OAuthError)
    return cls(error_id, description, status=status, method=method, path=path)


class StateMismatch(HubError):
    """The ``state`` in the OAuth callback differs from the one sent, or is missing."""

    def __init__(self) -> None:
        super().__init__(
            "The OAuth callback's state parameter does not match the state sent with the "
            "authorize request; reject the callback and start the flow again."
        )


class ScopeError(HubError):
    """The token endpoint rejected the requested scopes (``{"errors": {"scopes": [...]}}``).

    Parameters
    ----------
    error_ids : list of str
        The scope error ids, e.g. ``["bearer_does_not_exist"]``.
    status : int
        The HTTP status (the Hub uses 402 for ``bearer_does_not_exist``).
    """

    hint = "Request scopes the bearer has granted to this app."

    def __init__(self, error_ids: list[str], *, status: int, method: str = "POST",
                 path: str = "/oauth/access_token") -> None:
        self.error_ids = list(error_ids)
        self.status = status
        self.method = method
        self.path = path
        ids = ", ".join(self.error_ids) or "unknown"
        super().__init__(f"{method} {path} failed with status {status}: scope error {ids}. {self.hint}")


class BearerDoesNotExist(ScopeError):
    """The Org/Per id in the scope is unknown or never connected this app."""

    hint = (
        "The organization or person must install (connect) the app first: send an owner or "
        "admin through the authorize flow with Org/<uuid>. scopes."
    )


class UngrantedScope(ScopeError):
    """The bearer is connected but has not granted one of the requested scopes."""

    hint = "Ask the bearer to grant the missing scopes through the authorize flow, or request fewer scopes."


def _scope_error(error_ids: list[str], status: int, method: str, path: str) -> ScopeError:
    if "bearer_does_not_exist" in error_ids:
        return BearerDoesNotExist(error_ids, status=status, method=method, path=path)
    if "ungranted_scope" in error_ids:
        return UngrantedScope(error_ids, status=status, method=method, path=path)
    return ScopeError(error_ids, status=status, method=method, path=path)


class HubHTTPError(HubError):
    """A Hub REST call returned a non-2xx status.

    Attributes
    ----------
    method, path : str
        The request (path without query string).
    status : int
        The HTTP status code.
    error_ids : list of str
        The ids from ``{"errors": [...]}``, or ``field: message`` strings for
        ``{"errors": {field: [...]}}``.
    """

    hint = "Check the request and retry."

    def __init__(self, method: str, path: str, status: int, error_ids: list[str] | None = None) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.error_ids = list(error_ids or [])
        super().__init__(self._message())

    def _message(self) -> str:
        ids = f" (Zaikio error: {', '.join(self.error_ids)})" if self.error_ids else ""
        return f"{self.method} {self.path} failed with status {self.status}{ids}. {self.hint}"


class BadRequest(HubHTTPError):
    """400: a parameter such as ``page`` or ``per_page`` is invalid."""

    hint = "Check the query parameters; per_page must be between 1 and 100 and page at least 1."


class Unauthorized(HubHTTPError):
    """401: no or wrong credentials."""

    hint = "Send a valid access token, or the app's client id and secret for Basic-auth endpoints."


class Forbidden(HubHTTPError):
    """403: the JWT is expired, revoked, invalid or lacks the scope."""

    hint = "Get a fresh access token with the scope this endpoint needs (e.g. zaikio.person.r)."


class NotFound(HubHTTPError):
    """404: the resource does not exist or is not visible to this bearer."""

    hint = "Check the id and that the bearer may see the resource."


class ValidationFailed(HubHTTPError):
    """422: the request body failed validation."""

    hint = "Fix the listed fields and send the request again."


class RateLimited(HubHTTPError):
    """429: too many requests; retries were exhausted or not allowed.

    Attributes
    ----------
    reset_at : float or None
        Unix time from ``RateLimit-Reset``, if sent.
    """

    hint = "Wait until the RateLimit-Reset time, lower the request rate, or raise max_attempts."

    def __init__(self, method: str, path: str, status: int, error_ids: list[str] | None = None,
                 reset_at: float | None = None) -> None:
        self.reset_at = reset_at
        super().__init__(method, path, status, error_ids)


class ServerError(HubHTTPError):
    """5xx: the Hub failed; retries were exhausted or not allowed."""

    hint = "The Hub had an internal error; retry later or raise max_attempts."


class HubTimeout(HubError):
    """No response within the client's timeout, after all allowed attempts."""

    def __init__(self, method: str, path: str, attempts: int) -> None:
        self.method = method
        self.path = path
        self.attempts = attempts
        super().__init__(
            f"{method} {path} timed out after {attempts} attempt(s); check that the Hub is "
            "reachable, or raise the client's timeout."
        )


class HubConnectionError(HubError):
    """The Hub could not be reached (DNS, refused connection, TLS)."""

    def __init__(self, method: str, path: str, attempts: int, reason: str) -> None:
        self.method = method
        self.path = path
        self.attempts = attempts
        super().__init__(
            f"{method} {path} could not reach the Hub after {attempts} attempt(s): {reason}. "
            "Check the Hub base URL and the network."
        )


class HubProtocolError(HubError):
    """The Hub's response could not be parsed or broke an expectation of the client."""


_STATUS_CLASSES: dict[int, type[HubHTTPError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    422: ValidationFailed,
}


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _error_ids(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []

    errors = body.get("errors")
    if isinstance(errors, list):
        return [str(item) for item in errors]

    if isinstance(errors, dict):
        ids = []
        for field_name, messages in errors.items():
            for message in messages if isinstance(messages, list) else [messages]:
                ids.append(f"{field_name}: {message}")
        return ids

    return []


def _rate_limit_reset(response: httpx.Response) -> float | None:
    value = response.headers.get("RateLimit-Reset")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def error_from_response(method: str, path: str, response: httpx.Response) -> HubError:
    """Convert a non-2xx Hub response into the matching :class:`HubError`.

    Parameters
    ----------
    method : str
        HTTP method of the request.
    path : str
        Request path; pass it without the query string.
    response : httpx.Response
        The failed response.

    Returns
    -------
    HubError
        An :class:`OAuthError`, :class:`ScopeError` or :class:`HubHTTPError` subclass.
    """
    body = _json_or_none(response)
    status = response.status_code

    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return oauth_error_from_id(body["error"], body.get("error_description"),
                                   status=status, method=method, path=path)

    if isinstance(body, dict) and isinstance(body.get("errors"), dict) and "scopes" in body["errors"]:
        return _scope_error([str(i) for i in body["errors"]["scopes"]], status, method, path)

    if status == 429:
        return RateLimited(method, path, status, _error_ids(body), reset_at=_rate_limit_reset(response))

    if status >= 500:
        return ServerError(method, path, status, _error_ids(body))

    cls = _STATUS_CLASSES.get(status, HubHTTPError)
    return cls(method, path, status, _error_ids(body))
