"""Shared fixtures: a fresh database per test on each backend, the reference folder, the CLI.

``database_url`` runs a test once per backend. The PostgreSQL and MariaDB/MySQL
runs need the servers named by ``ZAIKIO_OPS_TEST_POSTGRES_URL`` and
``ZAIKIO_OPS_TEST_MYSQL_URL``. The defaults are user postgres with trust
authentication and user root with an empty password, both on 127.0.0.1. An
unreachable server fails the test instead of skipping it, so a green run means
that all three backends were exercised.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dbutil import ServerUnavailable, create_database, drop_database
from zaikio_ops.fixtures_redmine import load_redmine_fixtures

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=[
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Yield the SQLAlchemy URL of an empty database that only this test uses."""
    backend = request.param
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'app.db'}"
        return

    try:
        url = create_database(backend)
    except ServerUnavailable as exc:
        reason = str(exc)
    else:
        reason = None
    if reason:
        # Outside the except block, so the report shows the reason once, without a chained trace.
        pytest.fail(reason, pytrace=False)

    try:
        yield url.render_as_string(hide_password=False)
    finally:
        drop_database(backend, url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Yield an engine on ``database_url``, disposed before the database is dropped."""
    created = sa.create_engine(database_url)
    yield created
    created.dispose()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Return the shared reference folder: ``$ZAIKIO_OPS_SHARED`` or ``../shared`` next to the repository."""
    configured = os.environ.get("ZAIKIO_OPS_SHARED")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared"
    if not path.is_dir():
        pytest.fail(
            f"Shared reference folder {path} not found. Set ZAIKIO_OPS_SHARED to the folder "
            f"that holds fixtures/redmine/ and reference/zaikio/.",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def redmine_fixtures_dir(shared_dir: Path) -> Path:
    """Return the folder with Redmine's YAML test fixtures."""
    path = shared_dir / "fixtures" / "redmine"
    if not (path / "users.yml").is_file():
        pytest.fail(f"Redmine fixtures not found in {path} (no users.yml).", pytrace=False)
    return path


@pytest.fixture
def redmine_url(engine: Engine, database_url: str, redmine_fixtures_dir: Path) -> str:
    """Return the URL of a fresh database loaded with the Redmine fixtures."""
    load_redmine_fixtures(engine, redmine_fixtures_dir)
    engine.dispose()
    return database_url


@pytest.fixture(scope="session")
def zaikio_ops_command() -> list[str]:
    """Return the argv prefix that runs the installed ``zaikio-ops`` command."""
    script = Path(sys.executable).with_name("zaikio-ops")
    if not script.is_file():
        pytest.fail(f"{script} not found. Install the package into this environment: "
                    f"pip install -e '.[dev]'.", pytrace=False)
    return [str(script)]


@pytest.fixture
def run_cli(zaikio_ops_command: list[str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Return a function that runs ``zaikio-ops ARGS`` from the repository root and captures its output."""

    def run(*args: str, env: Mapping[str, str] | None = None,
            cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
        environment = dict(os.environ)
        # The caller's own settings must not leak into the command under test.
        environment.pop("ZAIKIO_OPS_DATABASE_URL", None)
        environment.pop("ZAIKIO_OPS_CONFIG", None)
        environment.update(env or {})
        return subprocess.run(
            [*zaikio_ops_command, *args], cwd=cwd, env=environment,
            capture_output=True, text=True, timeout=120, check=False,
        )

    return run
