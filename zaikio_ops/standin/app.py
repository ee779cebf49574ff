"""Assemble the stand-in Hub as a Starlette application."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from zaikio_ops.standin import api_routes, oauth_routes, token_routes
from zaikio_ops.standin.faults import FaultMiddleware
from zaikio_ops.standin.state import HubState

__all__ = ["create_app"]


class JsonSuffixMiddleware:
    """Serve ``/path.json`` as ``/path``, as the Hub accepts both spellings."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith(".json"):
            scope = dict(scope)
            scope["path"] = scope["path"][: -len(".json")]
            scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, send)


def create_app(state: HubState) -> Starlette:
    """Return the ASGI app serving ``/oauth/*`` and ``/api/v1/*`` from ``state``."""
    app = Starlette(
        routes=[*oauth_routes.routes, *token_routes.routes, *api_routes.routes],
        middleware=[
            Middleware(JsonSuffixMiddleware),
            Middleware(FaultMiddleware, injector=state.faults),
        ],
        exception_handlers={api_routes.ApiError: api_routes.api_error_response},
    )
    app.state.hub = state
    return app
