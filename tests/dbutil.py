"""Throwaway databases on the test PostgreSQL and MariaDB/MySQL servers.

Each test that needs a server database gets its own, named ``zo_test_<hex>``,
so tests never see each other's tables and a crashed run leaves nothing that a
later run reads.
"""

from __future__ import annotations

import logging
import os
import uuid

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

logger = logging.getLogger(__name__)

SERVER_URLS = {
    "postgresql": ("ZAIKIO_OPS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
    "mysql": ("ZAIKIO_OPS_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
}


class ServerUnavailable(RuntimeError):
    """The test database server could not be reached or refused to create a database."""


def server_url(backend: str) -> URL:
    """Return the administrative URL of the test server for ``backend``, from the environment or the default."""
    variable, default = SERVER_URLS[backend]
    return make_url(os.environ.get(variable) or default)


def create_database(backend: str) -> URL:
    """Create an empty database with a random name on the test server and return its URL.

    Raises
    ------
    ServerUnavailable
        When the server refuses the connection or rejects ``CREATE DATABASE``.
    """
    admin_url = server_url(backend)
    name = f"zo_test_{uuid.uuid4().hex[:12]}"
    _execute(backend, admin_url, f"CREATE DATABASE {name}")
    logger.debug("Created test database %s on %s", name, _safe(admin_url))
    return admin_url.set(database=name)


def drop_database(backend: str, url: URL) -> None:
    """Drop a database made by :func:`create_database`, closing connections still open on it."""
    admin_url = server_url(backend)
    if backend == "postgresql":
        statement = f"DROP DATABASE IF EXISTS {url.database} WITH (FORCE)"
    else:
        statement = f"DROP DATABASE IF EXISTS {url.database}"
    _execute(backend, admin_url, statement)


def _execute(backend: str, admin_url: URL, statement: str) -> None:
    engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(statement))
    except DBAPIError as exc:
        variable = SERVER_URLS[backend][0]
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ServerUnavailable(
            f"{statement!r} failed on the {backend} test server {_safe(admin_url)}: {reason}. "
            f"Start the server or point {variable} at one where this user may create databases."
        ) from None
    finally:
        engine.dispose()


def _safe(url: URL) -> str:
    return url.render_as_string(hide_password=True)
