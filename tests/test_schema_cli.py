"""``zaikio-ops schema plan / apply / check`` on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from zaikio_ops.store import KIT_TABLES

CONFIG = """
[database]
url = "sqlite:///unused.db"

[schema.persons]
table = "accounts"
columns = {{ person_id = "id", email = "mail", zaikio_person_id = "{person_column}" }}

[schema.organizations]
table = "firms"
columns = {{ organization_id = "id", name = "title", zaikio_organization_id = "zaikio_uuid" }}

[schema.memberships]
table = "seats"
columns = {{ person_id = "account_id", organization_id = "firm_id", role = "kind" }}
"""


def _app(tmp_path: Path, database_url: str, person_column: str = "zaikio_id") -> Path:
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE accounts (id INTEGER PRIMARY KEY, mail VARCHAR(120))"))
        connection.execute(sa.text("CREATE TABLE firms (id INTEGER PRIMARY KEY, title VARCHAR(120))"))
        connection.execute(sa.text("CREATE TABLE seats (account_id INTEGER, firm_id INTEGER, kind VARCHAR(20))"))
        connection.execute(sa.text("INSERT INTO accounts (id, mail) VALUES (1, 'a@example.com')"))
    engine.dispose()
    path = tmp_path / "zaikio_ops.toml"
    path.write_text(CONFIG.format(person_column=person_column), encoding="utf-8")
    return path


def test_check_lists_missing_then_complete(tmp_path, database_url, run_cli):
    config = _app(tmp_path, database_url)
    env = {"ZAIKIO_OPS_DATABASE_URL": database_url}

    before = run_cli("--config", str(config), "schema", "check", env=env)
    assert before.returncode == 1
    assert "add column accounts.zaikio_id" in before.stdout
    assert "create table zaikio_ops_claim_tokens" in before.stdout

    applied = run_cli("--config", str(config), "schema", "apply", "--yes", env=env)
    assert applied.returncode == 0, applied.stderr

    after = run_cli("--config", str(config), "schema", "check", env=env)
    assert after.returncode == 0
    assert "complete" in after.stdout


def test_plan_renders_dialect_ddl(tmp_path, database_url, run_cli):
    config = _app(tmp_path, database_url)
    env = {"ZAIKIO_OPS_DATABASE_URL": database_url}

    plan = run_cli("--config", str(config), "schema", "plan", env=env)

    assert plan.returncode == 0, plan.stderr
    assert "ALTER TABLE accounts ADD" in plan.stdout
    assert "CREATE UNIQUE INDEX ux_accounts_zaikio_id" in plan.stdout
    assert "CREATE UNIQUE INDEX ux_firms_zaikio_uuid" in plan.stdout
    for table in KIT_TABLES:
        assert f"CREATE TABLE {table.name}" in plan.stdout
    engine = sa.create_engine(database_url)
    columns = {column["name"] for column in sa.inspect(engine).get_columns("accounts")}
    engine.dispose()
    assert "zaikio_id" not in columns, "plan must not change the database"


def test_apply_creates_unique_columns_once(tmp_path, database_url, run_cli):
    config = _app(tmp_path, database_url)
    env = {"ZAIKIO_OPS_DATABASE_URL": database_url}

    first = run_cli("--config", str(config), "schema", "apply", "--yes", env=env)
    second = run_cli("--config", str(config), "schema", "apply", "--yes", env=env)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "nothing to do" in second.stdout
    engine = sa.create_engine(database_url)
    inspector = sa.inspect(engine)
    assert "zaikio_id" in {column["name"] for column in inspector.get_columns("accounts")}
    unique = [index["column_names"] for index in inspector.get_indexes("accounts") if index.get("unique")]
    assert ["zaikio_id"] in unique
    assert set(table.name for table in KIT_TABLES) <= set(inspector.get_table_names())
    engine.dispose()


def test_apply_reports_duplicate_uuids(tmp_path, database_url, run_cli):
    config = _app(tmp_path, database_url)
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE accounts ADD COLUMN zaikio_id VARCHAR(36)"))
        connection.execute(sa.text("INSERT INTO accounts (id, mail, zaikio_id) VALUES "
                                   "(2, 'b@example.com', 'same'), (3, 'c@example.com', 'same')"))
    engine.dispose()

    applied = run_cli("--config", str(config), "schema", "apply", "--yes",
                      env={"ZAIKIO_OPS_DATABASE_URL": database_url})

    assert applied.returncode != 0
    assert "Traceback" not in applied.stderr
    assert "zaikio_*_id_shared" in applied.stderr
