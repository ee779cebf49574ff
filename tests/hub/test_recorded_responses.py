"""The client parses real Hub responses recorded in 2021, replayed through httpx.MockTransport.

Expected values come from ``json.loads`` of the recorded body, not from the client.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from zaikio_ops.hub import HubClient
from zaikio_ops.secret import Secret

BASE = "https://hub.zaikio.test"


def _find(interactions: list[dict[str, Any]], method: str, path: str) -> list[dict[str, Any]]:
    found = [i for i in interactions if i["request"]["method"] == method
             and httpx.URL(i["request"]["uri"]).path == path and i["response"]["status"]["code"] == 200]
    assert found, f"no recorded {method.upper()} {path} with status 200"
    return found


def _replay(interaction: dict[str, Any]) -> HubClient:
    response = interaction["response"]
    headers = {name: ", ".join(values) for name, values in response["headers"].items()
               if name.lower() not in ("transfer-encoding", "content-length", "content-encoding")}
    body = response["body"]["string"]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(response["status"]["code"], headers=headers, content=body.encode("utf-8"))

    return HubClient(BASE, "recorded-client", Secret("recorded-secret"), transport=httpx.MockTransport(handler))


def _body(interaction: dict[str, Any]) -> Any:
    return json.loads(interaction["response"]["body"]["string"])


def test_recorded_person_fields(recorded_interactions):
    interaction = _find(recorded_interactions, "get", "/api/v1/person")[0]
    expected = _body(interaction)

    person = _replay(interaction).get_person("recorded-token")

    assert person.id == expected["id"]
    assert person.first_name == expected["first_name"]
    assert person.name == expected["name"]
    assert person.email == expected["email"]
    assert person.email_confirmed is expected["email_confirmed"]
    assert person.granted_oauth_scopes == expected["granted_oauth_scopes"]
    assert person.raw == expected


def test_recorded_person_memberships(recorded_interactions):
    interaction = _find(recorded_interactions, "get", "/api/v1/person")[0]
    expected = _body(interaction)["organization_memberships"]

    memberships = _replay(interaction).get_person("recorded-token").organization_memberships

    assert [m.id for m in memberships] == [m["id"] for m in expected]
    assert [m.roles for m in memberships] == [m["roles"] for m in expected]
    assert [m.organization.id for m in memberships] == [m["organization"]["id"] for m in expected]
    assert [m.organization.name for m in memberships] == [m["organization"]["name"] for m in expected]


@pytest.mark.parametrize("index", [0, 1])
def test_recorded_organization(recorded_interactions, index):
    interactions = _find(recorded_interactions, "get", "/api/v1/organization")
    interaction = interactions[index % len(interactions)]
    expected = _body(interaction)

    organization = _replay(interaction).get_organization("recorded-token")

    assert organization.id == expected["id"]
    assert organization.name == expected["name"]
    assert organization.slug == expected["slug"]
    assert organization.kinds == expected["kinds"]
    assert organization.connected is expected["connected"]
    assert organization.granted_oauth_scopes == expected.get("granted_oauth_scopes", [])


def test_recorded_organization_memberships(recorded_interactions):
    interaction = _find(recorded_interactions, "get", "/api/v1/organization/memberships")[0]
    expected = _body(interaction)

    members = _replay(interaction).list_memberships("recorded-token")

    assert [m.id for m in members] == [m["id"] for m in expected]
    assert [m.roles for m in members] == [m["roles"] for m in expected]
    assert [m.person.id for m in members] == [m["person"]["id"] for m in expected]
    assert [m.person.email for m in members] == [m["person"]["email"] for m in expected]
    assert [m.person.full_name for m in members] == [m["person"]["full_name"] for m in expected]


def test_recorded_connections(recorded_interactions):
    interaction = _find(recorded_interactions, "get", "/api/v1/connections")[0]
    expected = _body(interaction)
    client = _replay(interaction)

    connections = client.list_connections()

    assert [(c.connectable_type, c.connectable_id) for c in connections] == [
        (c["connectable_type"], c["connectable_id"]) for c in expected]
    assert [c.granted_oauth_scopes for c in connections] == [c["granted_oauth_scopes"] for c in expected]
    assert [c.app_name for c in connections] == [c["app_name"] for c in expected]


def test_recorded_connections_pagination_headers(recorded_interactions):
    interaction = _find(recorded_interactions, "get", "/api/v1/connections")[0]
    headers = interaction["response"]["headers"]
    client = _replay(interaction)

    client.list_connections()

    assert client.last_page.current_page == int(headers["Current-Page"][0])
    assert client.last_page.total_pages == int(headers["Total-Pages"][0])
    assert client.last_page.total_count == int(headers["Total-Count"][0])
    assert client.last_page.next_url is None
