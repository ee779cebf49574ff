"""``zaikio-ops reconcile plan`` and ``apply`` run as a subprocess against the stand-in."""

from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa

from reconcile_world import CLI_WORLD as WORLD
from reconcile_world import CLIENT_SECRET, membership_table, write_config

ENV = {"ZAIKIO_CLIENT_SECRET": CLIENT_SECRET}


def test_cli_plan_then_apply(make_sqlite_setup, run_cli, tmp_path: Path) -> None:
    setup = make_sqlite_setup(WORLD)
    config = write_config(setup, tmp_path)
    plan_file = tmp_path / "plan.csv"

    planned = run_cli("--config", str(config), "reconcile", "plan", "--out", str(plan_file), "--policy", "full",
                      "--no-progress", env=ENV)
    applied = run_cli("--config", str(config), "reconcile", "apply", "--plan", str(plan_file), "--no-progress",
                      env=ENV)
    again = run_cli("--config", str(config), "reconcile", "apply", "--plan", str(plan_file), "--no-progress",
                    env=ENV)

    assert planned.returncode == 0, planned.stderr
    with plan_file.open(encoding="utf-8", newline="") as handle:
        kinds = sorted(row["kind"] for row in csv.DictReader(handle))
    assert kinds == ["in_sync", "missing_at_zaikio", "role_differs"]
    assert applied.returncode == 0, applied.stderr
    assert "0 added, 1 updated, 1 removed in 1 organization(s)" in applied.stdout
    assert membership_table(setup.engine) == [(1, 7, "owner"), (2, 7, "admin")]
    assert again.returncode == 0, again.stderr
    assert "0 added, 0 updated, 0 removed in 0 organization(s); 1 organization(s) were already applied" in again.stdout


def test_cli_apply_outdated_plan(make_sqlite_setup, run_cli, tmp_path: Path) -> None:
    setup = make_sqlite_setup(WORLD)
    config = write_config(setup, tmp_path)
    plan_file = tmp_path / "plan.csv"
    run_cli("--config", str(config), "reconcile", "plan", "--out", str(plan_file), "--policy", "full",
            "--no-progress", env=ENV)
    with setup.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM company_users WHERE user_id = 3"))

    applied = run_cli("--config", str(config), "reconcile", "apply", "--plan", str(plan_file), env=ENV)

    assert applied.returncode == 3
    assert "is outdated" in applied.stderr
    assert "Nothing was written" in applied.stderr
    assert membership_table(setup.engine) == [(1, 7, "owner"), (2, 7, "member")]


def test_cli_plan_without_secret(make_sqlite_setup, run_cli, tmp_path: Path) -> None:
    setup = make_sqlite_setup(WORLD)
    config = write_config(setup, tmp_path)

    planned = run_cli("--config", str(config), "reconcile", "plan", env={"ZAIKIO_CLIENT_SECRET": ""})

    assert planned.returncode == 2
    assert "set ZAIKIO_CLIENT_SECRET" in planned.stderr
    assert CLIENT_SECRET not in planned.stderr


def test_cli_apply_missing_plan(make_sqlite_setup, run_cli, tmp_path: Path) -> None:
    setup = make_sqlite_setup(WORLD)
    config = write_config(setup, tmp_path)

    applied = run_cli("--config", str(config), "reconcile", "apply", "--plan", str(tmp_path / "none.csv"), env=ENV)

    assert applied.returncode == 2
    assert "not found" in applied.stderr
