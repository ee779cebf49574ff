"""Load Redmine's YAML test fixtures into any SQLAlchemy database.

Redmine is a real multi-tenant schema: users (persons, groups and built-in
pseudo users share one table), e-mail addresses, projects (the tenants),
members, member roles and roles. Loading its fixtures gives the kit a realistic
database to audit on SQLite, PostgreSQL and MariaDB/MySQL alike.

The tables below are a minimal subset of Redmine's schema: every column the
fixtures use, with Redmine's types, and nothing else. Timestamps are stored as
naive UTC, as Rails applications such as Redmine store them by
default (ActiveRecord default_timezone :utc).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine

from zaikio_ops.errors import ZaikioOpsError

logger = logging.getLogger(__name__)

REDMINE_TABLES = (
    "users", "email_addresses", "projects", "roles", "members", "member_roles", "groups_users",
)


class FixtureError(ZaikioOpsError):
    """A Redmine fixture file is missing or has a row the minimal schema cannot store."""

    exit_code = 2


def redmine_metadata() -> sa.MetaData:
    """Build the minimal Redmine schema as SQLAlchemy Core tables.

    Returns
    -------
    sqlalchemy.MetaData
        Tables ``users``, ``email_addresses``, ``projects``, ``roles``, ``members``,
        ``member_roles`` and ``groups_users``.
    """
    metadata = sa.MetaData()

    sa.Table(
        "users", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("login", sa.String(255), nullable=False, server_default=""),
        sa.Column("hashed_password", sa.String(40)),
        sa.Column("salt", sa.String(64)),
        sa.Column("firstname", sa.String(30)),
        sa.Column("lastname", sa.String(255)),
        sa.Column("admin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.Integer, nullable=False, server_default="1"),
        sa.Column("last_login_on", sa.DateTime),
        sa.Column("language", sa.String(5)),
        sa.Column("auth_source_id", sa.Integer),
        sa.Column("mail_notification", sa.String(255)),
        sa.Column("type", sa.String(255)),
        sa.Column("created_on", sa.DateTime),
        sa.Column("updated_on", sa.DateTime),
    )
    sa.Table(
        "email_addresses", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, nullable=False, index=True),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_on", sa.DateTime),
        sa.Column("updated_on", sa.DateTime),
    )
    sa.Table(
        "projects", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("homepage", sa.String(255)),
        sa.Column("is_public", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("identifier", sa.String(255)),
        sa.Column("parent_id", sa.Integer),
        sa.Column("lft", sa.Integer),
        sa.Column("rgt", sa.Integer),
        sa.Column("created_on", sa.DateTime),
        sa.Column("updated_on", sa.DateTime),
    )
    sa.Table(
        "roles", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("position", sa.Integer),
        sa.Column("builtin", sa.Integer, nullable=False, server_default="0"),
        sa.Column("issues_visibility", sa.String(30)),
        sa.Column("users_visibility", sa.String(30)),
        sa.Column("permissions", sa.Text),
    )
    sa.Table(
        "members", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer, nullable=False, index=True),
        sa.Column("project_id", sa.Integer, nullable=False, index=True),
        sa.Column("mail_notification", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_on", sa.DateTime),
    )
    sa.Table(
        "member_roles", metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.Integer, nullable=False, index=True),
        sa.Column("role_id", sa.Integer, nullable=False, index=True),
        sa.Column("inherited_from", sa.Integer),
    )
    sa.Table(
        "groups_users", metadata,
        sa.Column("group_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=False),
    )
    return metadata


def load_redmine_fixtures(engine: Engine, fixtures_dir: str | os.PathLike[str]) -> dict[str, int]:
    """Create the minimal Redmine tables and insert the rows of its YAML fixtures.

    Parameters
    ----------
    engine : sqlalchemy.engine.Engine
        The target database. It should not contain Redmine tables yet: existing
        tables are kept, and rows whose id is already there fail to insert.
    fixtures_dir : path-like
        Folder with ``users.yml``, ``email_addresses.yml``, ``projects.yml``,
        ``roles.yml``, ``members.yml``, ``member_roles.yml`` and ``groups_users.yml``.

    Returns
    -------
    dict of str to int
        Rows inserted per table.

    Raises
    ------
    FixtureError
        When a fixture file is missing, contains ERB, or names a column that the
        minimal schema lacks.
    """
    fixtures_dir = Path(fixtures_dir)
    metadata = redmine_metadata()
    rows = {name: read_fixture(metadata.tables[name], fixtures_dir / f"{name}.yml")
            for name in REDMINE_TABLES}

    metadata.create_all(engine)
    with engine.begin() as connection:
        for name in REDMINE_TABLES:
            # One statement per row: fixture rows set different columns, and a
            # column a row leaves out must get its server default, not NULL.
            for row in rows[name]:
                connection.execute(metadata.tables[name].insert().values(row))

        if engine.dialect.name == "postgresql":
            _advance_sequences(connection, metadata)

    counts = {name: len(rows[name]) for name in REDMINE_TABLES}
    logger.info("Loaded Redmine fixtures from %s into %s: %s", fixtures_dir,
                engine.url.render_as_string(hide_password=True), counts)
    return counts


def read_fixture(table: sa.Table, path: Path) -> list[dict[str, Any]]:
    """Read one fixture file into rows for ``table``, with values converted to its column types.

    Parameters
    ----------
    table : sqlalchemy.Table
        The table the rows are for.
    path : pathlib.Path
        The YAML file, a mapping of fixture label to row.

    Returns
    -------
    list of dict
        One dict per fixture row, keyed by column name, ordered by label.

    Raises
    ------
    FixtureError
        When the file is missing, contains ERB tags, is not a mapping of rows,
        or a row names a column that ``table`` lacks.
    """
    if not path.is_file():
        raise FixtureError(f"Fixture file {path} not found. Pass the folder that holds "
                           f"Redmine's test/fixtures/{table.name}.yml.")

    text = path.read_text(encoding="utf-8")
    if "<%" in text:
        # Redmine evaluates fixtures as ERB first; Ruby cannot run here.
        line = text[:text.index("<%")].count("\n") + 1
        raise FixtureError(f"{path}, line {line}: ERB tags are not supported. Replace the "
                           f"tag with the literal value it produces.")

    document = yaml.safe_load(text) or {}
    if not isinstance(document, dict):
        raise FixtureError(f"{path}: expected a mapping of fixture labels to rows, "
                           f"got {type(document).__name__}.")

    return [_convert_row(table, path, label, row) for label, row in document.items()]


def _convert_row(table: sa.Table, path: Path, label: str, row: Any) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise FixtureError(f"{path}: fixture {label!r} is not a mapping of column to value.")

    converted = {}
    for name, value in row.items():
        if name not in table.c:
            raise FixtureError(
                f"{path}: fixture {label!r} sets column {name!r}, which table {table.name!r} "
                f"lacks. Add the column to redmine_metadata() in zaikio_ops.fixtures_redmine."
            )
        converted[name] = _convert_value(table.c[name].type, value)
    return converted


def _convert_value(column_type: sa.types.TypeEngine, value: Any) -> Any:
    """Convert a YAML scalar to what the column stores; an empty value becomes NULL."""
    if value is None:
        return None
    if isinstance(column_type, sa.DateTime):
        return _utc_naive(value)
    if isinstance(column_type, sa.Boolean):
        return _boolean(value)
    if isinstance(column_type, sa.Integer):
        return None if value == "" else int(value)
    # String columns: YAML reads "hashed_password: 1" as an integer.
    return str(value)


def _utc_naive(value: Any) -> dt.datetime | None:
    if value == "":
        return None
    if isinstance(value, str):
        # Fixture timestamps such as "2006-07-19 19:12:21 +02:00" that YAML left as text.
        value = dt.datetime.fromisoformat(value.replace(" +", "+").replace(" -", "-"))
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _boolean(value: Any) -> bool | None:
    if isinstance(value, str):
        if value.strip() == "":
            return None
        return value.strip().lower() in ("1", "t", "true", "yes")
    return bool(value)


def _advance_sequences(connection: sa.Connection, metadata: sa.MetaData) -> None:
    """Move PostgreSQL id sequences past the fixture ids, so later inserts get fresh ids."""
    for table in metadata.sorted_tables:
        if "id" not in table.c:
            continue
        connection.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
        ))
