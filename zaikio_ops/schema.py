"""The schema step: Zaikio UUID columns on the app's tables, and the kit's own tables.

:func:`plan` renders the DDL that is still missing as SQL text for the app's
database (Alembic in offline mode), :func:`apply` runs the same operations, and
:func:`check` lists what is missing. Each looks at the live database first, so
a second ``apply`` does nothing. PostgreSQL and SQLite run the DDL in one
transaction; MariaDB/MySQL commit each DDL statement on its own, so a failed
``apply`` there can leave part of it done, and running ``apply`` again finishes it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.engine import Engine

from zaikio_ops.config import Config, EntityMapping
from zaikio_ops.errors import ConfigError, DatabaseError
from zaikio_ops.store import KIT_TABLES

logger = logging.getLogger(__name__)

UUID_LENGTH = 36
MAX_INDEX_NAME = 60


@dataclass(frozen=True)
class SchemaChange:
    """One missing piece of schema and the Alembic operation that adds it."""

    description: str
    run: Callable[[Operations], None]


@dataclass(frozen=True)
class ZaikioColumn:
    """The location of a Zaikio UUID in the app: table, its key column and the UUID column."""

    entity: str
    schema: str | None
    table: str
    id_column: str
    column: str

    @property
    def index_name(self) -> str:
        """Name of the unique index on the UUID column, within every dialect's length limit."""
        return f"ux_{self.table}_{self.column}"[:MAX_INDEX_NAME]


def zaikio_column(config: Config, entity: str) -> ZaikioColumn:
    """Return where the Zaikio UUID of ``persons`` or ``organizations`` is stored.

    Raises
    ------
    ConfigError
        When the mapping names no table or no UUID column to write.
    """
    mapping: EntityMapping = config.mapping(entity)
    canonical = "zaikio_person_id" if entity == "persons" else "zaikio_organization_id"
    key = "person_id" if entity == "persons" else "organization_id"
    if not mapping.table:
        raise ConfigError(
            f"{config.where(mapping.key + '.table')}: missing. A query mapping also needs the table "
            f"that holds the Zaikio UUID, e.g. table = \"users\"."
        )
    column = mapping.columns.get(canonical)
    id_column = mapping.columns.get(key)
    if not column or not id_column:
        missing = canonical if not column else key
        raise ConfigError(
            f"{config.where(mapping.key + '.columns.' + missing)}: missing. Name the column of "
            f"{mapping.table!r} that {'stores the Zaikio UUID' if missing == canonical else 'is its primary key'}, "
            f"e.g. {missing} = \"{'zaikio_id' if missing == canonical else 'id'}\"."
        )
    schema, _, table = mapping.table.rpartition(".")
    return ZaikioColumn(entity, schema or None, table, id_column, column)


def missing_changes(engine: Engine, config: Config) -> list[SchemaChange]:
    """Compare the live database with what the kit needs and list the missing pieces."""
    inspector = sa.inspect(engine)
    changes: list[SchemaChange] = []
    for entity in ("persons", "organizations"):
        changes += _uuid_column_changes(inspector, zaikio_column(config, entity))
    existing = set(inspector.get_table_names())
    for table in KIT_TABLES:
        if table.name not in existing:
            changes.append(SchemaChange(f"create table {table.name}", _creator(table)))
    return changes


def plan(engine: Engine, config: Config) -> str:
    """Render the missing DDL as SQL text for the database's dialect, without running it."""
    changes = missing_changes(engine, config)
    if not changes:
        return f"-- {engine.dialect.name}: the schema is complete; nothing to do.\n"

    buffer = io.StringIO()
    context = MigrationContext.configure(
        dialect_name=engine.dialect.name,
        opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True},
    )
    operations = Operations(context)
    for change in changes:
        buffer.write(f"\n-- {change.description}\n")
        change.run(operations)
    return f"-- DDL for {engine.dialect.name}, {len(changes)} change(s)\n" + buffer.getvalue()


