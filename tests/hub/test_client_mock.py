"""HubClient behaviour against httpx.MockTransport: parsing, errors, retries, pagination, secrecy."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timezone
from urllib.parse import parse_qs

import httpx
import pytest

from zaikio_ops.errors import HubError as BaseHubError
from zaikio_ops.hub import (
    AccessToken,
    BearerDoesNotExist,
    Forbidden,
    HubClient,
    HubProtocolError,
    HubTimeout,
    InvalidGrant,
    NotFound,
    RateLimited,
    RetryPolicy,
    ServerError,
    Unauthorized,
    ValidationFailed,
    build_authorize_url,
    generate_pkce,
    PersonPrefill,
)
from zaikio_ops.secret import Secret

BASE = "https://hub.example.test"
SECRET = "very-secret-client-secret"
ACCESS = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJQZXJzb24veCJ9.c2ln"
REFRESH = "refresh-token-value-xyz"
TOKEN_BODY = {
    "access_token": ACCESS,
    "refresh_token": REFRESH,
    "token_type": "bearer",
    "scope": "zaikio.person.r,warehouse.items.r",
    "audiences": ["warehouse"],
    "expires_in": 600,
    "bearer": {"id": "0f1e2d3c-0000-4000-8000-000000000001", "type": "Person"},
}


class FakeClock:
    """Clock and sleep that advance together, for retry tests without waiting."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(handler, clock: FakeClock | None = None, max_attempts: int = 4) -> HubClient:
    clock = clock or FakeClock()
    policy = RetryPolicy(max_attempts=max_attempts, backoff_base=1.0, clock=clock.time, sleep=clock.sleep,
                         rng=random.Random(1))
    return HubClient(BASE, "client-id-1", Secret(SECRET), transport=httpx.MockTransport(handler), retry=policy)


def test_token_parse_fields():
    token = AccessToken.from_dict(TOKEN_BODY, now=datetime(2024, 1, 1, tzinfo=timezone.utc))

    assert token.scopes == ["zaikio.person.r", "warehouse.items.r"]
    assert token.audiences == ["warehouse"]
    assert token.expires_in == 600
    assert token.expires_at == datetime(2024, 1, 1, 0, 10, tzinfo=timezone.utc)
    assert token.bearer_id == "0f1e2d3c-0000-4000-8000-000000000001"
    assert token.access_token.reveal() == ACCESS


def test_token_parse_iso_expiry():
    body = {**TOKEN_BODY, "expires_in": "2024-01-01T01:00:00Z"}
    token = AccessToken.from_dict(body, now=datetime(2024, 1, 1, tzinfo=timezone.utc))

    assert token.expires_in == 3600


def test_token_repr_masks_secrets():
    token = AccessToken.from_dict(TOKEN_BODY)

    assert ACCESS not in repr(token)
    assert REFRESH not in repr(token)
    assert ACCESS not in str(token.raw)


def test_code_exchange_form_body():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["form"] = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        seen["auth"] = request.headers.get("authorization")
        return httpx.Response(200, json=TOKEN_BODY)

    make_client(handler).exchange_code("the-code", code_verifier=Secret("verifier-1"))

    assert seen["form"] == {"grant_type": "authorization_code", "code": "the-code", "client_id": "client-id-1",
                            "client_secret": SECRET, "code_verifier": "verifier-1"}
    assert seen["auth"] is None


def test_client_credentials_basic_auth_scope():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["form"] = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        seen["auth"] = request.headers.get("authorization")
        return httpx.Response(200, json={**TOKEN_BODY, "bearer": {"id": "org-1", "type": "Organization"}})

    make_client(handler).client_credentials("org-1", ["zaikio.organization_members.r", "zaikio.organization.r"])

    assert seen["form"]["scope"] == "Org/org-1.zaikio.organization_members.r,Org/org-1.zaikio.organization.r"
    assert seen["auth"] == httpx.BasicAuth("client-id-1", SECRET)._auth_header
    assert "client_secret" not in seen["form"]


def test_token_post_never_retried():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, text="down")

    with pytest.raises(ServerError):
        make_client(handler).exchange_code("c")

    assert len(calls) == 1


def test_invalid_grant_maps_and_hides_secret():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "invalid_grant", "error_description": "could not be found."})

    with pytest.raises(InvalidGrant) as caught:
        make_client(handler).refresh(Secret(REFRESH))

    assert "POST /oauth/access_token" in str(caught.value)
    assert REFRESH not in str(caught.value)
    assert SECRET not in str(caught.value)
    assert isinstance(caught.value, BaseHubError)


def test_bearer_does_not_exist_maps():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(402, json={"errors": {"scopes": ["bearer_does_not_exist"]}})

    with pytest.raises(BearerDoesNotExist) as caught:
        make_client(handler).client_credentials("org-1")

    assert caught.value.status == 402


@pytest.mark.parametrize("status,body,cls", [
    (401, {"errors": ["no_jwt_passed"]}, Unauthorized),
    (403, {"errors": ["unpermitted_scope"]}, Forbidden),
    (404, {"errors": ["record_not_found"]}, NotFound),
    (422, {"errors": {"name": ["can't be blank"]}}, ValidationFailed),
])
def test_status_maps_to_error(status, body, cls):
    client = make_client(lambda request: httpx.Response(status, json=body))

    with pytest.raises(cls) as caught:
        client.get_person(Secret(ACCESS))

    assert caught.value.status == status
    assert "GET /api/v1/person" in str(caught.value)
    assert ACCESS not in str(caught.value)


