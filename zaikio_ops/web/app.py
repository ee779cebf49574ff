"""The claim service (Starlette): ``/claims/{token}`` and ``/claims/callback``.

App-style links open ``GET /claims/{token}``, which checks the token without
using it and shows a button. The button's POST starts the OAuth flow with a
fresh ``state``, stored hashed with a PKCE verifier and bound to the browser by
an HttpOnly cookie, so the claim token never reaches Zaikio and a mail scanner
that only GETs the link uses nothing up. Hub-style links go straight to Zaikio
with the token as ``state``; both come back to ``GET /claims/callback``.
"""

from __future__ import annotations

import contextlib
import logging
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from zaikio_ops.claims import errors
from zaikio_ops.claims.redeem import begin_app_flow, inspect_token, record_link_rejection, redeem
from zaikio_ops.config import Config
from zaikio_ops.hub.client import HubClient
from zaikio_ops.schema import require_kit_tables
from zaikio_ops.source import Source
from zaikio_ops.web import pages

logger = logging.getLogger(__name__)

STATE_COOKIE = "zaikio_ops_claim_state"
STATE_COOKIE_MAX_AGE = 30 * 60
# HTTP status of a rejection page by ClaimError.reason; any other reason gets 400.
ERROR_STATUS = {"not_found": 404, "already_used": 409, "already_mapped": 409, "hub_unavailable": 502}


def create_claim_app(config: Config, *, source: Source | None = None, hub: HubClient | None = None) -> Starlette:
    """Build the claim service for ``config``.

    Parameters
    ----------
    config : Config
        Needs ``[hub] url``, ``client_id``, ``redirect_uri`` and ``ZAIKIO_CLIENT_SECRET``.
    source : Source, optional
        The app's database; created from the configuration when omitted.
    hub : HubClient, optional
        A Hub client to use instead of one built from the configuration.
    """
    services: dict[str, object] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        services["source"] = source or Source(config)
        require_kit_tables(services["source"].engine)
        services["hub"] = hub or HubClient(config.hub.url, config.hub.client_id or "",
                                           config.hub.client_secret)
        if config.hub.client_secret is None:
            logger.warning("ZAIKIO_CLIENT_SECRET is not set; Zaikio will reject code exchanges of a "
                           "confidential app. Set it before sending claim links.")
        logger.info("Claim service started for Hub %s", config.hub.url)
        yield
        if hub is None:
            services["hub"].close()
        logger.info("Claim service stopped")

    async def landing(request: Request) -> Response:
        language = _language(request)
        token = request.path_params["token"]
        try:
            record = await run_in_threadpool(inspect_token, services["source"].engine, token)
        except errors.ClaimError as exc:
            await run_in_threadpool(record_link_rejection, services["source"].engine, token, exc,
                                    step="landing")
            return _error(exc, language)
        return _page(pages.landing_page(record.kind, request.url.path, language))

    async def start(request: Request) -> Response:
        language = _language(request)
        token = request.path_params["token"]
        try:
            url, state = await run_in_threadpool(begin_app_flow, config, services["source"],
                                                 services["hub"], token)
        except errors.ClaimError as exc:
            return _error(exc, language)
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(STATE_COOKIE, state.reveal(), max_age=STATE_COOKIE_MAX_AGE, path="/claims",
                            httponly=True, samesite="lax", secure=request.url.scheme == "https")
        return _secure(response)

    async def callback(request: Request) -> Response:
        language = _language(request)
        params = request.query_params
        try:
            outcome = await run_in_threadpool(
                redeem, config, services["source"], services["hub"], state=params.get("state"),
                code=params.get("code"), error=params.get("error"),
                cookie_state=request.cookies.get(STATE_COOKIE))
        except errors.ClaimError as exc:
            return _error(exc, language)
        offers = [(name, link.reveal()) for _, name, link in outcome.offers]
        response = _page(pages.success_page(outcome.kind, offers, language))
        response.delete_cookie(STATE_COOKIE, path="/claims")
        return response

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    def _page(html: str, status_code: int = 200) -> Response:
        return _secure(HTMLResponse(html, status_code=status_code))

    def _error(exc: errors.ClaimError, language: str) -> Response:
        status = ERROR_STATUS.get(exc.reason, 400)
        return _page(pages.error_page(exc.reason, language), status_code=status)

    def _secure(response: Response) -> Response:
        hub_origin = "{0.scheme}://{0.netloc}".format(urlsplit(config.hub.url))
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src 'unsafe-inline'; form-action 'self' {hub_origin}; "
            f"frame-ancestors 'none'; base-uri 'none'")
        return response

    routes = [
        Route("/claims/callback", callback, methods=["GET"]),
        Route("/claims/{token}", landing, methods=["GET"]),
        Route("/claims/{token}", start, methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def _language(request: Request) -> str:
    return pages.pick_language(request.query_params.get("lang"), request.headers.get("accept-language"))
