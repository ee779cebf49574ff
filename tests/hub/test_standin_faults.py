"""Injected faults: the client lists everything exactly once and honours RateLimit-Reset."""

from __future__ import annotations

import uuid
from collections import Counter

import httpx
import pytest

from hub_testdata import APP_NAME, CLIENT_SECRET, fast_retry
from zaikio_ops.hub import BadRequest, HubClient, HubTimeout, RetryPolicy
from zaikio_ops.standin import FaultConfig, StandinPerson

CONNECTION_COUNT = 260


def _connect_many(state, count: int) -> set[str]:
    ids = set()
    for index in range(count):
        person_id = str(uuid.UUID(int=index + 1))
        state.add_person(StandinPerson(id=person_id, email=f"p{index}@example.com", first_name="P",
                                       last_name=str(index)))
        state.grant(APP_NAME, "Person", person_id, ["zaikio.person.r"])
        ids.add(f"Person-{person_id}")
    return ids


def test_faulty_listing_complete_once(standin_hub, hub_client):
    expected = _connect_many(standin_hub.state, CONNECTION_COUNT)
    standin_hub.state.set_faults(rate_429=0.3, rate_5xx=0.1, seed=20240601)

    listed = [c.id for c in hub_client.iter_connections(per_page=20)]
    stats = standin_hub.state.fault_stats

    assert Counter(listed) == Counter(expected)
    assert len(listed) == CONNECTION_COUNT
    assert stats.early_requests == 0
    assert stats.injected_429 > 0
    assert stats.injected_5xx > 0


def test_faulty_listing_pages_many(standin_hub, hub_client):
    _connect_many(standin_hub.state, 45)

    pages = list(hub_client.iter_pages("/connections", params={"per_page": 10},
                                       auth=httpx.BasicAuth(standin_hub.client_id, CLIENT_SECRET)))

    assert [p.current_page for p in pages] == [1, 2, 3, 4, 5]
    assert pages[-1].total_pages == 5
    assert pages[-1].total_count == 45


def test_ignoring_reset_is_counted(standin_hub):
    standin_hub.state.set_faults(rate_429=1.0, seed=1)
    url = standin_hub.base_url + "/api/v1/roles"

    first = httpx.get(url)
    second = httpx.get(url)

    assert first.status_code == 429
    assert int(first.headers["RateLimit-Reset"]) > 1_000_000_000
    assert first.headers["RateLimit-Rule"] == "300reqs/60s"
    assert second.status_code == 429
    assert standin_hub.state.fault_stats.early_requests == 1


def test_faults_same_seed_same_sequence(standin_hub):
    def statuses() -> list[int]:
        standin_hub.state.set_faults(rate_5xx=0.5, seed=99)
        return [httpx.get(standin_hub.base_url + "/api/v1/roles").status_code for _ in range(12)]

    first = statuses()

    assert first == statuses()
    assert set(first) - {200}


def test_token_endpoint_excluded_from_faults(standin_hub, hub_client):
    standin_hub.state.set_faults(rate_5xx=1.0, seed=3)
    response = httpx.post(standin_hub.base_url + "/oauth/access_token", data={"grant_type": "refresh_token",
                                                                               "refresh_token": "unknown"},
                          auth=(standin_hub.client_id, CLIENT_SECRET))

    assert response.status_code == 400


def test_timeout_fault_retried(standin_hub):
    standin_hub.state.set_faults(timeout_rate=0.5, timeout_seconds=1.0, seed=1)

    with HubClient(standin_hub.base_url, standin_hub.client_id, standin_hub.client_secret, timeout=0.3,
                   retry=fast_retry()) as client:
        roles = [r.id for _ in range(4) for r in client.list_roles()]

    assert roles.count("owner") == 4
    assert standin_hub.state.fault_stats.injected_timeouts >= 1


def test_timeout_fault_exhausts_attempts(standin_hub):
    standin_hub.state.set_faults(timeout_rate=1.0, timeout_seconds=1.0, seed=5)
    policy = RetryPolicy(max_attempts=2, backoff_base=0.01)

    with HubClient(standin_hub.base_url, standin_hub.client_id, standin_hub.client_secret, timeout=0.2,
                   retry=policy) as client, pytest.raises(HubTimeout):
        client.list_roles()


def test_latency_added(standin_hub):
    standin_hub.state.set_faults(latency_ms=150)

    response = httpx.get(standin_hub.base_url + "/api/v1/roles")

    assert response.elapsed.total_seconds() >= 0.15


@pytest.mark.parametrize("query", ["per_page=0", "per_page=101", "per_page=abc", "page=0"])
def test_invalid_paging_rejected(standin_hub, query):
    response = httpx.get(f"{standin_hub.base_url}/api/v1/connections?{query}",
                         auth=(standin_hub.client_id, CLIENT_SECRET))

    assert response.status_code == 400
    assert isinstance(response.json()["errors"], dict)


def test_invalid_paging_client_error(hub_client):
    with pytest.raises(BadRequest):
        hub_client.list_connections(per_page=500)


def test_fault_rates_validated():
    with pytest.raises(ValueError, match="at most 1.0"):
        FaultConfig(rate_429=0.7, rate_5xx=0.5)


def test_expired_token_rejected(standin_hub, hub_client, browser):
    from hub_testdata import PERSON_OWNER, REDIRECT_URI
    from zaikio_ops.hub import Forbidden, generate_pkce, parse_callback
    from zaikio_ops.standin.browser import authorize_as

    pkce = generate_pkce()
    url = hub_client.authorize_url(REDIRECT_URI, ["zaikio.person.r"], "s", pkce=pkce)
    token = hub_client.exchange_code(parse_callback(authorize_as(browser, url, PERSON_OWNER), "s"),
                                     code_verifier=pkce.verifier)
    real_clock = standin_hub.state.clock
    standin_hub.state.clock = lambda: real_clock() + 3601

    with pytest.raises(Forbidden) as caught:
        hub_client.get_person(token)

    assert caught.value.error_ids == ["jwt_expired"]
