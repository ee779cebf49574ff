"""Seeding the stand-in from the app's own database, for demos and dry runs.

Every local person and organization gets a Zaikio account (mapped rows keep
their UUID). The app is registered with the configuration's client ID and
redirect URI, and the rows that are already mapped get a connection with the
scopes a finished claim grants, so client-credentials calls for mapped
organizations work as they would after a real migration.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from zaikio_ops.config import Config
from zaikio_ops.secret import Secret
from zaikio_ops.source import Source
from zaikio_ops.standin.seed import DEFAULT_DESIRED_SCOPES, seed_from_frames
from zaikio_ops.standin.state import HubState, StandinApp

logger = logging.getLogger(__name__)

DEFAULT_APP_NAME = "zaikio_ops_demo"
PERSON_CONNECTION_SCOPES = ["zaikio.person.r"]
ORGANIZATION_CONNECTION_SCOPES = ["zaikio.organization.r", "zaikio.organization_members.r"]


def seed_from_app(state: HubState, source: Source, config: Config, client_secret: Secret) -> StandinApp:
    """Seed ``state`` from the app database and register the app's credentials.

    Returns
    -------
    StandinApp
        The registered app (name, client ID, redirect URIs).
    """
    persons = source.read("persons")
    organizations = source.read("organizations")
    seed_from_frames(persons, organizations, source.read("memberships"),
                     role_map=role_map(config), state=state)

    app = StandinApp(name=config.hub.app_name or DEFAULT_APP_NAME,
                     client_id=config.hub.client_id or DEFAULT_APP_NAME, client_secret=client_secret,
                     redirect_uris=[config.hub.redirect_uri] if config.hub.redirect_uri else [],
                     desired_scopes=list(DEFAULT_DESIRED_SCOPES))
    state.add_app(app)

    for uuid in persons["zaikio_person_id"].dropna().unique():
        if uuid in state.persons:
            state.grant(app.name, "Person", uuid, PERSON_CONNECTION_SCOPES)
    for uuid in organizations["zaikio_organization_id"].dropna().unique():
        if uuid in state.organizations:
            state.grant(app.name, "Organization", uuid, ORGANIZATION_CONNECTION_SCOPES)

    logger.info("Stand-in seeded from the app: %d persons, %d organizations, %d connections",
                len(state.persons), len(state.organizations), len(state.connections))
    return app


def role_map(config: Config) -> Mapping[str, str]:
    """Map the app's owner roles (``[audit] owner_roles``) to the Hub's ``owner``, ``admin`` to ``admin``."""
    owners = {role.lower(): "owner" for role in config.owner_roles}
    return {"admin": "admin", **owners}
