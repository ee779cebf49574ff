"""Reading the app's persons, organizations and memberships as canonical data.

A :class:`Source` turns each configured mapping (a table with column names, or a
SELECT) into an SQLAlchemy subquery whose columns have the kit's canonical
names. The audit and later jobs build their aggregates on these subqueries, so
the database does the counting; rows are fetched in chunks where a whole table
is needed.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterator, Sequence

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, NoSuchTableError

from zaikio_ops.config import CANONICAL_COLUMNS, REQUIRED_COLUMNS, Config, EntityMapping
from zaikio_ops.db import create_engine
from zaikio_ops.errors import SourceError

logger = logging.getLogger(__name__)

ENTITIES = ("persons", "organizations", "memberships")
ID_COLUMNS = ("person_id", "organization_id", "zaikio_person_id", "zaikio_organization_id")
ZAIKIO_COLUMNS = ("zaikio_person_id", "zaikio_organization_id")


class Source:
    """The app's data, read through the configured schema mapping.

    Parameters
    ----------
    config : Config
        The validated configuration.
    engine : Engine, optional
        An engine to reuse; by default one is created from ``config.database_url``.
    """

    def __init__(self, config: Config, engine: Engine | None = None) -> None:
        self.config = config
        self.engine = engine if engine is not None else create_engine(config.database_url)
        self._selectables: dict[str, sa.Subquery] = {}

    def check(self) -> None:
        """Build every mapping once, so a wrong table or column is reported before any work."""
        for entity in ENTITIES:
            self.selectable(entity)

    def selectable(self, entity: str) -> sa.Subquery:
        """Return a subquery with the canonical columns of ``entity``.

        Raises
        ------
        SourceError
            When a mapped table or column does not exist, or the query fails.
        """
        if entity not in self._selectables:
            mapping = self.config.mapping(entity)
            if mapping.query:
                built = self._from_query(mapping)
            else:
                built = self._from_table(mapping)
            self._selectables[entity] = built.subquery(f"{entity}_src")
        return self._selectables[entity]

    def read(self, entity: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Read all rows of ``entity`` into one DataFrame with canonical columns."""
        frames = list(self.iter_chunks(entity, columns=columns))
        if not frames:
            return _empty_frame(columns or CANONICAL_COLUMNS[entity])
        return pd.concat(frames, ignore_index=True)

    def iter_chunks(self, entity: str, columns: Sequence[str] | None = None,
                    chunksize: int = 50_000) -> Iterator[pd.DataFrame]:
        """Yield the rows of ``entity`` as DataFrames of at most ``chunksize`` rows."""
        subquery = self.selectable(entity)
        names = list(columns or CANONICAL_COLUMNS[entity])
        statement = sa.select(*(subquery.c[name] for name in names))
        with self.engine.connect() as connection:
            result = connection.execution_options(stream_results=True).execute(statement)
            while rows := result.fetchmany(chunksize):
                yield normalize_frame(pd.DataFrame(rows, columns=names))

    def _from_table(self, mapping: EntityMapping) -> sa.Select:
        table = self._reflect(mapping)
        selected = []
        for canonical in CANONICAL_COLUMNS[mapping.entity]:
            name = mapping.columns.get(canonical)
            if name is None:
                selected.append(_default_column(canonical))
                continue
            if name not in table.c and canonical in ZAIKIO_COLUMNS:
                # Before the schema step the UUID column does not exist yet: every row is unmapped.
                logger.warning("%s: column %r does not exist in table %r yet, so every row reads as "
                               "unmapped. 'zaikio-ops schema apply' adds it.",
                               self.config.where(f"{mapping.key}.columns.{canonical}"), name, table.name)
                selected.append(_default_column(canonical))
                continue
            if name not in table.c:
                raise _missing_column(self.config.where(f"{mapping.key}.columns.{canonical}"),
                                      name, list(table.c.keys()), table.name)
            column = table.c[name]
            if canonical == "active" and mapping.active_values:
                column = sa.case((column.in_(mapping.active_values), sa.true()), else_=sa.false())
            selected.append(column.label(canonical))

        statement = sa.select(*selected).select_from(table)
        if mapping.where:
            statement = statement.where(sa.text(mapping.where))
        return statement

    def _reflect(self, mapping: EntityMapping) -> sa.Table:
        schema, _, name = mapping.table.rpartition(".")
        try:
            return sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=self.engine)
        except NoSuchTableError:
            existing = sa.inspect(self.engine).get_table_names(schema=schema or None)
            hint = difflib.get_close_matches(name, existing, n=1)
            suggestion = f" Did you mean '{hint[0]}'?" if hint else ""
            raise SourceError(
                f"{self.config.where(mapping.key + '.table')}: table {mapping.table!r} does not "
                f"exist in {self._safe_url()}.{suggestion} Tables there: {_listing(existing)}."
            ) from None

    def _from_query(self, mapping: EntityMapping) -> sa.Select:
        returned = self._query_columns(mapping)
        missing = [c for c in REQUIRED_COLUMNS[mapping.entity] if c not in returned]
        if missing:
            raise SourceError(
                f"{self.config.where(mapping.key + '.query')}: the query returns no column "
                f"{', '.join(missing)} (it returns {_listing(returned)}). Alias the app's column, "
                f"e.g. 'SELECT id AS {missing[0]} ...'. Query: {mapping.query.strip()}"
            )

        text = sa.text(mapping.query).columns(*(sa.column(name) for name in returned))
        inner = text.subquery(f"{mapping.entity}_query")
        selected = []
        for canonical in CANONICAL_COLUMNS[mapping.entity]:
            if canonical in returned:
                selected.append(inner.c[canonical])
            else:
                selected.append(_default_column(canonical))
        return sa.select(*selected).select_from(inner)

    def _query_columns(self, mapping: EntityMapping) -> list[str]:
        probe = sa.text(f"SELECT * FROM ({mapping.query}) AS probe WHERE 1 = 0")
        try:
            with self.engine.connect() as connection:
                return list(connection.execute(probe).keys())
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise SourceError(
                f"{self.config.where(mapping.key + '.query')}: the query failed on "
                f"{self._safe_url()}: {reason}. Query: {mapping.query.strip()}"
            ) from None

    def _safe_url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Source({self._safe_url()!r})"


