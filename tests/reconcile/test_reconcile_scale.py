"""Shards, concurrency, injected 429/5xx faults and organizations whose fetch keeps failing."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import sqlalchemy as sa

from reconcile_world import count_rows, large_world, membership_table, zaikio_id
from zaikio_ops.errors import ConfigError
from zaikio_ops.reconcile import Shard, apply_plan, make_plan, parse_shard

ORGANIZATIONS = 8
# Shard (1-based, of 3) of organization ids "1".."8": SHA-256 of the id, first 8 bytes
# big-endian, modulo 3, plus 1 (computed once with hashlib outside the code under test).
EXPECTED_SHARDS = {"1": 2, "2": 2, "3": 2, "4": 2, "5": 3, "6": 1, "7": 3, "8": 1}
VOLATILE = ["plan_id", "created_at"]


def planned_organizations(plan) -> set[str]:
    return set(plan.rows["organization_id"])


def test_parse_shard_valid() -> None:
    assert parse_shard("2/4") == Shard(2, 4)
    assert parse_shard("") is None


@pytest.mark.parametrize("text", ["0/4", "5/4", "2", "a/b", "2/0"])
def test_parse_shard_invalid(text: str) -> None:
    with pytest.raises(ConfigError, match="expected k/n with 1 <= k <= n"):
        parse_shard(text)


def test_shards_partition_organizations(make_setup) -> None:
    setup = make_setup(large_world(ORGANIZATIONS, seed=3))

    shards = {index: planned_organizations(make_plan(setup.config, setup.hub, shard=Shard(index, 3),
                                                     source=setup.source))
              for index in (1, 2, 3)}

    for index, organizations in shards.items():
        assert organizations == {org for org, shard in EXPECTED_SHARDS.items() if shard == index}


def test_concurrency_same_plan(make_setup) -> None:
    setup = make_setup(large_world(ORGANIZATIONS, seed=4))

    serial = make_plan(setup.config, setup.hub, concurrency=1, source=setup.source)
    parallel = make_plan(setup.config, setup.hub, concurrency=8, source=setup.source)

    assert serial.rows.drop(columns=VOLATILE).equals(parallel.rows.drop(columns=VOLATILE))


def test_faults_same_changes(make_setup) -> None:
    world = large_world(20, seed=11)
    setup = make_setup(world)
    clean = make_plan(setup.config, setup.hub, policy="full", source=setup.source)
    setup.state.set_faults(rate_429=0.2, rate_5xx=0.2, seed=20240611)

    faulty = make_plan(setup.config, setup.hub, policy="full", source=setup.source)
    first = apply_plan(setup.config, faulty, source=setup.source)
    after_first = membership_table(setup.engine)
    events_after_first = count_rows(setup.engine, "zaikio_ops_events")
    second = apply_plan(setup.config, faulty, source=setup.source)

    stats = setup.state.fault_stats
    assert stats.injected_429 > 0
    assert stats.injected_5xx > 0
    assert stats.early_requests == 0
    assert faulty.rows.drop(columns=VOLATILE).equals(clean.rows.drop(columns=VOLATILE))
    expected_changes = clean.rows.loc[clean.rows["action"] != "none"]
    assert len(first.changes) == len(expected_changes)
    assert sorted(zip(first.changes["person_id"], first.changes["action"])) == \
        sorted(zip(expected_changes["person_id"], expected_changes["action"]))
    assert after_first == expected_final_table(world)
    assert second.changes.empty
    assert membership_table(setup.engine) == after_first
    assert count_rows(setup.engine, "zaikio_ops_events") == events_after_first


def expected_final_table(world) -> list[tuple[int, int, str]]:
    """Derive the full-sync result from the world directly: Zaikio's roles for mapped persons,
    unmapped local members unchanged."""
    local_by_zaikio = {z: person for person, _, z in world.persons if z}
    org_by_zaikio = {z: org for org, _, z, _ in world.organizations}
    unmapped = {person for person, _, z in world.persons if z is None}
    rows = [(p, o, r) for p, o, r in world.memberships if p in unmapped]
    for person_zaikio, org_zaikio, roles in world.zaikio_memberships:
        if person_zaikio in local_by_zaikio:
            rows.append((local_by_zaikio[person_zaikio], org_by_zaikio[org_zaikio], roles[0]))
    return sorted(rows)


class FailingOrganizationTransport(httpx.HTTPTransport):
    """Return 503 for membership requests of chosen Zaikio organizations; other requests go to the stand-in."""

    def __init__(self, failing: set[str]) -> None:
        super().__init__()
        self.failing = failing
        self.failed_requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/organization/memberships") and self._organization(request) in self.failing:
            self.failed_requests += 1
            return httpx.Response(503, text="Service Unavailable", request=request)
        return super().handle_request(request)

    @staticmethod
    def _organization(request: httpx.Request) -> str:
        token = request.headers["Authorization"].split(" ", 1)[1]
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return claims["sub"].split("/", 1)[1]


def test_failed_organization_recorded_and_retried(make_setup) -> None:
    failing = zaikio_id("org-3")
    transport = FailingOrganizationTransport({failing})
    setup = make_setup(large_world(5, seed=8), transport=transport)

    first = make_plan(setup.config, setup.hub, policy="full", source=setup.source)
    failed_rows = first.rows.loc[first.rows["kind"] == "fetch_failed"]
    status_after_first = read_status(setup.engine)
    transport.failing.clear()
    retry = make_plan(setup.config, setup.hub, policy="full", retry_failed=True, source=setup.source)

    assert transport.failed_requests == 10
    assert failed_rows["organization_id"].tolist() == ["3"]
    assert "status 503" in failed_rows["detail"].iloc[0]
    assert planned_organizations(first) == {"1", "2", "3", "4", "5"}
    assert status_after_first == {"1": ("ok", 0), "2": ("ok", 0), "3": ("failed", 1), "4": ("ok", 0),
                                  "5": ("ok", 0)}
    assert count_rows(setup.engine, "zaikio_ops_events", "kind = 'reconcile.fetch_failed'") == 1
    assert planned_organizations(retry) == {"3"}
    assert "fetch_failed" not in set(retry.rows["kind"])
    assert read_status(setup.engine)["3"] == ("ok", 0)


def test_failed_organization_not_applied(make_setup) -> None:
    transport = FailingOrganizationTransport({zaikio_id("org-2")})
    setup = make_setup(large_world(3, seed=8), transport=transport)
    before = membership_table(setup.engine)
    plan = make_plan(setup.config, setup.hub, policy="full", source=setup.source)

    result = apply_plan(setup.config, plan, source=setup.source)

    assert "2" not in set(result.changes["organization_id"])
    assert [row for row in membership_table(setup.engine) if row[1] == 2] == [row for row in before if row[1] == 2]


def read_status(engine) -> dict[str, tuple[str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT organization_id, status, failures FROM zaikio_ops_reconcile_status")).all()
    return {str(org): (status, int(failures)) for org, status, failures in rows}
