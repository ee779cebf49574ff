"""Two browsers redeem the same claim token at the same moment: exactly one mapping, every time.

The race is decided in the database (a conditional UPDATE of the token and a
unique index on the Zaikio column), so the Hub is an ``httpx.MockTransport``
that returns a valid token response for every code exchange. Its bearer id
is derived from the code, so both racers of one round get the same id. The
mock holds each exchange until both racers of the round have reached it, so
both have passed the token check and the loser is stopped by the write itself.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import httpx
import pytest
import sqlalchemy as sa

from claims_testkit import CLIENT_ID, CLIENT_SECRET, app_config, create_app_tables, token_of, zaikio_ids
from zaikio_ops import schema
from zaikio_ops.claims import generate_person_claims, redeem
from zaikio_ops.claims.errors import AlreadyMapped, TokenUsed
from zaikio_ops.hub import HubClient
from zaikio_ops.secret import Secret
from zaikio_ops.source import Source

pytestmark = pytest.mark.slow

ROUNDS = 200
FIRST_PERSON = 1001
RACE_NAMESPACE = uuid.UUID("9a3e3f4c-3c1e-4d1b-8a51-5f0b7c1d2e3f")
LOOPBACK = "http://127.0.0.1:9"


def bearer_for(code: str) -> str:
    """Return the Zaikio person id the mock Hub signs in for ``code``."""
    return str(uuid.uuid5(RACE_NAMESPACE, code))


class MockHub:
    """Return token responses once both racers of the current round have sent their code exchange."""

    def __init__(self) -> None:
        self.exchange_barrier = threading.Barrier(2)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.exchange_barrier.wait(timeout=10)
        return token_response(request)


def token_response(request: httpx.Request) -> httpx.Response:
    form = parse_qs(request.content.decode())
    code = form["code"][0]
    return httpx.Response(200, json={
        "access_token": "header.payload.signature", "token_type": "bearer", "refresh_token": "r",
        "scope": "zaikio.person.r", "audiences": ["claims_tests"], "expires_in": 3600,
        "bearer": {"id": bearer_for(code), "type": "Person"},
    })


def race_people() -> list[tuple]:
    return [(FIRST_PERSON + i, f"racer{i}@example.com", "Racer", str(i), "en", True) for i in range(ROUNDS)]


def race_once(pool: ThreadPoolExecutor, hub: MockHub, attempt, token: str, code: str) -> list[str]:
    barrier = threading.Barrier(2)
    hub.exchange_barrier = threading.Barrier(2)
    futures = [pool.submit(attempt, barrier, slot, token, code) for slot in (0, 1)]
    return sorted(future.result() for future in futures)


def test_redeem_race_one_mapping(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    create_app_tables(engine, race_people())
    config = app_config(database_url, link_style="hub", service_url=LOOPBACK, hub_url=LOOPBACK)
    schema.apply(engine, config)
    source = Source(config)
    rows = generate_person_claims(config, source=source).rows
    tokens = {int(row.subject_id): token_of(row.link.reveal()) for row in rows.itertuples()}
    mock_hub = MockHub()
    hubs = [HubClient(LOOPBACK, CLIENT_ID, Secret(CLIENT_SECRET), transport=httpx.MockTransport(mock_hub))
            for _ in (0, 1)]
    leaks: list[str] = []

    def attempt(barrier: threading.Barrier, slot: int, token: str, code: str) -> str:
        barrier.wait()
        try:
            redeem(config, source, hubs[slot], state=token, code=code)
        except (TokenUsed, AlreadyMapped) as exc:
            if token in str(exc) or token in repr(exc):
                leaks.append(type(exc).__name__)
            return exc.reason
        return "redeemed"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = [race_once(pool, mock_hub, attempt, token, f"code-{person}") for person, token in tokens.items()]

    mapped = zaikio_ids(engine, "people")
    with engine.connect() as connection:
        used = connection.execute(sa.text(
            "SELECT count(*) FROM zaikio_ops_claim_tokens WHERE used_at IS NOT NULL")).scalar_one()
        redeemed_events = connection.execute(sa.text(
            "SELECT count(*) FROM zaikio_ops_events WHERE kind = 'claim.redeemed'")).scalar_one()
    source.engine.dispose()
    engine.dispose()

    assert sorted(tokens) == [FIRST_PERSON + i for i in range(ROUNDS)]
    assert [outcome for outcome in outcomes if outcome[1] != "redeemed"] == []
    assert {outcome[0] for outcome in outcomes} <= {"already_used", "already_mapped"}
    assert [person for person in tokens if mapped[person] != bearer_for(f"code-{person}")] == []
    assert len(set(mapped.values())) == len(mapped)
    assert used == ROUNDS
    assert redeemed_events == ROUNDS
    assert leaks == []
