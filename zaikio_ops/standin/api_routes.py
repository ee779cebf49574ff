"""The stand-in's REST API under ``/api/v1``.

Bearer endpoints check the JWT like Zaikio's verifier: 401 ``no_jwt_passed``
without a token, 403 ``invalid_jwt``, ``jwt_expired``, ``unpermitted_subject``
or ``unpermitted_scope`` otherwise. ``/connections`` uses HTTP Basic auth with
the app's credentials and is paginated (``page``, ``per_page`` up to 100) with
``Link``, ``Current-Page``, ``Total-Count`` and ``Total-Pages`` headers.
"""

from __future__ import annotations

import logging
import math
from typing import Any
from urllib.parse import urlencode

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from zaikio_ops.standin.requests import basic_credentials
from zaikio_ops.standin.scopes import scope_covered
from zaikio_ops.standin.serializers import connection_json, member_json, organization_json, person_json
from zaikio_ops.standin.state import ROLE_NAMES, ROLE_ORDER, HubState, StandinApp

__all__ = ["ApiError", "routes", "MAX_PER_PAGE"]

logger = logging.getLogger(__name__)

MAX_PER_PAGE = 100


class ApiError(Exception):
    """An API failure; the app's exception handler sends ``{"errors": errors}`` with ``status``."""

    def __init__(self, status: int, errors: list[str] | dict[str, list[str]]) -> None:
        super().__init__(status, errors)
        self.status = status
        self.errors = errors


def api_error_response(request: Request, exc: Exception) -> Response:
    """Render an :class:`ApiError` as JSON."""
    assert isinstance(exc, ApiError)
    return JSONResponse({"errors": exc.errors}, status_code=exc.status)


def _hub(request: Request) -> HubState:
    return request.app.state.hub


def _claims(request: Request, subject_type: str, scope: str) -> dict[str, Any]:
    """Verify the bearer JWT and return its claims when subject and scope fit."""
    hub = _hub(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, ["no_jwt_passed"])

    try:
        claims = hub.signer.decode(token.strip())
    except jwt.ExpiredSignatureError:
        raise ApiError(403, ["jwt_expired"]) from None
    except jwt.PyJWTError:
        raise ApiError(403, ["invalid_jwt"]) from None

    if claims["jti"] in hub.revoked_jtis:
        raise ApiError(403, ["invalid_jwt"])
    if subject_type and not str(claims["sub"]).startswith(subject_type + "/"):
        raise ApiError(403, ["unpermitted_subject", f"expected a {subject_type} token"])
    if scope and not scope_covered(claims.get("scope") or [], scope):
        raise ApiError(403, ["unpermitted_scope", f"requires {scope}"])
    return claims


def _subject_id(claims: dict[str, Any]) -> str:
    return str(claims["sub"]).rsplit(">", 1)[-1].split("/", 1)[1]


def _app_name(claims: dict[str, Any]) -> str | None:
    audiences = claims.get("aud") or []
    return audiences[0].split("/", 1)[0] if audiences else None


def _basic_app(request: Request) -> StandinApp:
    credentials = basic_credentials(request)
    app = _hub(request).authenticate_app(*credentials) if credentials else None
    if app is None:
        raise ApiError(401, ["unauthorized"])
    return app


async def get_person(request: Request) -> Response:
    """``GET /api/v1/person`` (scope ``zaikio.person.r``)."""
    hub = _hub(request)
    claims = _claims(request, "Person", "zaikio.person.r")
    person = hub.persons.get(_subject_id(claims))
    if person is None:
        raise ApiError(404, ["record_not_found"])
    return JSONResponse(person_json(hub, person, _app_name(claims)))


async def get_organization(request: Request) -> Response:
    """``GET /api/v1/organization`` (scope ``zaikio.organization.r``)."""
    hub = _hub(request)
    claims = _claims(request, "Organization", "zaikio.organization.r")
    organization = hub.organizations.get(_subject_id(claims))
    if organization is None:
        raise ApiError(404, ["record_not_found"])
    return JSONResponse(organization_json(hub, organization, _app_name(claims)))


async def list_memberships(request: Request) -> Response:
    """``GET /api/v1/organization/memberships`` (scope ``zaikio.organization_members.r``), unpaginated."""
    hub = _hub(request)
    claims = _claims(request, "Organization", "zaikio.organization_members.r")
    organization_id = _subject_id(claims)
    items = [member_json(hub, m, _app_name(claims)) for m in hub.memberships_of_organization(organization_id)
             if m.person_id in hub.persons]
    return JSONResponse(items)