def apply(engine: Engine, config: Config) -> list[str]:
    """Run the missing DDL and return the descriptions of what was done.

    Raises
    ------
    DatabaseError
        When the database rejects a statement; the message names the change.
    """
    changes = missing_changes(engine, config)
    done: list[str] = []
    with engine.begin() as connection:
        operations = Operations(MigrationContext.configure(connection))
        for change in changes:
            try:
                change.run(operations)
            except sa.exc.DBAPIError as exc:
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                if "unique index" in change.description:
                    reason += (". A Zaikio UUID that appears on several rows blocks the unique index: "
                               "'zaikio-ops audit' lists them as zaikio_*_id_shared findings")
                raise DatabaseError(
                    f"Schema change '{change.description}' failed: {reason}. Nothing after it ran"
                    f"{'' if engine.dialect.name != 'mysql' else ' (MariaDB/MySQL kept the statements before it)'}; "
                    f"fix the cause and run 'zaikio-ops schema apply' again."
                ) from None
            logger.info("Schema: %s", change.description)
            done.append(change.description)
    return done


def check(engine: Engine, config: Config) -> list[str]:
    """Return the descriptions of the missing pieces; an empty list means complete."""
    return [change.description for change in missing_changes(engine, config)]


def require_kit_tables(engine: Engine) -> None:
    """Raise :class:`DatabaseError` unless the kit's own tables exist in the database."""
    existing = set(sa.inspect(engine).get_table_names())
    missing = [table.name for table in KIT_TABLES if table.name not in existing]
    if missing:
        raise DatabaseError(
            f"The kit's tables are missing in {engine.url.render_as_string(hide_password=True)} "
            f"({', '.join(missing)}). Run 'zaikio-ops schema plan' to review and "
            f"'zaikio-ops schema apply' to create them."
        )


def _uuid_column_changes(inspector, target: ZaikioColumn) -> list[SchemaChange]:
    if not inspector.has_table(target.table, schema=target.schema):
        raise ConfigError(
            f"schema.{target.entity}.table: table {target.table!r} does not exist in the database."
        )
    columns = {column["name"] for column in inspector.get_columns(target.table, schema=target.schema)}
    changes = []
    if target.column not in columns:
        changes.append(SchemaChange(
            f"add column {target.table}.{target.column} (Zaikio UUID, nullable)",
            lambda operations: operations.add_column(
                target.table, sa.Column(target.column, sa.String(UUID_LENGTH), nullable=True),
                schema=target.schema),
        ))
    if not _has_unique_index(inspector, target, columns):
        changes.append(SchemaChange(
            f"create unique index {target.index_name} on {target.table}({target.column})",
            lambda operations: operations.create_index(
                target.index_name, target.table, [target.column], unique=True, schema=target.schema),
        ))
    return changes


def _has_unique_index(inspector, target: ZaikioColumn, columns: set[str]) -> bool:
    if target.column not in columns:
        return False
    for index in inspector.get_indexes(target.table, schema=target.schema):
        if index.get("unique") and index["column_names"] == [target.column]:
            return True
    for constraint in inspector.get_unique_constraints(target.table, schema=target.schema):
        if constraint["column_names"] == [target.column]:
            return True
    return False


def _creator(table: sa.Table) -> Callable[[Operations], None]:
    def create(operations: Operations) -> None:
        columns = [sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable,
                             autoincrement=c.autoincrement) for c in table.columns]
        foreign_keys = [
            sa.ForeignKeyConstraint([e.parent.name for e in fk.elements],
                                    [e.target_fullname for e in fk.elements])
            for fk in table.foreign_key_constraints
        ]
        operations.create_table(table.name, *columns, *foreign_keys)
        for index in sorted(table.indexes, key=lambda item: item.name):
            operations.create_index(index.name, table.name, [c.name for c in index.columns],
                                    unique=bool(index.unique))

    return create
