"""Fill a :class:`~zaikio_ops.standin.state.HubState` from a dict, a JSON file or DataFrames.

JSON/dict seed format (every list optional)::

    {
      "persons": [{"id": "<uuid>", "email": "...", "first_name": "...", "name": "<last name>",
                   "locale": "de"}],
      "organizations": [{"id": "<uuid>", "name": "...", "kinds": ["printer"]}],
      "memberships": [{"person_id": "<uuid>", "organization_id": "<uuid>", "roles": ["owner"]}],
      "apps": [{"name": "demo_app", "client_id": "...", "client_secret": "...", "confidential": true,
                "redirect_uris": ["http://127.0.0.1:8000/callback"],
                "desired_scopes": ["zaikio.person.r", "zaikio.organization.r"]}],
      "connections": [{"app_name": "demo_app", "connectable_type": "Person",
                       "connectable_id": "<uuid>", "granted_oauth_scopes": ["zaikio.person.r"]}]
    }

:func:`seed_from_frames` builds accounts from the kit's canonical DataFrames so
that every person of the demo database has a Zaikio account to claim.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from zaikio_ops.errors import ConfigError
from zaikio_ops.standin.scopes import normalize_scope
from zaikio_ops.standin.state import (
    HubState,
    StandinApp,
    StandinOrganization,
    StandinPerson,
)

__all__ = [
    "STANDIN_NAMESPACE",
    "DEFAULT_ROLE_MAP",
    "DEFAULT_DESIRED_SCOPES",
    "zaikio_person_uuid",
    "zaikio_organization_uuid",
    "seed_from_dict",
    "load_seed_file",
    "seed_from_frames",
]

logger = logging.getLogger(__name__)

# Namespace of the uuid5 ids given to local persons and organizations without a Zaikio id.
STANDIN_NAMESPACE = uuid.UUID("6f1d1c1e-5a0b-5a8e-9a52-7a1d2c0ffee0")

DEFAULT_ROLE_MAP: dict[str, str] = {"owner": "owner", "admin": "admin"}
DEFAULT_DESIRED_SCOPES = ["zaikio.person.r", "zaikio.organization.r", "zaikio.organization_members.r"]


def zaikio_person_uuid(local_person_id: object) -> str:
    """Return the deterministic Zaikio id (uuid5) of a local person without one."""
    return str(uuid.uuid5(STANDIN_NAMESPACE, f"person:{local_person_id}"))


def zaikio_organization_uuid(local_organization_id: object) -> str:
    """Return the deterministic Zaikio id (uuid5) of a local organization without one."""
    return str(uuid.uuid5(STANDIN_NAMESPACE, f"organization:{local_organization_id}"))


def _membership_uuid(person_id: str, organization_id: str) -> str:
    return str(uuid.uuid5(STANDIN_NAMESPACE, f"membership:{person_id}:{organization_id}"))


def _hub_locale(locale: object) -> str:
    """Map a local locale (``de_DE``, ``en-US``, ``fr``) onto the Hub's ``en``, ``en-US`` or ``de``."""
    text = str(locale or "").replace("_", "-").lower()
    if text.startswith("de"):
        return "de"
    if text == "en-us":
        return "en-US"
    return "en"


def _value(row: Mapping[str, Any], key: str) -> Any:
    value = row.get(key)
    if value is None:
        return None
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):
        return value


def seed_from_dict(data: Mapping[str, Any], state: HubState | None = None) -> HubState:
    """Add the persons, organizations, memberships, apps and connections in ``data`` to a state.

    Parameters
    ----------
    data : mapping
        The seed (format in the module docstring).
    state : HubState, optional
        State to extend; a new one is created when omitted.

    Raises
    ------
    ConfigError
        A required key is missing from an entry.
    """
    state = state or HubState()

    try:
        for item in data.get("persons", []):
            state.add_person(StandinPerson(
                id=item["id"], email=item["email"], first_name=item.get("first_name"),
                last_name=item.get("name") or item.get("last_name") or "", locale=_hub_locale(item.get("locale")),
                country_code=item.get("country_code", "DE"), currency=item.get("currency", "EUR"),
            ))

        for item in data.get("organizations", []):
            state.add_organization(StandinOrganization(
                id=item["id"], name=item["name"], slug=item.get("slug", ""),
                kinds=item.get("kinds") or ["other"], sections=item.get("sections") or {},
                country_code=item.get("country_code", "DE"), currency=item.get("currency", "EUR"),
                brand_color=item.get("brand_color"),
            ))

        for item in data.get("memberships", []):
            state.add_membership(item["person_id"], item["organization_id"], list(item.get("roles") or ["member"]),
                                 membership_id=item.get("id"))

        for item in data.get("apps", []):
            state.add_app(StandinApp(
                name=item["name"], client_id=item["client_id"], client_secret=item.get("client_secret", ""),
                redirect_uris=list(item["redirect_uris"]),
                desired_scopes=[normalize_scope(s) for s in item.get("desired_scopes", DEFAULT_DESIRED_SCOPES)],
                confidential=bool(item.get("confidential", True)), entry_point_url=item.get("entry_point_url"),
            ))

        for item in data.get("connections", []):
            state.grant(item["app_name"], item["connectable_type"], item["connectable_id"],
                        [normalize_scope(s) for s in item.get("granted_oauth_scopes", [])])
    except KeyError as exc:
        raise ConfigError(f"A stand-in seed entry lacks the required key {exc.args[0]!r}; add it and retry.") from exc

    return state