def test_error_message_names_zaikio_id():
    client = make_client(lambda request: httpx.Response(403, json={"errors": ["unpermitted_scope"]}))

    with pytest.raises(Forbidden, match="unpermitted_scope"):
        client.get_person("token")


def test_rate_limit_waits_until_reset():
    clock = FakeClock()
    reset = int(clock.now) + 7
    responses = iter([httpx.Response(429, text="Retry later", headers={"RateLimit-Reset": str(reset)}),
                      httpx.Response(200, json=[{"id": "owner", "name": "Owner"}])])
    client = make_client(lambda request: next(responses), clock)

    roles = client.list_roles()

    assert [r.id for r in roles] == ["owner"]
    assert clock.sleeps == [pytest.approx(7 + client.retry.reset_margin)]
    assert clock.now >= reset


def test_rate_limit_retry_after_seconds():
    clock = FakeClock()
    responses = iter([httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json=[])])
    client = make_client(lambda request: next(responses), clock)

    client.list_roles()

    assert clock.sleeps == [pytest.approx(3 + client.retry.reset_margin)]


def test_rate_limit_exhausted_raises():
    clock = FakeClock()
    client = make_client(lambda r: httpx.Response(429, headers={"RateLimit-Reset": str(int(clock.now) + 1)}),
                         clock, max_attempts=3)

    with pytest.raises(RateLimited) as caught:
        client.list_roles()

    assert len(clock.sleeps) == 2
    assert caught.value.reset_at is not None


def test_server_error_backoff_grows():
    clock = FakeClock()
    responses = iter([httpx.Response(500), httpx.Response(502), httpx.Response(503), httpx.Response(200, json=[])])
    client = make_client(lambda request: next(responses), clock)

    client.list_roles()

    assert len(clock.sleeps) == 3
    for attempt, slept in enumerate(clock.sleeps, start=1):
        ceiling = min(client.retry.backoff_max, client.retry.backoff_base * 2 ** (attempt - 1))
        assert ceiling / 2 <= slept <= ceiling


def test_timeout_retried_then_raises():
    clock = FakeClock()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(HubTimeout) as caught:
        make_client(handler, clock, max_attempts=3).get_person("t")

    assert len(calls) == 3
    assert "GET /api/v1/person" in str(caught.value)


def test_timeout_then_success():
    outcomes = iter(["timeout", "ok"])

    def handler(request: httpx.Request) -> httpx.Response:
        if next(outcomes) == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"id": "p-1"})

    assert make_client(handler).get_person("t").id == "p-1"


def test_pagination_follows_next_links():
    pages = {
        "1": ([{"connectable_type": "Person", "connectable_id": "a"}], '<{b}?page=2>; rel="next"'),
        "2": ([{"connectable_type": "Person", "connectable_id": "b"}], '<{b}?page=3>; rel="next"'),
        "3": ([{"connectable_type": "Organization", "connectable_id": "c"}], '<{b}?page=1>; rel="first"'),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        page = request.url.params.get("page", "1")
        items, link = pages[page]
        headers = {"Link": link.format(b=BASE + "/api/v1/connections"), "Current-Page": page, "Total-Pages": "3"}
        return httpx.Response(200, json=items, headers=headers)

    client = make_client(handler)
    ids = [c.id for c in client.list_connections(per_page=1)]

    assert ids == ["Person-a", "Person-b", "Organization-c"]
    assert client.last_page.current_page == 3
    assert client.last_page.total_pages == 3


def test_pagination_refuses_foreign_next():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[], headers={"Link": '<https://evil.test/steal?page=2>; rel="next"'})

    with pytest.raises(HubProtocolError, match="evil.test"):
        make_client(handler).list_connections()


def test_retry_logs_without_secrets(caplog):
    person_responses = iter([httpx.Response(503), httpx.Response(200, json={"id": "p"})])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/access_token":
            return httpx.Response(200, json=TOKEN_BODY)
        return next(person_responses)

    client = make_client(handler)
    with caplog.at_level(logging.DEBUG, logger="zaikio_ops"):
        client.get_person(Secret(ACCESS))
        client.exchange_code("code-1")

    messages = [record.getMessage() for record in caplog.records]
    assert any("retrying" in message for message in messages)
    assert all(ACCESS not in message for message in messages)
    assert all(SECRET not in message for message in messages)
    assert all(REFRESH not in message for message in messages)


def test_client_repr_masks_secret():
    client = make_client(lambda request: httpx.Response(200))

    assert SECRET not in repr(client)


def test_non_json_body_protocol_error():
    client = make_client(lambda request: httpx.Response(200, text="<html>", headers={"Content-Type": "text/html"}))

    with pytest.raises(HubProtocolError, match="not JSON"):
        client.get_person("t")


def test_authorize_url_parameters():
    pkce = generate_pkce()
    url = build_authorize_url(BASE, "cid", "https://app.test/cb", ["zaikio.person.r", "Org.zaikio.organization.r"],
                              Secret("claim-token"), pkce=pkce, lang="de",
                              prefill=PersonPrefill("Anna", "Alt", "anna@example.com"))
    query = {k: v[0] for k, v in parse_qs(httpx.URL(url).query.decode()).items()}

    assert url.startswith(BASE + "/oauth/authorize?")
    assert query == {
        "client_id": "cid", "redirect_uri": "https://app.test/cb", "response_type": "code",
        "scope": "zaikio.person.r,Org.zaikio.organization.r", "state": "claim-token",
        "code_challenge": pkce.challenge, "code_challenge_method": "S256", "person[first_name]": "Anna",
        "person[name]": "Alt", "person[email]": "anna@example.com", "lang": "de",
    }
    assert "person%5Bemail%5D=" in url
