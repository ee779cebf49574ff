"""Fixtures of the reconciliation tests: an app database plus a stand-in Hub on a free loopback port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reconcile_world import CLIENT_ID, CLIENT_SECRET, World, create_app_tables, fast_retry, hub_state, make_config
from zaikio_ops import schema
from zaikio_ops.config import Config
from zaikio_ops.hub import HubClient
from zaikio_ops.secret import Secret
from zaikio_ops.source import Source
from zaikio_ops.standin import HubState, running_standin


@dataclass
class Setup:
    """One test's app database, stand-in and clients."""

    config: Config
    engine: Engine
    source: Source
    state: HubState
    hub: HubClient
    base_url: str
    output_dir: Path


class SetupFactory:
    """Builds app databases and stand-ins for worlds, and stops and disposes them on :meth:`close`."""

    def __init__(self, default_url: str, output_dir: Path) -> None:
        self.default_url = default_url
        self.output_dir = output_dir
        self.stack = ExitStack()
        self.engines: list[Engine] = []

    def __call__(self, world: World, *, url: str | None = None, transport: httpx.BaseTransport | None = None,
                 **sections) -> Setup:
        target_url = url or self.default_url
        engine = sa.create_engine(target_url)
        self.engines.append(engine)
        create_app_tables(engine, world)

        state = hub_state(world)
        base_url = self.stack.enter_context(running_standin(state))
        config = make_config(target_url, base_url, str(self.output_dir), **sections)
        schema.apply(engine, config)

        hub = self.stack.enter_context(HubClient(base_url, CLIENT_ID, Secret(CLIENT_SECRET), timeout=5.0,
                                                 retry=fast_retry(), transport=transport))
        return Setup(config, engine, Source(config, engine=engine), state, hub, base_url, self.output_dir)

    def close(self) -> None:
        self.stack.close()
        for engine in self.engines:
            engine.dispose()


@pytest.fixture
def make_setup(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Setup]]:
    """Return a :class:`SetupFactory` on the backend of ``database_url`` (each test runs on all three).

    Keyword arguments go into the configuration as sections (``roles={...}``),
    ``url`` replaces the database and ``transport`` the Hub client's HTTP transport.
    """
    factory = SetupFactory(database_url, tmp_path / "out")
    yield factory
    factory.close()


@pytest.fixture
def make_sqlite_setup(tmp_path: Path) -> Iterator[Callable[..., Setup]]:
    """Return a :class:`SetupFactory` on an SQLite file, for tests of the command line and the notebook."""
    factory = SetupFactory(f"sqlite:///{tmp_path / 'app.db'}", tmp_path / "out")
    yield factory
    factory.close()
