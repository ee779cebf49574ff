"""Applying plans: policies, events, the last owner, idempotence, outdated plans and interrupted runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from reconcile_world import World, count_rows, membership_table, zaikio_id
from zaikio_ops.reconcile import PlanOutdated, apply_plan, make_plan, read_plan, write_plan

ORG_A = zaikio_id("org-a")
ORG_B = zaikio_id("org-b")
ORG_C = zaikio_id("org-c")
ANN, BOB, CID, DAN, EVE = (zaikio_id(name) for name in ("ann", "bob", "cid", "dan", "eve"))


def three_organizations() -> World:
    """Organizations 1-3 with an add, an update, a removal and rows that stay as they are."""
    return World(
        persons=[(1, "ann@example.com", ANN), (2, "bob@example.com", BOB), (3, "cid@example.com", CID),
                 (4, "dan@example.com", DAN), (5, "eve@example.com", EVE), (6, "gus@example.com", None)],
        organizations=[(1, "A", ORG_A, True), (2, "B", ORG_B, True), (3, "C", ORG_C, True)],
        memberships=[
            (1, 1, "owner"), (2, 1, "member"), (3, 1, "admin"), (6, 1, "member"),
            (4, 2, "owner"), (5, 2, "admin"), (5, 2, "viewer"),
            (1, 3, "owner"), (3, 3, "member"),
        ],
        zaikio_memberships=[
            (ANN, ORG_A, ["owner"]), (BOB, ORG_A, ["admin"]), (DAN, ORG_A, ["member"]),
            (DAN, ORG_B, ["owner"]), (EVE, ORG_B, ["admin"]), (ANN, ORG_B, ["member", "purchaser"]),
            (ANN, ORG_C, ["owner"]), (CID, ORG_C, ["member"]),
        ],
    )


# Organization 1: Bob member -> admin, Dan added, Cid removed under full only, Gus (unmapped) kept.
# Organization 2: Eve admin|viewer -> admin, Ann added as member. Organization 3 is in sync.
AFTER_ADD_UPDATE = sorted([
    (1, 1, "owner"), (2, 1, "admin"), (3, 1, "admin"), (6, 1, "member"), (4, 1, "member"),
    (4, 2, "owner"), (5, 2, "admin"), (1, 2, "member"),
    (1, 3, "owner"), (3, 3, "member"),
])
AFTER_FULL = sorted(set(AFTER_ADD_UPDATE) - {(3, 1, "admin")})


def test_apply_add_update(make_setup) -> None:
    setup = make_setup(three_organizations())
    plan = make_plan(setup.config, setup.hub, policy="add_update", source=setup.source)

    result = apply_plan(setup.config, plan, source=setup.source)

    assert membership_table(setup.engine) == AFTER_ADD_UPDATE
    assert result.action_counts() == {"add": 2, "update": 2, "remove": 0}
    assert result.applied == ["1", "2"]


def test_apply_full_removes(make_setup) -> None:
    setup = make_setup(three_organizations())
    plan = make_plan(setup.config, setup.hub, policy="full", source=setup.source)

    result = apply_plan(setup.config, plan, source=setup.source)

    assert membership_table(setup.engine) == AFTER_FULL
    assert result.action_counts() == {"add": 2, "update": 2, "remove": 1}


def test_apply_report_writes_nothing(make_setup) -> None:
    setup = make_setup(three_organizations())
    before = membership_table(setup.engine)
    plan = make_plan(setup.config, setup.hub, source=setup.source)
    events_before = count_rows(setup.engine, "zaikio_ops_events")

    result = apply_plan(setup.config, plan, source=setup.source)

    assert plan.policy == "report"
    assert membership_table(setup.engine) == before
    assert result.changes.empty
    assert count_rows(setup.engine, "zaikio_ops_events") == events_before
    assert count_rows(setup.engine, "zaikio_ops_reconcile_applied") == 0


def test_apply_policy_override(make_setup) -> None:
    setup = make_setup(three_organizations())
    plan = make_plan(setup.config, setup.hub, policy="report", source=setup.source)

    apply_plan(setup.config, plan, policy="full", source=setup.source)

    assert membership_table(setup.engine) == AFTER_FULL


def test_apply_records_events(make_setup) -> None:
    setup = make_setup(three_organizations())
    plan = make_plan(setup.config, setup.hub, policy="full", source=setup.source)

    apply_plan(setup.config, plan, source=setup.source)

    with setup.engine.connect() as connection:
        events = connection.execute(sa.text(
            "SELECT kind, subject_id, zaikio_id, batch_id, detail FROM zaikio_ops_events "
            "WHERE kind LIKE 'reconcile.membership%' ORDER BY id")).all()
    summary = sorted((kind, subject, json.loads(detail)["organization_id"]) for kind, subject, _, _, detail in events)
    assert summary == [
        ("reconcile.membership_added", "1", "2"),
        ("reconcile.membership_added", "4", "1"),
        ("reconcile.membership_removed", "3", "1"),
        ("reconcile.membership_updated", "2", "1"),
        ("reconcile.membership_updated", "5", "2"),
    ]
    assert {batch for _, _, _, batch, _ in events} == {plan.plan_id}
    assert {zaikio for kind, subject, zaikio, _, _ in events if subject == "4"} == {DAN}


def test_apply_twice_changes_nothing(make_setup) -> None:
    setup = make_setup(three_organizations())
    plan = make_plan(setup.config, setup.hub, policy="full", source=setup.source)
    apply_plan(setup.config, plan, source=setup.source)
    events_after_first = count_rows(setup.engine, "zaikio_ops_events")

    second = apply_plan(setup.config, plan, source=setup.source)

    assert second.changes.empty
    assert second.applied == []
    assert second.already_applied == ["1", "2"]
    assert membership_table(setup.engine) == AFTER_FULL
    assert count_rows(setup.engine, "zaikio_ops_events") == events_after_first


def test_apply_rejects_changed_database(make_setup) -> None:
    setup = make_setup(three_organizations())
    plan = make_plan(setup.config, setup.hub, policy="full", source=setup.source)
    with setup.engine.begin() as connection:
        connection.execute(sa.text("UPDATE company_users SET role = 'admin' WHERE user_id = 3 AND company_id = 3"))
    before = membership_table(setup.engine)
    events_before = count_rows(setup.engine, "zaikio_ops_events")

    with pytest.raises(PlanOutdated, match="organization\\(s\\) 3 changed") as caught:
        apply_plan(setup.config, plan, source=setup.source)

    assert caught.value.organization_ids == ["3"]
    assert membership_table(setup.engine) == before
    assert count_rows(setup.engine, "zaikio_ops_events") == events_before
    assert count_rows(setup.engine, "zaikio_ops_reconcile_applied") == 0


def test_apply_rejects_added_row(make_setup) -> None:
    setup = make_setup(three_organizations())
    plan = make_plan(setup.config, setup.hub, policy="add_update", source=setup.source)
    with setup.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO company_users (user_id, company_id, role) VALUES (4, 1, 'member')"))

    with pytest.raises(PlanOutdated):
        apply_plan(setup.config, plan, source=setup.source)


def test_apply_keeps_last_owner(make_setup) -> None:
    world = World(
        persons=[(1, "ann@example.com", ANN)],
        organizations=[(1, "A", ORG_A, True)],
        memberships=[(1, 1, "owner")],
        zaikio_memberships=[(ANN, ORG_A, ["member"]), (EVE, ORG_A, ["owner"])],
        zaikio_only_persons=[(EVE, "eve@example.com")],
    )
    setup = make_setup(world)
    plan = make_plan(setup.config, setup.hub, policy="full", source=setup.source)

    result = apply_plan(setup.config, plan, source=setup.source)

    assert result.changes.empty
    assert membership_table(setup.engine) == [(1, 1, "owner")]


def test_plan_csv_round_trip(make_setup, tmp_path: Path) -> None:
    setup = make_setup(three_organizations())
    plan = make_plan(setup.config, setup.hub, policy="full", source=setup.source)

    path = write_plan(plan, tmp_path / "plan.csv", setup.config.export)
    loaded = read_plan(path)

    assert loaded.plan_id == plan.plan_id
    assert loaded.policy == "full"
    assert loaded.created_at == plan.created_at
    assert loaded.rows.equals(plan.rows)
    assert path.stat().st_mode & 0o777 == 0o600


def test_interrupted_apply_resumes(make_setup, tmp_path: Path) -> None:
    setup = make_setup(three_organizations())
    plan = make_plan(setup.config, setup.hub, policy="full", source=setup.source)
    reference = make_setup(three_organizations(), url=f"sqlite:///{tmp_path / 'reference.db'}")
    reference_plan = make_plan(reference.config, reference.hub, policy="full", source=reference.source)
    apply_plan(reference.config, reference_plan, source=reference.source)

    def crash_after_first(organization_id: str) -> None:
        raise KeyboardInterrupt(f"simulated crash after organization {organization_id}")

    with pytest.raises(KeyboardInterrupt):
        apply_plan(setup.config, plan, source=setup.source, on_applied=crash_after_first)
    partial = membership_table(setup.engine)
    resumed = apply_plan(setup.config, plan, source=setup.source)

    assert partial != AFTER_FULL
    assert resumed.already_applied == ["1"]
    assert resumed.applied == ["2"]
    assert membership_table(setup.engine) == membership_table(reference.engine)
    assert membership_table(setup.engine) == AFTER_FULL


def _edited_plan_file(setup, tmp_path: Path, edit) -> Path:
    plan = make_plan(setup.config, setup.hub, policy="full", source=setup.source)
    path = write_plan(plan, tmp_path / "plan.csv", setup.config.export)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(edit(lines)), encoding="utf-8")
    return path


def _set_target_role_owner(lines: list[str]) -> list[str]:
    header = lines[0].rstrip("\r\n").split(",")
    role, action = header.index("target_role"), header.index("action")
    edited = []
    for line in lines:
        cells = line.rstrip("\r\n").split(",")
        if len(cells) == len(header) and cells[action] == "add":
            cells[role] = "owner"
            line = ",".join(cells) + "\r\n"
        edited.append(line)
    return edited


@pytest.mark.parametrize("edit", [
    pytest.param(_set_target_role_owner, id="edited-role"),
    pytest.param(lambda lines: lines[:-1], id="row-removed"),
    pytest.param(lambda lines: lines + [lines[-1]], id="row-duplicated"),
])
def test_edited_plan_file_refused(make_setup, tmp_path: Path, edit) -> None:
    setup = make_setup(three_organizations())
    before = membership_table(setup.engine)
    path = _edited_plan_file(setup, tmp_path, edit)

    with pytest.raises(Exception) as raised:
        apply_plan(setup.config, read_plan(path), source=setup.source)

    assert "differs from the plan that was made" in str(raised.value)
    assert membership_table(setup.engine) == before


def test_unknown_plan_id_refused(make_setup, tmp_path: Path) -> None:
    setup = make_setup(three_organizations())
    before = membership_table(setup.engine)
    path = _edited_plan_file(setup, tmp_path, lambda lines: lines)
    plan = read_plan(path)
    plan.rows["plan_id"] = "00000000-0000-4000-8000-000000000000"
    plan.plan_id = "00000000-0000-4000-8000-000000000000"

    with pytest.raises(Exception) as raised:
        apply_plan(setup.config, plan, source=setup.source)

    assert "was not made by 'zaikio-ops reconcile plan'" in str(raised.value)
    assert membership_table(setup.engine) == before
