"""The demo database: planted problems are found by the audit, data looks real, seeds repeat."""

from __future__ import annotations

import sqlite3
import statistics
import tomllib
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest

from zaikio_ops.audit import FINDING_KINDS, AuditResult, run_audit
from zaikio_ops.config import load_config
from zaikio_ops.demo import build_demo_database, write_demo_config
from zaikio_ops.errors import DatabaseError

PERSONS = 600
ORGANIZATIONS = 40
SEED = 7


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("demo")
    database = folder / "demo.db"
    planted = build_demo_database(database, persons=PERSONS, organizations=ORGANIZATIONS, seed=SEED)
    return database, planted


@pytest.fixture(scope="module")
def audit(demo: tuple[Path, dict[str, int]]) -> AuditResult:
    database, _ = demo
    config_path = write_demo_config(database.parent, database)
    return run_audit(load_config(config_path, environ={}), now=datetime(2026, 12, 4))


def query(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


@pytest.mark.parametrize("kind", FINDING_KINDS)
def test_audit_finds_planted(kind: str, demo, audit: AuditResult) -> None:
    _, planted = demo
    assert audit.finding_counts()[kind] == planted[kind]


def test_planted_traps_nonzero(demo) -> None:
    _, planted = demo
    empty = [kind for kind in FINDING_KINDS if planted[kind] == 0]
    assert empty == []


def test_audit_totals_match_sql(demo, audit: AuditResult) -> None:
    database, planted = demo
    unmapped = query(database, "SELECT count(*) FROM users WHERE zaikio_id IS NULL")[0][0]
    memberships = query(database, "SELECT count(*) FROM company_users")[0][0]
    assert audit.summary["persons_total"] == PERSONS
    assert audit.summary["organizations_total"] == ORGANIZATIONS
    assert audit.summary["persons_unmapped"] == unmapped
    assert audit.summary["persons_mapped"] == planted["persons_mapped"]
    assert audit.summary["organizations_mapped"] == planted["organizations_mapped"]
    assert audit.summary["memberships_total"] == memberships == planted["memberships"]


def test_mapped_shares_realistic(demo) -> None:
    _, planted = demo
    assert 0.2 <= planted["persons_mapped"] / PERSONS <= 0.32
    assert 0.1 <= planted["organizations_mapped"] / ORGANIZATIONS <= 0.25


def test_organization_sizes_skewed(demo) -> None:
    database, _ = demo
    sizes = [row[0] for row in query(database, "SELECT count(*) FROM company_users GROUP BY company_id")]
    assert len(sizes) == ORGANIZATIONS
    assert max(sizes) >= 10 * statistics.median(sizes)
    assert min(sizes) == 1


def test_roles_several(demo) -> None:
    database, _ = demo
    roles = {row[0] for row in query(database, "SELECT DISTINCT role FROM company_users")}
    assert roles == {"owner", "admin", "member", "viewer"}


def test_owners_mostly_one_or_two(demo) -> None:
    database, _ = demo
    owners = [row[0] for row in query(
        database,
        "SELECT sum(CASE WHEN role = 'owner' THEN 1 ELSE 0 END) FROM company_users GROUP BY company_id",
    )]
    one_or_two = sum(1 for count in owners if count in (1, 2))
    assert one_or_two / len(owners) >= 0.8
    assert 0 in owners


def test_names_non_ascii(demo) -> None:
    database, _ = demo
    names = [first + " " + last for first, last in query(database, "SELECT first_name, last_name FROM users")]
    letters = {char for name in names for char in name if not char.isascii()}
    assert sum(1 for name in names if not name.isascii()) >= PERSONS // 20
    assert letters & set("äöüÄÖÜ")
    assert letters & set("łŁśżźćń")


def test_email_variants_planted(demo) -> None:
    database, _ = demo
    emails = [row[0] for row in query(database, "SELECT email FROM users WHERE email IS NOT NULL")]
    assert any(not unicodedata.is_normalized("NFC", email) for email in emails)
    assert any(email != email.strip() and email.strip() for email in emails)
    assert any(email.strip() != email.strip().lower() for email in emails)


def test_last_logins_spread(demo) -> None:
    database, planted = demo
    never, oldest, newest = query(
        database, "SELECT sum(last_login_at IS NULL), min(last_login_at), max(last_login_at) FROM users")[0]
    span = datetime.fromisoformat(newest) - datetime.fromisoformat(oldest)
    assert never == planted["never_logged_in"]
    assert never > 0
    assert span.days > 3 * 365


def test_same_seed_same_database(tmp_path: Path) -> None:
    first = build_demo_database(tmp_path / "a.db", persons=100, organizations=10, seed=3)
    second = build_demo_database(tmp_path / "b.db", persons=100, organizations=10, seed=3)
    assert first == second
    assert dump(tmp_path / "a.db") == dump(tmp_path / "b.db")


def test_other_seed_other_database(tmp_path: Path) -> None:
    build_demo_database(tmp_path / "a.db", persons=100, organizations=10, seed=3)
    build_demo_database(tmp_path / "b.db", persons=100, organizations=10, seed=4)
    assert dump(tmp_path / "a.db") != dump(tmp_path / "b.db")


def dump(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return list(connection.iterdump())


def test_demo_replaces_demo(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    build_demo_database(database, persons=100, organizations=10, seed=1)
    build_demo_database(database, persons=120, organizations=10, seed=1)
    assert query(database, "SELECT count(*) FROM users")[0][0] == 120


def test_demo_keeps_foreign_database(tmp_path: Path) -> None:
    database = tmp_path / "app.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
    with pytest.raises(DatabaseError, match="is not a zaikio-ops demo database, so it was not replaced"):
        build_demo_database(database, persons=100, organizations=10)
    assert query(database, "SELECT name FROM sqlite_master") == [("users",)]


def test_demo_rejects_tiny_sizes(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="persons must be >= 50"):
        build_demo_database(tmp_path / "demo.db", persons=10, organizations=10)


def test_demo_config_loads(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    build_demo_database(database, persons=100, organizations=10)
    path = write_demo_config(tmp_path, database)
    config = load_config(path, environ={})
    assert path.name == "zaikio_ops.toml"
    assert config.database_url == f"sqlite:///{database.resolve()}"
    assert config.persons.columns["active"] == "is_active"
    assert config.hub.url == "http://127.0.0.1:8765"
    assert config.hub.client_id == "zaikio-ops-demo"
    assert config.hub.app_name == "zaikio_ops_demo"
    assert config.hub.redirect_uri == "http://127.0.0.1:8766/claims/callback"
    assert config.hub.client_secret is None


def test_demo_config_without_secret(tmp_path: Path) -> None:
    path = write_demo_config(tmp_path, tmp_path / "demo.db")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    assert set(data["hub"]) == {"url", "client_id", "app_name", "redirect_uri"}
    assert "password" not in data["database"]["url"]
