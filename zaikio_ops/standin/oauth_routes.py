"""The stand-in's browser side of the redirect flow: ``GET /oauth/authorize`` and its forms.

Steps: validate client and redirect URI (errors here render a page and never
redirect), validate scopes and PKCE (errors redirect with ``error``), log in,
pick an organization for ``Org.`` scopes (owners and admins only), consent,
then redirect to the registered URI with ``code`` and ``state``. A person who
already granted every requested scope skips the consent page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from zaikio_ops.standin import pages
from zaikio_ops.standin.requests import nest_bracket_keys, read_params
from zaikio_ops.standin.scopes import RequestedScope, ScopeProblem, parse_scopes
from zaikio_ops.standin.state import CODE_LIFETIME, AuthorizationCode, HubState, StandinApp

__all__ = ["SESSION_COOKIE", "routes"]

logger = logging.getLogger(__name__)

SESSION_COOKIE = "zaikio_standin_session"
ACCESS_DENIED_TEXT = "The resource owner or authorization server denied the request."


@dataclass
class PendingAuthorization:
    """An authorize request between its first GET and the final redirect."""

    app_name: str
    client_id: str
    redirect_uri: str
    state: str | None
    scopes: list[RequestedScope]
    code_challenge: str | None
    code_challenge_method: str | None
    login_hint: str | None
    force_login: bool
    prefill: dict = field(default_factory=dict)
    organization_id: str | None = None

    @property
    def kind(self) -> str:
        """``Org`` or ``Per``: the bearer kind of the requested scopes."""
        return self.scopes[0].kind

    @property
    def plain_scopes(self) -> list[str]:
        """Requested scopes without bearer prefix."""
        return [s.plain for s in self.scopes]


def _hub(request: Request) -> HubState:
    return request.app.state.hub


def _redirect_to_client(redirect_uri: str, params: dict[str, str | None]) -> RedirectResponse:
    parts = urlsplit(redirect_uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302)


def _error_redirect(flow: PendingAuthorization, error: str, description: str) -> RedirectResponse:
    logger.info("Authorize request of app %s ends with %s (%s)", flow.app_name, error, description)
    return _redirect_to_client(flow.redirect_uri, {"error": error, "error_description": description,
                                                   "state": flow.state})


def _check_scopes(app: StandinApp, raw_scope: str | None) -> list[RequestedScope]:
    scopes = parse_scopes(raw_scope)

    for scope in scopes:
        if scope.plain not in app.desired_scopes:
            raise ScopeProblem("scope_is_not_included_in_desired_scopes")
        if scope.kind == "Per" and scope.bearer_id is not None:
            raise ScopeProblem("unpermitted_bearer_id")

    return scopes


def _check_pkce(app: StandinApp, challenge: str | None, method: str | None) -> str | None:
    """Return an ``invalid_request`` description, or None when the PKCE parameters are acceptable."""
    if challenge is None:
        return None if app.confidential else "code_challenge is required for public (non-confidential) credentials"

    if method not in ("S256", "plain"):
        return f"code_challenge_method {method!r} is not supported; use S256 or plain"
    if not 43 <= len(challenge) <= 128:
        return "code_challenge must be 43 to 128 characters long"
    return None


async def authorize(request: Request) -> Response:
    """``GET /oauth/authorize``: validate the request and show the login page."""
    hub = _hub(request)
    params = dict(request.query_params)
    app = hub.app_by_client_id(params.get("client_id"))

    if app is None:
        return pages.error_page("Unknown application", "The client_id is unknown to this Hub; check the app's "
                                "OAuth credentials.", 400)

    redirect_uri = params.get("redirect_uri") or app.redirect_uris[0]
    if redirect_uri not in app.redirect_uris:
        logger.info("Authorize request of app %s has an unregistered redirect URI", app.name)
        return pages.error_page("Invalid redirect URI", "The redirect_uri does not exactly match a redirect URI "
                                "registered for this application.", 400)

    flow = PendingAuthorization(
        app_name=app.name, client_id=app.client_id, redirect_uri=redirect_uri, state=params.get("state"),
        scopes=[], code_challenge=params.get("code_challenge"),
        code_challenge_method=params.get("code_challenge_method") or ("plain" if params.get("code_challenge")
                                                                      else None),
        login_hint=params.get("login"), force_login=params.get("force_login") in ("1", "true"),
        prefill=nest_bracket_keys(params),
    )

    if params.get("response_type", "code") != "code":
        return _error_redirect(flow, "invalid_request", "response_type must be code")

    try:
        flow.scopes = _check_scopes(app, params.get("scope"))
    except ScopeProblem as problem:
        return _error_redirect(flow, "invalid_scope", problem.error_id)

    pkce_problem = _check_pkce(app, flow.code_challenge, flow.code_challenge_method)
    if pkce_problem is not None:
        return _error_redirect(flow, "invalid_request", pkce_problem)

    flow.organization_id = flow.scopes[0].bearer_id if flow.kind == "Org" else None
    flow_id = hub.start_flow(flow)
    person_id = _session_person(request)

    if person_id is None or flow.force_login:
        hint = flow.login_hint or flow.prefill.get("person", {}).get("email")
        return pages.login_page(flow_id, app, list(hub.persons.values()), hint)
    return await _advance(request, flow_id, person_id)


def _session_person(request: Request) -> str | None:
    hub = _hub(request)
    person_id = hub.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
    return person_id if person_id in hub.persons else None


def _load_flow(request: Request, flow_id: str | None) -> PendingAuthorization | None:
    return _hub(request).flows.get(flow_id or "")


def _expired_flow_page() -> Response:
    return pages.error_page("Authorization expired", "This authorization request is unknown or already "
                            "finished; start again from the application.", 400)


async def login(request: Request) -> Response:
    """``POST /oauth/authorize/login``: log in as the person chosen by e-mail or id."""
    hub = _hub(request)
    form = await read_params(request)
    flow_id = form.get("flow")
    flow = _load_flow(request, flow_id)
    if flow is None:
        return _expired_flow_page()

    choice = form.get("email") or form.get("person_id") or ""
    person = hub.find_person(choice) if choice else None
    if person is None:
        return pages.login_page(flow_id, hub.apps[flow.app_name], list(hub.persons.values()), choice,
                                error="No Zaikio account has this e-mail address.", status=401)

    session_id = hub.open_session(person.id)
    response = RedirectResponse(f"/oauth/authorize/continue?flow={flow_id}", status_code=303)
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="lax", path="/")
    return response


async def resume(request: Request) -> Response:
    """``GET /oauth/authorize/continue``: the next step for the logged-in person."""
    flow_id = request.query_params.get("flow")
    flow = _load_flow(request, flow_id)
    if flow is None:
        return _expired_flow_page()

    person_id = _session_person(request)
    if person_id is None:
        hub = _hub(request)
        return pages.login_page(flow_id, hub.apps[flow.app_name], list(hub.persons.values()), flow.login_hint)
    return await _advance(request, flow_id, person_id)


async def _advance(request: Request, flow_id: str, person_id: str) -> Response:
    hub = _hub(request)
    flow: PendingAuthorization = hub.flows[flow_id]
    app = hub.apps[flow.app_name]
    person = hub.persons[person_id]

    if flow.kind == "Org" and flow.organization_id is None:
        choices = [(hub.organizations[m.organization_id], hub.may_grant_for(person_id, m.organization_id))
                   for m in hub.memberships_of_person(person_id) if m.organization_id in hub.organizations]
        return pages.organization_page(flow_id, app, person, choices)

    if flow.kind == "Org" and not hub.may_grant_for(person_id, flow.organization_id):
        hub.flows.pop(flow_id, None)
        return _error_redirect(flow, "access_denied", "Only an owner or admin of the organization can grant "
                               "organization scopes.")

    bearer_type, bearer_id = ("Organization", flow.organization_id) if flow.kind == "Org" else ("Person", person_id)
    connection = hub.connection(app.name, bearer_type, bearer_id)
    if connection is not None and set(flow.plain_scopes) <= set(connection.granted_scopes):
        return _finish(request, flow_id, person_id)

    organization = hub.organizations.get(flow.organization_id) if flow.organization_id else None
    return pages.consent_page(flow_id, app, person, flow.plain_scopes, organization)


async def choose_organization(request: Request) -> Response:
    """``POST /oauth/authorize/organization``: store the chosen organization."""
    hub = _hub(request)
    form = await read_params(request)
    flow_id = form.get("flow")
    flow = _load_flow(request, flow_id)
    person_id = _session_person(request)
    if flow is None or person_id is None:
        return _expired_flow_page()

    if form.get("decision") == "deny":
        hub.flows.pop(flow_id, None)
        return _error_redirect(flow, "access_denied", ACCESS_DENIED_TEXT)

    organization_id = form.get("organization_id")
    if organization_id not in hub.organizations:
        return pages.error_page("No organization chosen", "Choose one of the listed organizations.", 400)

    flow.organization_id = organization_id
    return await _advance(request, flow_id, person_id)


async def consent(request: Request) -> Response:
    """``POST /oauth/authorize/consent``: grant the scopes, or cancel with ``access_denied``."""
    hub = _hub(request)
    form = await read_params(request)
    flow_id = form.get("flow")
    flow = _load_flow(request, flow_id)
    person_id = _session_person(request)
    if flow is None or person_id is None:
        return _expired_flow_page()

    if form.get("decision") != "allow":
        hub.flows.pop(flow_id, None)
        return _error_redirect(flow, "access_denied", ACCESS_DENIED_TEXT)

    if flow.kind == "Org" and not hub.may_grant_for(person_id, flow.organization_id or ""):
        hub.flows.pop(flow_id, None)
        return _error_redirect(flow, "access_denied", "Only an owner or admin of the organization can grant "
                               "organization scopes.")

    return _finish(request, flow_id, person_id)


def _finish(request: Request, flow_id: str, person_id: str) -> Response:
    hub = _hub(request)
    flow: PendingAuthorization = hub.flows.pop(flow_id)
    bearer_type, bearer_id = ("Organization", flow.organization_id) if flow.kind == "Org" else ("Person", person_id)
    hub.grant(flow.app_name, bearer_type, bearer_id, flow.plain_scopes)

    code = hub.issue_code(AuthorizationCode(
        client_id=flow.client_id, bearer_type=bearer_type, bearer_id=bearer_id, scopes=flow.plain_scopes,
        redirect_uri=flow.redirect_uri, code_challenge=flow.code_challenge,
        code_challenge_method=flow.code_challenge_method, expires_at=hub.clock() + CODE_LIFETIME,
    ))
    logger.info("Issued an authorization code to app %s for %s %s", flow.app_name, bearer_type, bearer_id)
    return _redirect_to_client(flow.redirect_uri, {"code": code, "state": flow.state})


routes = [
    Route("/oauth/authorize", authorize, methods=["GET"]),
    Route("/oauth/authorize/login", login, methods=["POST"]),
    Route("/oauth/authorize/continue", resume, methods=["GET"]),
    Route("/oauth/authorize/organization", choose_organization, methods=["POST"]),
    Route("/oauth/authorize/consent", consent, methods=["POST"]),
]
