"""Configuration errors: each names the file, the key and the bad value, on its own and through the CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from zaikio_ops.config import load_config
from zaikio_ops.errors import ConfigError

VALID_SCHEMA = """
[schema.persons]
table = "people"
columns = { person_id = "id", email = "email" }

[schema.organizations]
table = "companies"
columns = { organization_id = "id", name = "name" }

[schema.memberships]
table = "staff"
columns = { person_id = "person_id", organization_id = "company_id", role = "role" }
"""

DATABASE = '[database]\nurl = "sqlite:///app.db"\n'


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "zaikio_ops.toml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=environ or {})
    return str(caught.value)


def test_config_valid_file(tmp_path: Path) -> None:
    path = write_config(tmp_path, DATABASE + VALID_SCHEMA + '[audit]\nowner_roles = ["admin"]\n')

    config = load_config(path, environ={})

    assert config.persons.columns == {"person_id": "id", "email": "email"}
    assert config.owner_roles == ("admin",)
    assert config.database_url == "sqlite:///app.db"


def test_config_environment_url_wins(tmp_path: Path) -> None:
    path = write_config(tmp_path, DATABASE + VALID_SCHEMA)

    config = load_config(path, environ={"ZAIKIO_OPS_DATABASE_URL": "sqlite:///other.db"})

    assert config.database_url == "sqlite:///other.db"


def test_config_unknown_key_suggests(tmp_path: Path) -> None:
    path = write_config(tmp_path, DATABASE + VALID_SCHEMA + '[audit]\nowner_role = ["admin"]\n')

    message = config_error(path)

    assert str(path) in message
    assert "audit.owner_role" in message
    assert "Did you mean 'owner_roles'?" in message


def test_config_unknown_column_suggests(tmp_path: Path) -> None:
    schema = VALID_SCHEMA.replace('email = "email"', 'emial = "email"')
    path = write_config(tmp_path, DATABASE + schema)

    message = config_error(path)

    assert str(path) in message
    assert "schema.persons.columns.emial" in message
    assert "Did you mean 'email'?" in message


def test_config_missing_schema_table(tmp_path: Path) -> None:
    path = write_config(tmp_path, DATABASE)

    message = config_error(path)

    assert str(path) in message
    assert "'schema'" in message
    assert "missing table" in message


def test_config_missing_memberships_table(tmp_path: Path) -> None:
    schema = VALID_SCHEMA.split("[schema.memberships]")[0]
    path = write_config(tmp_path, DATABASE + schema)

    message = config_error(path)

    assert str(path) in message
    assert "schema.memberships" in message
    assert "missing table" in message


def test_config_secret_in_file_rejected(tmp_path: Path) -> None:
    hub = '[hub]\nclient_id = "app-1"\nclient_secret = "s3cr3t-in-the-file"\n'
    path = write_config(tmp_path, DATABASE + VALID_SCHEMA + hub)

    message = config_error(path)

    assert str(path) in message
    assert "hub.client_secret" in message
    assert "ZAIKIO_CLIENT_SECRET" in message
    # The one value the message must not repeat.
    assert "s3cr3t-in-the-file" not in message


def test_config_bad_delimiter(tmp_path: Path) -> None:
    path = write_config(tmp_path, DATABASE + VALID_SCHEMA + '[export]\ndelimiter = "|"\n')

    message = config_error(path)

    assert str(path) in message
    assert "export.delimiter" in message
    assert "'|'" in message


def test_config_invalid_toml(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[database]\nurl = \"sqlite:///app.db\"\nowner_roles = admin\n")

    message = config_error(path)

    assert str(path) in message
    assert "not valid TOML" in message
    assert "line 3" in message


def test_config_bad_owner_roles(tmp_path: Path) -> None:
    path = write_config(tmp_path, DATABASE + VALID_SCHEMA + '[audit]\nowner_roles = "admin"\n')

    message = config_error(path)

    assert str(path) in message
    assert "audit.owner_roles" in message
    assert "'admin'" in message


def test_config_query_not_select(tmp_path: Path) -> None:
    schema = VALID_SCHEMA.replace('table = "companies"', 'query = "DELETE FROM companies"')
    path = write_config(tmp_path, DATABASE + schema)

    message = config_error(path)

    assert str(path) in message
    assert "schema.organizations.query" in message
    assert "DELETE FROM companies" in message


def test_config_missing_database_url(tmp_path: Path) -> None:
    path = write_config(tmp_path, VALID_SCHEMA)

    message = config_error(path)

    assert str(path) in message
    assert "database.url" in message
    assert "ZAIKIO_OPS_DATABASE_URL" in message


def test_config_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    message = config_error(path)

    assert str(path) in message
    assert "not found" in message


def make_app_database(path: Path) -> None:
    """Create a small SQLite app with people, companies and staff."""
    with sqlite3.connect(path) as connection:
        connection.executescript("""
            CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT);
            CREATE TABLE companies (id INTEGER PRIMARY KEY, name TEXT);
            CREATE TABLE staff (person_id INTEGER, company_id INTEGER, role TEXT);
            INSERT INTO people VALUES (1, 'ada@example.com');
            INSERT INTO companies VALUES (1, 'Example Print');
            INSERT INTO staff VALUES (1, 1, 'owner');
        """)
    connection.close()


def test_cli_misspelt_column(tmp_path: Path, run_cli) -> None:
    database = tmp_path / "app.db"
    make_app_database(database)
    schema = VALID_SCHEMA.replace('email = "email"', 'email = "emial"')
    path = write_config(tmp_path, schema)

    result = run_cli("--config", str(path), "audit", "--json",
                     env={"ZAIKIO_OPS_DATABASE_URL": f"sqlite:///{database}"})

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("Error:") == 1
    assert result.stderr.startswith("Error: ")
    assert "schema.persons.columns.email" in result.stderr
    assert "'emial'" in result.stderr
    assert "Did you mean" in result.stderr


def test_cli_config_error(tmp_path: Path, run_cli) -> None:
    path = write_config(tmp_path, DATABASE + VALID_SCHEMA + '[export]\ndelimiter = "|"\n')

    result = run_cli("--config", str(path), "audit", "--json")

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ")
    assert "export.delimiter" in result.stderr
