"""One test per kind of difference, each with its expected plan rows written out."""

from __future__ import annotations

from reconcile_world import World, zaikio_id
from zaikio_ops.reconcile import make_plan

ORG = zaikio_id("org-acme")
ANN = zaikio_id("ann")
BOB = zaikio_id("bob")
FAY = zaikio_id("fay")

COLUMNS = ["organization_id", "zaikio_organization_id", "kind", "person_id", "zaikio_person_id", "local_role",
           "zaikio_roles", "target_role", "action"]


def plan_rows(setup, policy: str = "report", columns: list[str] = COLUMNS) -> list[dict[str, str]]:
    plan = make_plan(setup.config, setup.hub, policy=policy, source=setup.source)
    return plan.rows[columns].to_dict("records")


def acme(persons, memberships, zaikio_memberships, connected: bool = True, zaikio_only=()) -> World:
    return World(persons=persons, organizations=[(10, "Acme", ORG, connected)], memberships=memberships,
                 zaikio_memberships=zaikio_memberships, zaikio_only_persons=list(zaikio_only))


def row(kind, person_id="", zaikio_person_id="", local_role="", zaikio_roles="", target_role="",
        action="none") -> dict[str, str]:
    return {"organization_id": "10", "zaikio_organization_id": ORG, "kind": kind, "person_id": person_id,
            "zaikio_person_id": zaikio_person_id, "local_role": local_role, "zaikio_roles": zaikio_roles,
            "target_role": target_role, "action": action}


def test_kind_in_sync(make_setup) -> None:
    setup = make_setup(acme([(1, "ann@example.com", ANN)], [(1, 10, "owner")], [(ANN, ORG, ["owner"])]))

    assert plan_rows(setup) == [row("in_sync", "1", ANN, "owner", "owner", "owner")]


def test_kind_missing_locally(make_setup) -> None:
    setup = make_setup(acme(
        [(1, "ann@example.com", ANN), (2, "bob@example.com", BOB)],
        [(1, 10, "owner")],
        [(ANN, ORG, ["owner"]), (BOB, ORG, ["member"])],
    ))

    assert plan_rows(setup) == [
        row("in_sync", "1", ANN, "owner", "owner", "owner"),
        row("missing_locally", "2", BOB, "", "member", "member", "add"),
    ]


def test_kind_missing_at_zaikio(make_setup) -> None:
    setup = make_setup(acme(
        [(1, "ann@example.com", ANN), (2, "bob@example.com", BOB)],
        [(1, 10, "owner"), (2, 10, "admin")],
        [(ANN, ORG, ["owner"])],
    ))

    assert plan_rows(setup) == [
        row("in_sync", "1", ANN, "owner", "owner", "owner"),
        row("missing_at_zaikio", "2", BOB, "admin", "", "", "remove"),
    ]


def test_kind_role_differs(make_setup) -> None:
    setup = make_setup(acme(
        [(1, "ann@example.com", ANN), (2, "bob@example.com", BOB)],
        [(1, 10, "owner"), (2, 10, "member")],
        [(ANN, ORG, ["owner"]), (BOB, ORG, ["admin"])],
    ))

    assert plan_rows(setup) == [
        row("in_sync", "1", ANN, "owner", "owner", "owner"),
        row("role_differs", "2", BOB, "member", "admin", "admin", "update"),
    ]


def test_kind_role_differs_several_rows(make_setup) -> None:
    setup = make_setup(acme(
        [(1, "ann@example.com", ANN), (2, "bob@example.com", BOB)],
        [(1, 10, "owner"), (2, 10, "admin"), (2, 10, "viewer")],
        [(ANN, ORG, ["owner"]), (BOB, ORG, ["admin"])],
    ))

    assert plan_rows(setup) == [
        row("in_sync", "1", ANN, "owner", "owner", "owner"),
        row("role_differs", "2", BOB, "admin|viewer", "admin", "admin", "update"),
    ]


