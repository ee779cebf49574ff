"""Reading canonical persons, organizations and memberships on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zaikio_ops.config import config_from_dict
from zaikio_ops.errors import SourceError
from zaikio_ops.source import Source

ORGANIZATION_UUID = "6f2b1c9e-3f0a-4c55-9a7e-0d9f1c2b3a4d"
PERSON_UUID = "0b7f4c2e-8d1a-4e6b-b3c5-2a9d8e7f6c51"


def create_app_tables(engine: Engine) -> None:
    """Create an app schema whose names differ from the canonical ones, with a few rows."""
    metadata = sa.MetaData()
    accounts = sa.Table(
        "accounts", metadata,
        sa.Column("uid", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("mail", sa.String(255)),
        sa.Column("given", sa.String(100)),
        sa.Column("family", sa.String(100)),
        sa.Column("lang", sa.String(5)),
        sa.Column("state", sa.Integer),
        sa.Column("enabled", sa.Boolean),
        sa.Column("seen_at", sa.DateTime),
        sa.Column("zaikio_uuid", sa.String(36)),
    )
    firms = sa.Table(
        "firms", metadata,
        sa.Column("code", sa.String(20), primary_key=True),
        sa.Column("title", sa.String(255)),
        sa.Column("zaikio_uuid", sa.String(36)),
    )
    roles = sa.Table(
        "firm_roles", metadata,
        sa.Column("account_uid", sa.Integer),
        sa.Column("firm_code", sa.String(20)),
        sa.Column("kind", sa.String(20)),
    )
    metadata.create_all(engine)

    with engine.begin() as connection:
        connection.execute(accounts.insert(), [
            {"uid": 1, "mail": "ada@example.com", "given": "Ada", "family": "Lovelace",
             "lang": "en", "state": 1, "enabled": True,
             "seen_at": dt.datetime(2024, 3, 1, 12, 30), "zaikio_uuid": PERSON_UUID},
            {"uid": 2, "mail": "max@example.de", "given": "Max", "family": "Muster",
             "lang": "de", "state": 3, "enabled": False, "seen_at": None, "zaikio_uuid": None},
        ])
        connection.execute(firms.insert(), [
            {"code": "007", "title": "Example Print", "zaikio_uuid": ORGANIZATION_UUID},
            {"code": "042", "title": "Muster Druck", "zaikio_uuid": None},
        ])
        connection.execute(roles.insert(), [
            {"account_uid": 1, "firm_code": "007", "kind": "owner"},
            {"account_uid": 2, "firm_code": "007", "kind": "member"},
            {"account_uid": 2, "firm_code": "042", "kind": "owner"},
        ])


def make_source(engine: Engine, **schema: dict[str, Any]) -> Source:
    """Build a Source on ``engine`` from schema mappings, with simple table defaults."""
    mappings = {
        "persons": {"table": "accounts", "columns": {"person_id": "uid", "email": "mail"}},
        "organizations": {"table": "firms", "columns": {"organization_id": "code", "name": "title"}},
        "memberships": {"table": "firm_roles", "columns": {
            "person_id": "account_uid", "organization_id": "firm_code", "role": "kind"}},
    }
    mappings.update(schema)
    config = config_from_dict(
        {"database": {"url": engine.url.render_as_string(hide_password=False)}, "schema": mappings},
        environ={},
    )
    return Source(config, engine=engine)


@pytest.fixture
def app_engine(engine: Engine) -> Engine:
    create_app_tables(engine)
    return engine


def test_source_table_mapping(app_engine: Engine) -> None:
    persons_mapping = {"table": "accounts", "columns": {
        "person_id": "uid", "email": "mail", "first_name": "given", "last_name": "family",
        "locale": "lang", "active": "enabled", "last_login_at": "seen_at",
        "zaikio_person_id": "zaikio_uuid"}}
    source = make_source(app_engine, persons=persons_mapping)

    persons = source.read("persons").sort_values("person_id", ignore_index=True)

    assert persons["person_id"].tolist() == ["1", "2"]
    assert persons["email"].tolist() == ["ada@example.com", "max@example.de"]
    assert persons["first_name"].tolist() == ["Ada", "Max"]
    assert persons["locale"].tolist() == ["en", "de"]
    assert persons["active"].tolist() == [True, False]
    assert persons.loc[0, "last_login_at"] == pd.Timestamp("2024-03-01 12:30:00")
    assert pd.isna(persons.loc[1, "last_login_at"])
    assert persons.loc[0, "zaikio_person_id"] == PERSON_UUID
    assert pd.isna(persons.loc[1, "zaikio_person_id"])


def test_source_identifiers_are_strings(app_engine: Engine) -> None:
    source = make_source(app_engine)

    persons = source.read("persons")
    memberships = source.read("memberships")
    organizations = source.read("organizations")

    assert pd.api.types.is_string_dtype(persons["person_id"])
    assert pd.api.types.is_string_dtype(memberships["person_id"])
    assert pd.api.types.is_string_dtype(memberships["organization_id"])
    # Leading zeros survive because firms.code is a string column.
    assert sorted(organizations["organization_id"]) == ["007", "042"]
    assert sorted(memberships["person_id"]) == ["1", "2", "2"]


def test_source_active_values(app_engine: Engine) -> None:
    persons_mapping = {"table": "accounts", "active_values": [1],
                       "columns": {"person_id": "uid", "email": "mail", "active": "state"}}
    source = make_source(app_engine, persons=persons_mapping)

    persons = source.read("persons").sort_values("person_id", ignore_index=True)

    assert persons["active"].dtype == bool
    # Account 1 has state 1 (listed in active_values), account 2 state 3.
    assert persons["active"].tolist() == [True, False]


def test_source_unmapped_columns_default(app_engine: Engine) -> None:
    source = make_source(app_engine)

    persons = source.read("persons")
    organizations = source.read("organizations")

    assert persons["first_name"].isna().all()
    assert persons["last_login_at"].isna().all()
    assert persons["zaikio_person_id"].isna().all()
    # An unmapped active column means every person counts as active.
    assert persons["active"].tolist() == [True, True]
    assert organizations["zaikio_organization_id"].isna().all()


def test_source_query_mapping(app_engine: Engine) -> None:
    query = ("SELECT f.code AS organization_id, f.title AS name, "
             "f.zaikio_uuid AS zaikio_organization_id FROM firms f WHERE f.code <> '042'")
    source = make_source(app_engine, organizations={"query": query})

    organizations = source.read("organizations")

    assert organizations["organization_id"].tolist() == ["007"]
    assert organizations["name"].tolist() == ["Example Print"]
    assert organizations["zaikio_organization_id"].tolist() == [ORGANIZATION_UUID]


def test_source_query_join(app_engine: Engine) -> None:
    query = ("SELECT r.account_uid AS person_id, r.firm_code AS organization_id, r.kind AS role "
             "FROM firm_roles r JOIN accounts a ON a.uid = r.account_uid WHERE a.state = 1")
    source = make_source(app_engine, memberships={"query": query})

    memberships = source.read("memberships")

    # Only account 1 has state 1, and it has one role.
    assert memberships.to_dict("records") == [
        {"person_id": "1", "organization_id": "007", "role": "owner"}]


def test_source_query_fills_optional(app_engine: Engine) -> None:
    query = "SELECT uid AS person_id, mail AS email FROM accounts"
    source = make_source(app_engine, persons={"query": query})

    persons = source.read("persons")

    assert persons["active"].tolist() == [True, True]
    assert persons["locale"].isna().all()


def test_source_query_missing_column(app_engine: Engine) -> None:
    source = make_source(app_engine, persons={"query": "SELECT uid AS person_id FROM accounts"})

    with pytest.raises(SourceError) as caught:
        source.read("persons")

    assert "schema.persons.query" in str(caught.value)
    assert "email" in str(caught.value)


def test_source_query_fails(app_engine: Engine) -> None:
    source = make_source(app_engine, persons={"query": "SELECT uid AS person_id FROM acounts"})

    with pytest.raises(SourceError) as caught:
        source.read("persons")

    assert "schema.persons.query" in str(caught.value)
    assert "acounts" in str(caught.value)


def test_source_missing_table_suggests(app_engine: Engine) -> None:
    mapping = {"table": "acounts", "columns": {"person_id": "uid", "email": "mail"}}
    source = make_source(app_engine, persons=mapping)

    with pytest.raises(SourceError) as caught:
        source.check()

    assert "schema.persons.table" in str(caught.value)
    assert "'acounts'" in str(caught.value)
    assert "Did you mean 'accounts'?" in str(caught.value)


def test_source_missing_column_suggests(app_engine: Engine) -> None:
    mapping = {"table": "accounts", "columns": {"person_id": "uid", "email": "mial"}}
    source = make_source(app_engine, persons=mapping)

    with pytest.raises(SourceError) as caught:
        source.check()

    assert "schema.persons.columns.email" in str(caught.value)
    assert "'mial'" in str(caught.value)
    assert "Did you mean 'mail'?" in str(caught.value)


def test_source_empty_table(engine: Engine) -> None:
    create_app_tables(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM firm_roles"))
    source = make_source(engine)

    memberships = source.read("memberships")

    assert memberships.columns.tolist() == ["person_id", "organization_id", "role"]
    assert len(memberships) == 0
