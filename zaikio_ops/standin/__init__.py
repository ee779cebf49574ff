"""A local stand-in for the Zaikio Hub: OAuth redirect flow, token grants, REST API and faults.

Build a state, seed it, and serve it::

    state = seed_from_frames(persons, organizations, memberships)
    state.add_app(StandinApp(name="demo_app", client_id=..., client_secret=..., redirect_uris=[...],
                             desired_scopes=DEFAULT_DESIRED_SCOPES))
    with running_standin(state) as base_url:
        ...  # point HubClient at base_url; log in with browser.authorize_as
"""

from __future__ import annotations

from zaikio_ops.standin.app import create_app
from zaikio_ops.standin.faults import FaultConfig, FaultStats
from zaikio_ops.standin.seed import (
    DEFAULT_DESIRED_SCOPES,
    DEFAULT_ROLE_MAP,
    load_seed_file,
    seed_from_dict,
    seed_from_frames,
    zaikio_organization_uuid,
    zaikio_person_uuid,
)
from zaikio_ops.standin.server import StandinStartError, running_standin
from zaikio_ops.standin.state import (
    HubState,
    StandinApp,
    StandinConnection,
    StandinMembership,
    StandinOrganization,
    StandinPerson,
)

__all__ = [
    "create_app",
    "FaultConfig",
    "FaultStats",
    "DEFAULT_DESIRED_SCOPES",
    "DEFAULT_ROLE_MAP",
    "load_seed_file",
    "seed_from_dict",
    "seed_from_frames",
    "zaikio_organization_uuid",
    "zaikio_person_uuid",
    "StandinStartError",
    "running_standin",
    "HubState",
    "StandinApp",
    "StandinConnection",
    "StandinMembership",
    "StandinOrganization",
    "StandinPerson",
]