async def list_roles(request: Request) -> Response:
    """``GET /api/v1/roles``: public, ordered, names in ``lang`` (``en`` or ``de``)."""
    lang = request.query_params.get("lang", "en")
    names = ROLE_NAMES.get(lang, ROLE_NAMES["en"])
    return JSONResponse([{"id": role, "name": name} for role, name in zip(ROLE_ORDER, names)])


def _positive_int(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default

    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, {name: ["is not an integer"]}) from None

    if value < 1 or (maximum is not None and value > maximum):
        limit = f"between 1 and {maximum}" if maximum else "at least 1"
        raise ApiError(400, {name: [f"must be {limit}"]})
    return value


def _page_url(request: Request, page: int) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "page"]
    params.append(("page", str(page)))
    base = str(request.url.replace(query=""))
    return f"{base}?{urlencode(params)}"


def paginate(request: Request, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """Return one page of ``items`` and the pagination headers for it."""
    per_page = _positive_int(request, "per_page", MAX_PER_PAGE, MAX_PER_PAGE)
    page = _positive_int(request, "page", 1)
    total = len(items)
    total_pages = math.ceil(total / per_page)

    links = [(_page_url(request, 1), "first")]
    if page > 1:
        links.append((_page_url(request, min(page - 1, max(total_pages, 1))), "prev"))
    if page < total_pages:
        links.append((_page_url(request, page + 1), "next"))
    links.append((_page_url(request, max(total_pages, 1)), "last"))

    headers = {
        "Link": ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links),
        "Current-Page": str(page),
        "Total-Count": str(total),
        "Total-Pages": str(total_pages),
    }
    start = (page - 1) * per_page
    return items[start:start + per_page], headers


async def list_connections(request: Request) -> Response:
    """``GET /api/v1/connections``: the calling app's connections (HTTP Basic auth), paginated."""
    # NOTE: the Hub also accepts a vendor-organization Bearer token with connections_and_subscriptions.r;
    # the stand-in accepts Basic auth only.
    hub = _hub(request)
    app = _basic_app(request)
    connections = hub.connections_of_app(app.name)

    connection_filter = request.query_params.get("filters[connectable_id]")
    if connection_filter:
        connections = [c for c in connections
                       if f"{c.connectable_type}-{c.connectable_id}" == connection_filter]

    page_items, headers = paginate(request, connections)
    return JSONResponse([connection_json(c) for c in page_items], headers=headers)


async def get_connection(request: Request) -> Response:
    """``GET /api/v1/connections/{Type-uuid}`` (HTTP Basic auth)."""
    hub = _hub(request)
    app = _basic_app(request)
    connectable_type, _, connectable_id = request.path_params["connection_id"].partition("-")
    if connectable_type not in ("Person", "Organization"):
        raise ApiError(404, ["record_not_found"])

    connection = hub.connection(app.name, connectable_type, connectable_id)
    if connection is None:
        raise ApiError(404, ["record_not_found"])
    return JSONResponse(connection_json(connection))


async def jwt_public_keys(request: Request) -> Response:
    """``GET /api/v1/jwt_public_keys``: the JWKS."""
    return JSONResponse(_hub(request).signer.jwks())


async def revoked_access_tokens(request: Request) -> Response:
    """``GET`` lists revoked token ids; ``POST`` revokes the bearer token itself (201)."""
    hub = _hub(request)
    if request.method == "GET":
        return JSONResponse({"revoked_token_ids": hub.revoked_ids()})

    claims = _claims(request, "", "")
    hub.revoke(claims["jti"], float(claims["exp"]))
    logger.info("Revoked access token %s", claims["jti"])
    return JSONResponse({"access_token_id": claims["jti"]}, status_code=201)


routes = [
    Route("/api/v1/person", get_person, methods=["GET"]),
    Route("/api/v1/organization", get_organization, methods=["GET"]),
    Route("/api/v1/organization/memberships", list_memberships, methods=["GET"]),
    Route("/api/v1/roles", list_roles, methods=["GET"]),
    Route("/api/v1/connections", list_connections, methods=["GET"]),
    Route("/api/v1/connections/{connection_id}", get_connection, methods=["GET"]),
    Route("/api/v1/jwt_public_keys", jwt_public_keys, methods=["GET"]),
    Route("/api/v1/revoked_access_tokens", revoked_access_tokens, methods=["GET", "POST"]),
]
