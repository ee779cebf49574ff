"""Loading Redmine's YAML fixtures into each backend."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zaikio_ops.fixtures_redmine import FixtureError, load_redmine_fixtures, read_fixture, redmine_metadata


def test_loader_row_counts(engine: Engine, redmine_fixtures_dir: Path) -> None:
    counts = load_redmine_fixtures(engine, redmine_fixtures_dir)

    # users_001-009 plus groups 10, 11, 12 (GroupNonMember) and 13 (GroupAnonymous).
    assert counts["users"] == 13
    # email_address_001-005 and 007-009; the anonymous user 6 has none.
    assert counts["email_addresses"] == 8
    assert counts["projects"] == 6
    assert counts["roles"] == 5
    assert counts["members"] == 10
    assert counts["member_roles"] == 12
    assert counts["groups_users"] == 2


def test_loader_rows_in_database(engine: Engine, redmine_fixtures_dir: Path) -> None:
    load_redmine_fixtures(engine, redmine_fixtures_dir)

    with engine.connect() as connection:
        users = connection.execute(sa.text("SELECT COUNT(*) FROM users")).scalar_one()
        member_roles = connection.execute(sa.text("SELECT COUNT(*) FROM member_roles")).scalar_one()

    assert users == 13
    assert member_roles == 12


def test_loader_timestamps_utc(engine: Engine, redmine_fixtures_dir: Path) -> None:
    load_redmine_fixtures(engine, redmine_fixtures_dir)

    users = redmine_metadata().tables["users"]
    with engine.connect() as connection:
        # A typed select, because SQLite returns DATETIME values to raw SQL as text.
        created = connection.execute(
            sa.select(users.c.created_on).where(users.c.id == 1)).scalar_one()

    # users_001: created_on 2006-07-19 19:12:21 +02:00 is 17:12:21 UTC.
    assert created == dt.datetime(2006, 7, 19, 17, 12, 21)


def test_loader_values_typed(engine: Engine, redmine_fixtures_dir: Path) -> None:
    load_redmine_fixtures(engine, redmine_fixtures_dir)

    users = redmine_metadata().tables["users"]
    with engine.connect() as connection:
        user_5 = connection.execute(sa.select(
            users.c.hashed_password, users.c.auth_source_id, users.c.status).where(users.c.id == 5)).one()
        group_10 = connection.execute(sa.select(
            users.c.login, users.c.admin, users.c.created_on).where(users.c.id == 10)).one()

    # "hashed_password: 1" is an integer in YAML and a string column in Redmine.
    assert user_5.hashed_password == "1"
    # An empty YAML value is NULL.
    assert user_5.auth_source_id is None
    assert user_5.status == 3
    # Group rows leave login and admin out, so the column defaults apply.
    assert group_10.login == ""
    assert group_10.admin is False
    assert group_10.created_on is None


def test_loader_new_ids_follow(engine: Engine, redmine_fixtures_dir: Path) -> None:
    load_redmine_fixtures(engine, redmine_fixtures_dir)

    # A new row without an id must get one past the fixture ids on every backend.
    with engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO projects (name, is_public) VALUES ('New', TRUE)"))
        new_id = connection.execute(sa.text("SELECT id FROM projects WHERE name = 'New'")).scalar_one()

    assert new_id == 7


def test_fixture_erb_rejected(tmp_path: Path) -> None:
    path = tmp_path / "users.yml"
    path.write_text("users_001:\n  id: 1\n  created_on: <%= 5.days.ago.to_s(:db) %>\n")

    with pytest.raises(FixtureError) as caught:
        read_fixture(redmine_metadata().tables["users"], path)

    assert str(path) in str(caught.value)
    assert "line 3" in str(caught.value)


def test_fixture_unknown_column(tmp_path: Path) -> None:
    path = tmp_path / "users.yml"
    path.write_text("users_001:\n  id: 1\n  nickname: ada\n")

    with pytest.raises(FixtureError) as caught:
        read_fixture(redmine_metadata().tables["users"], path)

    assert "users_001" in str(caught.value)
    assert "'nickname'" in str(caught.value)


def test_fixture_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FixtureError) as caught:
        load_redmine_fixtures(sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}"), tmp_path)

    assert "users.yml" in str(caught.value)


def test_fixture_text_timestamp(tmp_path: Path) -> None:
    path = tmp_path / "members.yml"
    path.write_text('members_001:\n  id: 1\n  user_id: 2\n  project_id: 1\n'
                    '  created_on: "2006-07-19 19:35:33 +02:00"\n')

    rows = read_fixture(redmine_metadata().tables["members"], path)

    assert rows[0]["created_on"] == dt.datetime(2006, 7, 19, 17, 35, 33)
