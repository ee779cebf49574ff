"""Fixtures for the Hub client and stand-in tests.

``standin_hub`` runs a seeded stand-in on a free loopback port (uvicorn in a
background thread) and stops it at teardown. ``shared_dir`` finds the reference
material in ``<repo>/../shared`` (or ``$ZAIKIO_OPS_SHARED``) and fails the test
when it is missing, so fidelity tests never pass by skipping.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import yaml

from hub_testdata import StandinHub, fast_retry, seed_data
from zaikio_ops.hub import HubClient
from zaikio_ops.standin import HubState, running_standin, seed_from_dict

REPO_ROOT = Path(__file__).resolve().parents[2]

@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """Return the shared reference directory; fail with instructions when it is missing."""
    override = os.environ.get("ZAIKIO_OPS_SHARED")
    path = Path(override) if override else (REPO_ROOT / ".." / "shared").resolve()
    marker = path / "reference" / "zaikio"

    if not marker.is_dir():
        pytest.fail(f"Reference material not found at {marker}. Place the shared directory next to the "
                    "repository or set ZAIKIO_OPS_SHARED to its path.", pytrace=False)
    return path


class _RecordingLoader(yaml.SafeLoader):
    """YAML loader that understands the ``!binary`` tag of recorded HTTP interactions."""


_RecordingLoader.add_constructor(
    "!binary", lambda loader, node: base64.b64decode(loader.construct_scalar(node)).decode("utf-8")
)


@pytest.fixture(scope="session")
def recorded_interactions(shared_dir: Path) -> list[dict[str, Any]]:
    """Return every recorded HTTP interaction with its file name."""
    interactions = []
    for path in sorted((shared_dir / "reference" / "zaikio" / "recorded").glob("*.yml")):
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_RecordingLoader)
        for item in document["http_interactions"]:
            interactions.append({**item, "file": path.name})

    if not interactions:
        pytest.fail(f"No recorded interactions under {shared_dir}/reference/zaikio/recorded.", pytrace=False)
    return interactions


@pytest.fixture(scope="session")
def openapi_spec(shared_dir: Path) -> dict[str, Any]:
    """Return the Hub's OpenAPI document."""
    return json.loads((shared_dir / "reference" / "zaikio" / "hub-openapi-2020-01-25.json").read_text())


@pytest.fixture
def standin_state() -> HubState:
    """Return a freshly seeded stand-in state (not yet served)."""
    return seed_from_dict(seed_data())


@pytest.fixture
def standin_hub(standin_state: HubState) -> Iterator[StandinHub]:
    """Serve the seeded state on a free loopback port for one test."""
    with running_standin(standin_state) as base_url:
        yield StandinHub(base_url=base_url, state=standin_state)


@pytest.fixture
def hub_client(standin_hub: StandinHub) -> Iterator[HubClient]:
    """Return a client for the running stand-in's confidential app."""
    with HubClient(standin_hub.base_url, standin_hub.client_id, standin_hub.client_secret, timeout=5.0,
                   retry=fast_retry()) as client:
        yield client


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    """Return an httpx client with its own cookie jar, playing the user's browser."""
    with httpx.Client(timeout=5.0) as client:
        yield client