def normalize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Give canonical columns stable types across databases.

    Identifiers become strings (so ``7`` and ``"7"`` join, and exports keep
    leading zeros), ``active`` becomes a boolean, and ``last_login_at`` a
    timezone-naive UTC timestamp.
    """
    for name in ID_COLUMNS:
        if name in frame:
            frame[name] = frame[name].map(_identifier, na_action="ignore").astype("string")
    if "active" in frame:
        frame["active"] = frame["active"].map(_truthy).astype(bool)
    if "last_login_at" in frame:
        frame["last_login_at"] = _timestamps(frame["last_login_at"])
    for name in ("email", "first_name", "last_name", "locale", "name", "role"):
        if name in frame:
            frame[name] = frame[name].astype("string")
    return frame


# German-style dates (31.12.2024, optionally with a time) are day-first; pandas alone reads them month-first.
_DOTTED_DATE = re.compile(r"^\s*\d{1,2}\.\d{1,2}\.\d{4}")


def _timestamps(values: pd.Series) -> pd.Series:
    """Parse timestamps in any mix of formats (text columns often mix dates and date-times)."""
    stamps = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    dotted = values.map(lambda value: isinstance(value, str) and _DOTTED_DATE.match(value) is not None)
    if dotted.any():
        stamps[dotted] = pd.to_datetime(values[dotted], errors="coerce", utc=True, format="mixed",
                                        dayfirst=True)
    unparsed = int((stamps.isna() & values.notna()).sum())
    if unparsed:
        examples = values[stamps.isna() & values.notna()].astype(str).head(3).tolist()
        logger.warning("%d last_login_at value(s) are not timestamps and read as NULL, e.g. %s",
                       unparsed, examples)
    return stamps.dt.tz_localize(None)


def _identifier(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _truthy(value: object) -> bool:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return True
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "f", "no", "n", "")
    return bool(value)


def _default_column(canonical: str) -> sa.Label:
    if canonical == "active":
        return sa.true().label(canonical)
    return sa.null().label(canonical)


def _missing_column(location: str, name: str, existing: list[str], table: str) -> SourceError:
    hint = difflib.get_close_matches(name, existing, n=1)
    suggestion = f" Did you mean '{hint[0]}'?" if hint else ""
    if location.endswith(("zaikio_person_id", "zaikio_organization_id")):
        suggestion += (" The Zaikio UUID columns are added by the schema step: review it with "
                       "'zaikio-ops schema plan' and run 'zaikio-ops schema apply'.")
    return SourceError(
        f"{location}: column {name!r} does not exist in table "
        f"{table!r}.{suggestion} Columns there: {_listing(existing)}. "
        f"Query: SELECT {name} FROM {table}"
    )


def _listing(names: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", … ({len(names) - limit} more)" if len(names) > limit else "") or "(none)"


def _empty_frame(columns: Sequence[str]) -> pd.DataFrame:
    return normalize_frame(pd.DataFrame({name: pd.Series(dtype="object") for name in columns}))