def load_seed_file(path: str | Path, state: HubState | None = None) -> HubState:
    """Read a JSON seed file and apply it with :func:`seed_from_dict`."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"Stand-in seed file {path} does not exist; check the --seed path.") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"Stand-in seed file {path} is not valid JSON: {exc}.") from exc

    return seed_from_dict(data, state)


def seed_from_frames(
    persons: pd.DataFrame,
    organizations: pd.DataFrame,
    memberships: pd.DataFrame,
    *,
    role_map: Mapping[str, str] | None = None,
    state: HubState | None = None,
) -> HubState:
    """Create Zaikio accounts for the persons, organizations and memberships of a local app.

    Parameters
    ----------
    persons : DataFrame
        Columns ``person_id``, ``email``, ``first_name``, ``last_name``, ``locale``,
        ``zaikio_person_id`` (null for persons not yet claimed).
    organizations : DataFrame
        Columns ``organization_id``, ``name``, ``zaikio_organization_id``.
    memberships : DataFrame
        Columns ``person_id``, ``organization_id``, ``role`` (local ids and role names).
    role_map : mapping, optional
        Local role name to Hub role id; unmapped roles become ``member``.
        Default maps ``owner`` and ``admin`` to themselves.
    state : HubState, optional
        State to extend.

    Returns
    -------
    HubState
        The state; persons without ``zaikio_person_id`` got
        :func:`zaikio_person_uuid` of their local id, likewise organizations.
    """
    state = state or HubState()
    role_map = DEFAULT_ROLE_MAP if role_map is None else role_map
    person_ids = _seed_persons(state, persons)
    organization_ids = _seed_organizations(state, organizations)
    skipped = 0

    for row in memberships.to_dict("records"):
        person_id = person_ids.get(_value(row, "person_id"))
        organization_id = organization_ids.get(_value(row, "organization_id"))
        if person_id is None or organization_id is None:
            skipped += 1
            continue

        local_role = str(_value(row, "role") or "").strip().lower()
        role = role_map.get(local_role, "member")
        state.add_membership(person_id, organization_id, [role],
                             membership_id=_membership_uuid(person_id, organization_id))

    if skipped:
        logger.warning("Skipped %d membership(s) whose person or organization got no stand-in account "
                       "(no e-mail address, or an ID missing from the persons or organizations)", skipped)
    return state


def _seed_persons(state: HubState, persons: pd.DataFrame) -> dict[Any, str]:
    ids: dict[Any, str] = {}
    without_email: list[Any] = []

    for row in persons.to_dict("records"):
        local_id = _value(row, "person_id")
        hub_id = _value(row, "zaikio_person_id") or zaikio_person_uuid(local_id)
        email = _value(row, "email")
        if not email:
            without_email.append(local_id)
            continue

        state.add_person(StandinPerson(
            id=str(hub_id), email=str(email), first_name=_value(row, "first_name"),
            last_name=str(_value(row, "last_name") or ""), locale=_hub_locale(_value(row, "locale")),
        ))
        ids[local_id] = str(hub_id)

    if without_email:
        logger.warning("%d person(s) have no e-mail, so the stand-in created no account for them "
                       "(first: %s)", len(without_email), ", ".join(map(str, without_email[:5])))
    return ids


def _seed_organizations(state: HubState, organizations: pd.DataFrame) -> dict[Any, str]:
    ids: dict[Any, str] = {}

    for row in organizations.to_dict("records"):
        local_id = _value(row, "organization_id")
        hub_id = _value(row, "zaikio_organization_id") or zaikio_organization_uuid(local_id)
        name = str(_value(row, "name") or f"Organization {local_id}")
        state.add_organization(StandinOrganization(id=str(hub_id), name=name))
        ids[local_id] = str(hub_id)

    return ids
