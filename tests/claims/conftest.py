"""Fixtures of the claim tests: the test app on every backend, a seeded stand-in and the claim service.

``claim_setup`` builds the whole installation for one test. It binds the claim
service's socket first, so the configuration's ``[hub] redirect_uri`` is the
service's real callback URL. It then starts the stand-in with an empty state and
applies the schema step. It seeds the stand-in from the app's data read through
the mapping, registers the app's credentials, and serves the claim service with
uvicorn in a thread. ``link_style`` defaults to ``app``; a test parametrizes it
to run both styles.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from claims_testkit import (
    APP_NAME,
    CLIENT_SECRET,
    ROLE_MAP,
    ClaimSetup,
    app_config,
    create_app_tables,
    premap_person,
)
from zaikio_ops import schema
from zaikio_ops.web.server import bind_loopback, running_claim_service, socket_url
from zaikio_ops.source import Source
from zaikio_ops.standin import DEFAULT_DESIRED_SCOPES, HubState, StandinApp, running_standin, seed_from_frames
from zaikio_ops.web.app import create_claim_app


@pytest.fixture
def link_style() -> str:
    """Return the link style of the installation; tests override it with parametrize."""
    return "app"


@pytest.fixture
def claim_setup(database_url: str, link_style: str) -> Iterator[ClaimSetup]:
    """Yield a running installation on a fresh database of the current backend."""
    engine = sa.create_engine(database_url)
    create_app_tables(engine)
    sock = bind_loopback()
    service_url = socket_url(sock)
    state = HubState()

    with running_standin(state) as hub_url:
        config = app_config(database_url, link_style=link_style, service_url=service_url, hub_url=hub_url)
        schema.apply(engine, config)
        premap_person(engine)

        source = Source(config)
        seed_from_frames(source.read("persons"), source.read("organizations"), source.read("memberships"),
                         role_map=ROLE_MAP, state=state)
        state.add_app(StandinApp(name=APP_NAME, client_id=config.hub.client_id, client_secret=CLIENT_SECRET,
                                 redirect_uris=[config.hub.redirect_uri],
                                 desired_scopes=list(DEFAULT_DESIRED_SCOPES)))
        app = create_claim_app(config, source=source)
        try:
            with running_claim_service(app, sock):
                yield ClaimSetup(config=config, engine=engine, hub_state=state, hub_url=hub_url,
                                 service_url=service_url, link_style=link_style)
        finally:
            source.engine.dispose()
            engine.dispose()


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """Return an httpx client with its own cookie jar, playing the user's browser."""
    with httpx.Client(timeout=10.0) as client:
        yield client
