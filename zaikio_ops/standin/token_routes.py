"""``POST /oauth/access_token`` (and ``.json``): authorization code, refresh and client-credentials grants.

Errors use Doorkeeper's shapes, as the real Hub does: ``{"error", "error_description"}``
with 400 (401 for ``invalid_client``). Scope problems of the client-credentials
grant return ``{"errors": {"scopes": [<id>]}}`` with status 402, the status Zaikio's
Ruby client is tested against for ``bearer_does_not_exist``.
"""

from __future__ import annotations

import hashlib
import base64
import logging
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zaikio_ops.standin.requests import basic_credentials, read_params
from zaikio_ops.standin.scopes import ScopeProblem, parse_scopes, scope_covered
from zaikio_ops.standin.state import (
    REFRESH_TOKEN_LIFETIME,
    HubState,
    RefreshGrant,
    StandinApp,
)
from zaikio_ops.standin.tokens import JWKS_PATH

__all__ = ["routes", "GRANT_NOT_FOUND", "MISSING_PARAMETER"]

logger = logging.getLogger(__name__)

GRANT_NOT_FOUND = "The application, grant, refresh token or device authorization could not be found."
MISSING_PARAMETER = "The request is missing a required parameter."
CLIENT_AUTH_FAILED = ("Client authentication failed due to unknown client, no client authentication included, "
                      "or unsupported authentication method.")
SCOPE_ERROR_STATUS = 402
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenError(Exception):
    """A token-endpoint failure carrying the JSON body and status to send."""

    def __init__(self, body: dict, status: int) -> None:
        super().__init__(body)
        self.body = body
        self.status = status


def _oauth_error(error: str, description: str, status: int = 400) -> TokenError:
    return TokenError({"error": error, "error_description": description}, status)


def _scope_error(error_id: str) -> TokenError:
    return TokenError({"errors": {"scopes": [error_id]}}, SCOPE_ERROR_STATUS)


def _client(hub: HubState, request: Request, params: dict[str, str]) -> tuple[StandinApp, bool]:
    """Return the calling app and whether it proved its secret (Basic auth or body)."""
    basic = basic_credentials(request)
    client_id, secret = basic if basic else (params.get("client_id"), params.get("client_secret"))
    app = hub.app_by_client_id(client_id)

    if app is None:
        raise _oauth_error("invalid_client", CLIENT_AUTH_FAILED, 401)

    if secret is None or secret == "":
        return app, False

    if hub.authenticate_app(client_id, secret) is None:
        raise _oauth_error("invalid_client", CLIENT_AUTH_FAILED, 401)
    return app, True


def _pkce_matches(verifier: str, challenge: str, method: str | None) -> bool:
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii", errors="replace")).digest()
        computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    else:
        computed = verifier
    return secrets.compare_digest(computed.encode(), challenge.encode())


def _token_body(request: Request, hub: HubState, app: StandinApp, bearer_type: str, bearer_id: str,
                scopes: list[str], *, with_refresh: bool) -> dict:
    subject_type = "Person" if bearer_type == "Person" else "Organization"
    jwks_url = str(request.base_url).rstrip("/") + JWKS_PATH
    lifetime = hub.access_token_lifetime
    token, claims = hub.signer.issue(subject=f"{subject_type}/{bearer_id}", audiences=[app.name],
                                     scopes=scopes, lifetime=lifetime, jwks_url=jwks_url)
    hub.record_token(claims["jti"], claims["exp"])

    body: dict = {"access_token": token}
    if with_refresh:
        body["refresh_token"] = hub.issue_refresh_token(RefreshGrant(
            client_id=app.client_id, bearer_type=subject_type, bearer_id=bearer_id, scopes=scopes,
            expires_at=hub.clock() + REFRESH_TOKEN_LIFETIME,
        ))

    body.update({
        "token_type": "bearer",
        "scope": ",".join(scopes),
        "audiences": [app.name],
        "expires_in": lifetime,
        "bearer": {"id": bearer_id, "type": subject_type},
    })
    logger.info("Issued an access token (jti %s) to app %s for %s %s", claims["jti"], app.name, subject_type,
                bearer_id)
    return body