def test_kind_duplicate_rows_in_sync(make_setup) -> None:
    setup = make_setup(acme([(1, "ann@example.com", ANN)], [(1, 10, "owner"), (1, 10, "owner")],
                            [(ANN, ORG, ["owner"])]))

    assert plan_rows(setup) == [row("in_sync", "1", ANN, "owner", "owner", "owner")]


def test_kind_unmapped_zaikio_member(make_setup) -> None:
    setup = make_setup(acme(
        [(1, "ann@example.com", ANN)],
        [(1, 10, "owner")],
        [(ANN, ORG, ["owner"]), (FAY, ORG, ["admin", "purchaser"])],
        zaikio_only=[(FAY, "fay@example.com")],
    ))

    rows = plan_rows(setup, columns=COLUMNS + ["zaikio_email"])

    assert rows == [
        {**row("in_sync", "1", ANN, "owner", "owner", "owner"), "zaikio_email": "ann@example.com"},
        {**row("unmapped_zaikio_member", "", FAY, "", "admin|purchaser", "admin"), "zaikio_email": "fay@example.com"},
    ]


def test_kind_unmapped_local_member(make_setup) -> None:
    setup = make_setup(acme(
        [(1, "ann@example.com", ANN), (4, "dan@example.com", None)],
        [(1, 10, "owner"), (4, 10, "member")],
        [(ANN, ORG, ["owner"])],
    ))

    assert plan_rows(setup) == [
        row("in_sync", "1", ANN, "owner", "owner", "owner"),
        row("unmapped_local_member", "4", "", "member", "", "", "none"),
    ]


def test_kind_organization_disconnected(make_setup) -> None:
    setup = make_setup(acme([(1, "ann@example.com", ANN)], [(1, 10, "owner")], [(ANN, ORG, ["owner"])],
                            connected=False))

    rows = plan_rows(setup, columns=COLUMNS + ["detail"])

    assert len(rows) == 1
    assert {key: rows[0][key] for key in COLUMNS} == row("organization_disconnected")
    assert "bearer_does_not_exist" in rows[0]["detail"]


def test_unclaimed_organization_skipped(make_setup) -> None:
    world = acme([(1, "ann@example.com", ANN)], [(1, 10, "owner"), (1, 20, "owner")], [(ANN, ORG, ["owner"])])
    world.organizations.append((20, "Unclaimed", None, False))
    setup = make_setup(world)

    assert plan_rows(setup) == [row("in_sync", "1", ANN, "owner", "owner", "owner")]


def test_last_owner_kept(make_setup) -> None:
    setup = make_setup(acme(
        [(1, "ann@example.com", ANN)],
        [(1, 10, "owner")],
        [(ANN, ORG, ["member"]), (FAY, ORG, ["owner"])],
        zaikio_only=[(FAY, "fay@example.com")],
    ))

    rows = plan_rows(setup, columns=COLUMNS + ["detail"])

    assert rows == [
        {**row("role_differs", "1", ANN, "owner", "member", "member", "none"),
         "detail": "kept: the organization would have no local owner left"},
        {**row("unmapped_zaikio_member", "", FAY, "", "owner", "owner"), "detail": ""},
    ]


def test_owner_replaced_when_new_owner_mapped(make_setup) -> None:
    setup = make_setup(acme(
        [(1, "ann@example.com", ANN), (2, "bob@example.com", BOB)],
        [(1, 10, "owner")],
        [(ANN, ORG, ["member"]), (BOB, ORG, ["owner"])],
    ))

    assert plan_rows(setup) == [
        row("missing_locally", "2", BOB, "", "owner", "owner", "add"),
        row("role_differs", "1", ANN, "owner", "member", "member", "update"),
    ]


def test_plan_fingerprint_per_organization(make_setup) -> None:
    setup = make_setup(acme([(1, "ann@example.com", ANN)], [(1, 10, "owner")], [(ANN, ORG, ["owner"])]))

    plan = make_plan(setup.config, setup.hub, source=setup.source)

    # printf '1\towner' | sha256sum | cut -c1-16
    assert plan.fingerprints() == {"10": "5c953984f6631c4a"}
