"""Connections to the app's database (SQLite, PostgreSQL, MariaDB/MySQL)."""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from zaikio_ops.errors import DatabaseError

logger = logging.getLogger(__name__)

SUPPORTED_DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb")

_DRIVER_HINTS = {
    "postgresql": "pip install 'zaikio-ops[postgres]' and use postgresql+psycopg://",
    "mysql": "pip install 'zaikio-ops[mysql]' and use mysql+pymysql://",
    "mariadb": "pip install 'zaikio-ops[mysql]' and use mysql+pymysql://",
}


def create_engine(url: str, **kwargs) -> Engine:
    """Create an SQLAlchemy engine for the app's database and check that it accepts connections.

    Parameters
    ----------
    url : str
        SQLAlchemy URL, e.g. ``sqlite:///app.db`` or ``postgresql+psycopg://user@host/db``.
    **kwargs
        Passed on to :func:`sqlalchemy.create_engine`.

    Raises
    ------
    DatabaseError
        When the URL is malformed, names an unsupported database or missing driver,
        or the server cannot be reached.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(
            f"Invalid database URL {_redact(url)!r}. Expected an SQLAlchemy URL such as "
            f"sqlite:///app.db or postgresql+psycopg://user@host/db."
        ) from None

    dialect = parsed.get_backend_name()
    if dialect == "postgres":
        raise DatabaseError(
            f"Unsupported URL scheme 'postgres' in {parsed.render_as_string(hide_password=True)}. "
            f"Use postgresql+psycopg://user@host/db."
        )
    if dialect not in SUPPORTED_DIALECTS:
        raise DatabaseError(
            f"Unsupported database {dialect!r} in {parsed.render_as_string(hide_password=True)}. "
            f"zaikio-ops supports SQLite, PostgreSQL and MariaDB/MySQL."
        )

    _require_sqlite_file(parsed)
    try:
        engine = sa.create_engine(parsed, pool_pre_ping=True, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        hint = _DRIVER_HINTS.get(dialect, "install the database driver")
        raise DatabaseError(f"No driver for {parsed.drivername!r} ({exc}). To fix: {hint}.") from None

    check_connection(engine)
    return engine


def check_connection(engine: Engine) -> None:
    """Run ``SELECT 1`` and turn a failure into a :class:`DatabaseError`."""
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except OperationalError as exc:
        safe_url = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(
            f"Could not connect to {safe_url}: {reason}. Check that the server runs and the URL "
            f"(ZAIKIO_OPS_DATABASE_URL or [database] url) is right."
        ) from None
    logger.debug("Connected to %s", engine.url.render_as_string(hide_password=True))


def _require_sqlite_file(url) -> None:
    """Raise instead of letting SQLite create an empty database for a mistyped path."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    if url.database.startswith("file:"):
        return
    if not Path(url.database).is_file():
        raise DatabaseError(
            f"SQLite database file {url.database} not found. Check the path in the database URL "
            f"(relative paths start from the working directory, {Path.cwd()})."
        )


def _redact(url: str) -> str:
    """Hide a password in a URL that SQLAlchemy could not parse."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
