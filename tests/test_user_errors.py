"""Bad input from a user gets one clear message and no traceback."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from zaikio_ops.config import config_from_dict, load_config
from zaikio_ops.errors import ConfigError, DatabaseError
from zaikio_ops.db import create_engine
from zaikio_ops.source import Source

APP_CONFIG = """
[database]
url = "sqlite:///{database}"

[schema.persons]
table = "people"
columns = {{ person_id = "id", email = "mail", last_login_at = "seen", zaikio_person_id = "zaikio_id" }}

[schema.organizations]
table = "teams"
columns = {{ organization_id = "id", name = "name", zaikio_organization_id = "zaikio_id" }}

[schema.memberships]
table = "seats"
columns = {{ person_id = "person", organization_id = "team", role = "role" }}

[hub]
client_id = "app"
redirect_uri = "https://app.example.com/claims/callback"
"""


def _app(folder: Path, people: list[tuple]) -> Path:
    database = folder / "app.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, mail TEXT, seen TEXT)")
        connection.execute("CREATE TABLE teams (id INTEGER PRIMARY KEY, name TEXT)")
        connection.execute("CREATE TABLE seats (person INTEGER, team INTEGER, role TEXT)")
        connection.executemany("INSERT INTO people VALUES (?, ?, ?)", people)
    config = folder / "zaikio_ops.toml"
    config.write_text(APP_CONFIG.format(database=database), encoding="utf-8")
    return config


def test_mixed_timestamp_formats_parse(tmp_path):
    config = _app(tmp_path, [(1, "a@example.com", "2026-11-01 10:00:00"), (2, "b@example.com", "2026-10-01"),
                             (3, "c@example.com", "2026-09-15T08:30:00+02:00"), (4, "d@example.com", "01.02.2023"),
                             (5, "e@example.com", "13.02.2023 14:05")])
    source = Source(load_config(config, environ={}))
    source.engine.dispose()
    with sqlite3.connect(tmp_path / "app.db") as connection:
        connection.execute("ALTER TABLE people ADD COLUMN zaikio_id TEXT")
        connection.execute("ALTER TABLE teams ADD COLUMN zaikio_id TEXT")

    persons = Source(load_config(config, environ={})).read("persons").set_index("person_id")

    assert str(persons.loc["1", "last_login_at"]) == "2026-11-01 10:00:00"
    assert str(persons.loc["2", "last_login_at"]) == "2026-10-01 00:00:00"
    assert str(persons.loc["3", "last_login_at"]) == "2026-09-15 06:30:00"
    assert str(persons.loc["4", "last_login_at"]) == "2023-02-01 00:00:00"
    assert str(persons.loc["5", "last_login_at"]) == "2023-02-13 14:05:00"


def test_missing_uuid_column_reads_unmapped(tmp_path, caplog):
    config = _app(tmp_path, [(1, "a@example.com", None), (2, "b@example.com", None)])

    with caplog.at_level("WARNING", logger="zaikio_ops.source"):
        persons = Source(load_config(config, environ={})).read("persons")

    assert persons["zaikio_person_id"].isna().all()
    assert len(persons) == 2
    assert "zaikio-ops schema apply" in caplog.text


def test_missing_sqlite_file_not_created(tmp_path):
    missing = tmp_path / "nosuch.db"

    with pytest.raises(DatabaseError) as raised:
        create_engine(f"sqlite:///{missing}")

    assert "not found" in str(raised.value)
    assert not missing.exists()


def test_postgres_scheme_suggests_postgresql():
    with pytest.raises(DatabaseError) as raised:
        create_engine("postgres://user@127.0.0.1:1/db")
    assert "postgresql+psycopg://" in str(raised.value)


def test_config_with_bom_named(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf[database]\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    assert "byte order mark" in str(raised.value)


def test_config_not_utf8_named(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b'[database]\nurl = "sqlite:///\xff.db"\n')
    with pytest.raises(ConfigError) as raised:
        load_config(path, environ={})
    assert "not UTF-8" in str(raised.value)


def test_claim_base_url_follows_redirect_uri(tmp_path):
    config = _app(tmp_path, [])
    assert load_config(config, environ={}).claims.base_url == "https://app.example.com"


def test_claim_base_url_explicit_wins():
    data = {"database": {"url": "sqlite://"},
            "schema": {"persons": {"table": "p", "columns": {"person_id": "id", "email": "e"}},
                       "organizations": {"table": "o", "columns": {"organization_id": "id", "name": "n"}},
                       "memberships": {"query": "SELECT 1 AS person_id, 1 AS organization_id, 'x' AS role"}},
            "hub": {"redirect_uri": "https://app.example.com/claims/callback"},
            "claims": {"base_url": "https://claims.example.com/"}}
    assert config_from_dict(data, environ={}).claims.base_url == "https://claims.example.com"


def _claims_app(folder: Path, run_cli) -> Path:
    config = _app(folder, [(1, "a@example.com", None), (2, None, None), (3, "not-an-address", None),
                           (4, "d@example.com", None)])
    applied = run_cli("--config", str(config), "schema", "apply", "--yes")
    assert applied.returncode == 0, applied.stderr
    return config


def test_generate_leaves_out_unmailable(tmp_path, run_cli):
    config = _claims_app(tmp_path, run_cli)
    export = tmp_path / "links.csv"

    completed = run_cli("--config", str(config), "claims", "generate", "--export", str(export))

    assert completed.returncode == 0, completed.stderr
    assert "Issued 2 person claim link(s)" in completed.stdout
    assert "Left out 2 person(s)" in completed.stdout
    assert len(export.read_text(encoding="utf-8").strip().splitlines()) == 1 + 2
    assert stat.S_IMODE(export.stat().st_mode) == 0o600


def test_generate_refuses_existing_export(tmp_path, run_cli):
    config = _claims_app(tmp_path, run_cli)
    export = tmp_path / "links.csv"
    export.write_text("earlier links\n", encoding="utf-8")

    completed = run_cli("--config", str(config), "claims", "generate", "--export", str(export))

    assert completed.returncode != 0
    assert "exists already" in completed.stderr
    assert export.read_text(encoding="utf-8") == "earlier links\n"
    with sqlite3.connect(tmp_path / "app.db") as connection:
        assert connection.execute("SELECT count(*) FROM zaikio_ops_claim_tokens").fetchone()[0] == 0


def test_generate_unwritable_export_issues_nothing(tmp_path, run_cli):
    config = _claims_app(tmp_path, run_cli)
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")

    completed = run_cli("--config", str(config), "claims", "generate", "--export", str(blocker / "links.csv"))

    assert completed.returncode != 0
    assert "Traceback" not in completed.stderr
    assert "no link was issued" in completed.stderr
    with sqlite3.connect(tmp_path / "app.db") as connection:
        assert connection.execute("SELECT count(*) FROM zaikio_ops_claim_tokens").fetchone()[0] == 0


def test_reconcile_plan_fails_when_hub_unreachable(tmp_path, run_cli):
    config = _claims_app(tmp_path, run_cli)
    with sqlite3.connect(tmp_path / "app.db") as connection:
        connection.execute("INSERT INTO teams VALUES (1, 'Druckerei', 'b1475f65-236c-58b8-96e1-e1778b43beb7')")
        connection.execute("INSERT INTO seats VALUES (1, 1, 'owner')")

    completed = run_cli("--config", str(config), "reconcile", "plan", "--out", str(tmp_path / "plan.csv"),
                        env={"ZAIKIO_OPS_HUB_URL": "http://127.0.0.1:1", "ZAIKIO_CLIENT_SECRET": "s3cret-value"})

    assert completed.returncode != 0
    assert "No organization could be fetched" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert "s3cret-value" not in completed.stdout + completed.stderr
