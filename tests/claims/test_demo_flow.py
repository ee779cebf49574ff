"""The demo's claim step on a small demo database: real servers, real claims, both stopped afterwards."""

from __future__ import annotations

import csv
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from zaikio_ops.demo import build_demo_database, write_demo_config
from zaikio_ops.demo_flow import ClaimDemoResult, claim_demo
from zaikio_ops.standin import zaikio_organization_uuid, zaikio_person_uuid

pytestmark = pytest.mark.slow


def zaikio_ids(database: Path, table: str) -> dict[int, str | None]:
    with sqlite3.connect(database) as connection:
        return dict(connection.execute(f"SELECT id, zaikio_id FROM {table}").fetchall())


def newly_mapped(before: dict[int, str | None], after: dict[int, str | None]) -> dict[int, str]:
    return {key: value for key, value in after.items() if before[key] is None and value is not None}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("demo-claims")
    database = folder / "demo.db"
    build_demo_database(database, persons=120, organizations=12, seed=31)
    config_path = write_demo_config(folder, database)
    config_text = config_path.read_text(encoding="utf-8")
    users, companies = zaikio_ids(database, "users"), zaikio_ids(database, "companies")

    result = claim_demo(folder, config_path, database, persons_to_claim=0.3)

    return {"folder": folder, "database": database, "config_path": config_path, "config_text": config_text,
            "users": users, "companies": companies, "result": result}


def test_demo_claims_persons(demo: dict) -> None:
    result: ClaimDemoResult = demo["result"]
    mapped = newly_mapped(demo["users"], zaikio_ids(demo["database"], "users"))
    assert result.persons_claimed == len(mapped)
    assert mapped == {key: zaikio_person_uuid(str(key)) for key in mapped}


def test_demo_claims_share(demo: dict) -> None:
    result: ClaimDemoResult = demo["result"]
    with result.export_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    reachable = [row for row in rows if row["email"]]
    assert result.persons_issued == len(rows)
    assert result.persons_claimed == int(len(reachable) * 0.3 + 0.5)


def test_demo_claims_organizations(demo: dict) -> None:
    result: ClaimDemoResult = demo["result"]
    mapped = newly_mapped(demo["companies"], zaikio_ids(demo["database"], "companies"))
    assert result.organizations_claimed > 0
    assert result.organizations_claimed == len(mapped)
    assert mapped == {key: zaikio_organization_uuid(str(key)) for key in mapped}


def test_demo_export_private(demo: dict) -> None:
    path = demo["result"].export_path
    assert path.parent == demo["folder"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_demo_servers_stopped(demo: dict) -> None:
    names = {thread.name for thread in threading.enumerate() if thread.is_alive()}
    assert "zaikio-claim-service" not in names
    assert "zaikio-standin" not in names


def test_demo_config_unchanged(demo: dict) -> None:
    assert demo["config_path"].read_text(encoding="utf-8") == demo["config_text"]


def test_demo_rejects_bad_share(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="persons_to_claim must lie in 0..1"):
        claim_demo(tmp_path, tmp_path / "zaikio_ops.toml", tmp_path / "demo.db", persons_to_claim=1.5)