def _authorization_code(request: Request, hub: HubState, params: dict[str, str]) -> dict:
    app, authenticated = _client(hub, request, params)
    code = params.get("code")
    if not code:
        raise _oauth_error("invalid_request", MISSING_PARAMETER)

    grant = hub.take_code(code, app.client_id)
    if grant is None:
        raise _oauth_error("invalid_grant", GRANT_NOT_FOUND)

    if grant.code_challenge is None and app.confidential and not authenticated:
        raise _oauth_error("invalid_client", CLIENT_AUTH_FAILED, 401)

    if grant.code_challenge is not None:
        verifier = params.get("code_verifier")
        if not verifier:
            raise _oauth_error("invalid_request", MISSING_PARAMETER)
        if not _pkce_matches(verifier, grant.code_challenge, grant.code_challenge_method):
            raise _oauth_error("invalid_grant", GRANT_NOT_FOUND)

    if params.get("redirect_uri") and params["redirect_uri"] != grant.redirect_uri:
        raise _oauth_error("invalid_grant", GRANT_NOT_FOUND)

    return _token_body(request, hub, app, grant.bearer_type, grant.bearer_id, grant.scopes, with_refresh=True)


def _refresh_token(request: Request, hub: HubState, params: dict[str, str]) -> dict:
    app, authenticated = _client(hub, request, params)
    if app.confidential and not authenticated:
        raise _oauth_error("invalid_client", CLIENT_AUTH_FAILED, 401)

    token = params.get("refresh_token")
    if not token:
        raise _oauth_error("invalid_request", MISSING_PARAMETER)

    grant = hub.take_refresh_token(token, app.client_id)
    if grant is None:
        raise _oauth_error("invalid_grant", GRANT_NOT_FOUND)

    # A disconnect or a reduced grant since the token was issued denies the refresh.
    connection = hub.connection(app.name, grant.bearer_type, grant.bearer_id)
    if connection is None or not all(scope_covered(connection.granted_scopes, s) for s in grant.scopes):
        raise _oauth_error("invalid_grant", GRANT_NOT_FOUND)

    return _token_body(request, hub, app, grant.bearer_type, grant.bearer_id, grant.scopes, with_refresh=True)


def _client_credentials(request: Request, hub: HubState, params: dict[str, str]) -> dict:
    basic = basic_credentials(request)
    if basic is None or hub.authenticate_app(*basic) is None:
        raise _oauth_error("invalid_client", CLIENT_AUTH_FAILED, 401)
    app = hub.authenticate_app(*basic)

    try:
        scopes = parse_scopes(params.get("scope"))
    except ScopeProblem as problem:
        raise _scope_error(problem.error_id) from None

    bearer_id = scopes[0].bearer_id
    bearer_type = "Organization" if scopes[0].kind == "Org" else "Person"
    known = hub.organizations if bearer_type == "Organization" else hub.persons
    connection = hub.connection(app.name, bearer_type, bearer_id) if bearer_id else None
    if bearer_id is None or bearer_id not in known or connection is None:
        raise _scope_error("bearer_does_not_exist")

    plain = [s.plain for s in scopes]
    if any(s not in app.desired_scopes for s in plain):
        raise _scope_error("scope_is_not_included_in_desired_scopes")
    if not all(scope_covered(connection.granted_scopes, s) for s in plain):
        raise _scope_error("ungranted_scope")

    return _token_body(request, hub, app, bearer_type, bearer_id, plain, with_refresh=False)


_GRANTS = {
    "authorization_code": _authorization_code,
    "refresh_token": _refresh_token,
    "client_credentials": _client_credentials,
}


async def access_token(request: Request) -> Response:
    """``POST /oauth/access_token``: dispatch on ``grant_type`` (default ``authorization_code`` with a code)."""
    hub: HubState = request.app.state.hub
    params = await read_params(request)
    grant_type = params.get("grant_type") or ("authorization_code" if params.get("code") else None)

    try:
        if grant_type is None:
            raise _oauth_error("invalid_request", MISSING_PARAMETER)

        handler = _GRANTS.get(grant_type)
        if handler is None:
            raise _oauth_error("unsupported_grant_type",
                               "The authorization grant type is not supported by the authorization server.")
        body = handler(request, hub, params)
    except TokenError as exc:
        logger.info("Token request (grant %s) rejected with status %d: %s", grant_type, exc.status,
                    exc.body.get("error") or exc.body.get("errors"))
        return JSONResponse(exc.body, status_code=exc.status, headers=_NO_STORE)

    return JSONResponse(body, headers=_NO_STORE)


routes = [
    Route("/oauth/access_token", access_token, methods=["POST"]),
]
