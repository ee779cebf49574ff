"""JSON objects of the stand-in Hub, with the key names, order and value types of the real Hub.

``app_name`` is the app in the access token's ``aud``: ``connected`` and
``granted_oauth_scopes`` describe the subject's connection to that app.
"""

from __future__ import annotations

from typing import Any

from zaikio_ops.standin.state import (
    HubState,
    StandinConnection,
    StandinMembership,
    StandinOrganization,
    StandinPerson,
    iso_timestamp,
)

__all__ = ["person_json", "organization_json", "organization_membership_json", "member_json",
           "connection_json", "accessible_apps_json"]


def _granted(state: HubState, app_name: str | None, bearer_type: str, bearer_id: str) -> list[str]:
    if app_name is None:
        return []
    connection = state.connection(app_name, bearer_type, bearer_id)
    return list(connection.granted_scopes) if connection else []


def _person_fields(state: HubState, person: StandinPerson, app_name: str | None) -> dict[str, Any]:
    granted = _granted(state, app_name, "Person", person.id)
    return {
        "id": person.id,
        "first_name": person.first_name,
        "name": person.last_name,
        "full_name": person.full_name,
        "email": person.email,
        "pronoun": person.pronoun,
        "locale": person.locale,
        "country_code": person.country_code,
        "currency": person.currency,
        "unit_system": person.unit_system,
        "connected": bool(granted),
        "test_account_owner_id": None,
        "granted_oauth_scopes": granted,
        "requested_oauth_scopes": [],
        "requested_oauth_scopes_waiting_for_approval": [],
        "created_at": iso_timestamp(person.created_at),
        "updated_at": iso_timestamp(person.updated_at),
        "time_zone": person.time_zone,
        "email_confirmed": person.email_confirmed,
        "two_factor_authentication_enabled": False,
        "avatar_url": None,
        "subscription": None,
    }


def organization_json(state: HubState, organization: StandinOrganization, app_name: str | None) -> dict[str, Any]:
    """Return an organization as ``GET /organization`` does."""
    granted = _granted(state, app_name, "Organization", organization.id)
    return {
        "id": organization.id,
        "name": organization.name,
        "slug": organization.slug,
        "connected": bool(granted),
        "kinds": list(organization.kinds),
        "sections": {kind: list(values) for kind, values in organization.sections.items()},
        "country_code": organization.country_code,
        "granted_oauth_scopes": granted,
        "requested_oauth_scopes": [],
        "requested_oauth_scopes_waiting_for_approval": [],
        "brand_color": organization.brand_color,
        "currency": organization.currency,
        "test_account_owner_id": None,
        "created_at": iso_timestamp(organization.created_at),
        "updated_at": iso_timestamp(organization.updated_at),
        "logo_url": None,
        "kind": organization.kinds[0] if organization.kinds else "other",
        "subscription": None,
    }


def organization_membership_json(state: HubState, membership: StandinMembership,
                                 app_name: str | None) -> dict[str, Any]:
    """Return a membership from the person's side, with the full organization."""
    return {
        "id": membership.id,
        "roles": list(membership.roles),
        "created_at": iso_timestamp(membership.created_at),
        "updated_at": iso_timestamp(membership.updated_at),
        "organization": organization_json(state, state.organizations[membership.organization_id], app_name),
    }


def accessible_apps_json(state: HubState, person: StandinPerson) -> list[dict[str, Any]]:
    """Return the apps the person connected, as ``accessible_apps`` items."""
    apps = []
    for app in state.apps.values():
        if state.connection(app.name, "Person", person.id) is None:
            continue
        apps.append({
            "name": app.name,
            "translated_title": app.title,
            "category": app.category,
            "entry_point_url": app.entry_point_url,
            "logo_url": None,
            "slug": app.name,
        })
    return apps


def person_json(state: HubState, person: StandinPerson, app_name: str | None) -> dict[str, Any]:
    """Return a person as ``GET /person`` does, with memberships and accessible apps."""
    data = _person_fields(state, person, app_name)
    data["organization_memberships"] = [
        organization_membership_json(state, m, app_name)
        for m in state.memberships_of_person(person.id)
        if m.organization_id in state.organizations
    ]
    data["accessible_apps"] = accessible_apps_json(state, person)
    return data


def member_json(state: HubState, membership: StandinMembership, app_name: str | None) -> dict[str, Any]:
    """Return a membership from the organization's side, with the full person."""
    return {
        "id": membership.id,
        "roles": list(membership.roles),
        "created_at": iso_timestamp(membership.created_at),
        "updated_at": iso_timestamp(membership.updated_at),
        "person": _person_fields(state, state.persons[membership.person_id], app_name),
    }


def connection_json(connection: StandinConnection) -> dict[str, Any]:
    """Return a connection as ``GET /connections`` does."""
    return {
        "connectable_type": connection.connectable_type,
        "connectable_id": connection.connectable_id,
        "created_at": iso_timestamp(connection.created_at),
        "updated_at": iso_timestamp(connection.updated_at),
        "app_name": connection.app_name,
        "granted_oauth_scopes": list(connection.granted_scopes),
    }
