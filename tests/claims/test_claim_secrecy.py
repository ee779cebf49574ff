"""Every claim outcome lands in the event log, and no token lands in events, logs or exceptions.

Each test runs a mixed session of two successful claims and four kinds of
rejection. Every log record is captured at DEBUG, including uvicorn's access log
and the request logs of httpx and httpcore. The tests then search the event rows
and the records for each claim token, each app-style OAuth state and each link.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from claims_testkit import (
    ClaimSetup,
    attempt_claim,
    complete_claim,
    events,
    link_of,
    offered_team_links,
    random_token,
    team_uuid,
    token_of,
)
from zaikio_ops.claims import generate_person_claims, inspect_token, revoke
from zaikio_ops.claims.errors import TokenUsed
from zaikio_ops.demo_flow import follow_claim_link
from zaikio_ops.web.app import STATE_COOKIE

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
# httpcore logs raw response headers (Location, Set-Cookie) at DEBUG from these child loggers.
HTTPCORE_PREFIX = "httpcore."


@pytest.fixture
def all_records(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every record at DEBUG, also from uvicorn's loggers, which do not propagate."""
    caplog.set_level(logging.DEBUG)
    for name in UVICORN_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
        logging.getLogger(name).addHandler(caplog.handler)
    yield caplog
    for name in UVICORN_LOGGERS:
        logging.getLogger(name).removeHandler(caplog.handler)


def record_texts(records: list[logging.LogRecord]) -> list[str]:
    texts = []
    for record in records:
        texts.append(record.getMessage())
        texts.append(repr(record.args))
        texts.append(record.exc_text or "")
    return texts


def claim_states(browser: httpx.Client) -> list[str]:
    return [cookie.value for cookie in browser.cookies.jar if cookie.name == STATE_COOKIE]


def leaked(secrets: list[str], texts: list[str]) -> list[str]:
    return [secret for secret in secrets if any(secret in text for text in texts)]


def run_session(setup: ClaimSetup, browser: httpx.Client) -> list[str]:
    """Run two claims and four rejections; return every secret the session handled."""
    links = generate_person_claims(setup.config)
    person_page = complete_claim(browser, link_of(links, 1), setup.link_style, "anna@example.com")
    offers = offered_team_links(person_page.text)
    complete_claim(browser, offers[0], setup.link_style, "anna@example.com", team_uuid(10))

    revoke(setup.config, person_id="3")
    forged = f"{setup.service_url}/claims/{random_token()}"
    with httpx.Client(timeout=10.0) as other:
        attempt_claim(other, link_of(links, 3), setup.link_style, "carla@example.com")
        other.get(forged)
        attempt_claim(other, link_of(links, 2), setup.link_style, "frieda@example.com")
        attempt_claim(other, link_of(links, 1), setup.link_style, "anna@example.com")
        states = claim_states(other)

    states += claim_states(browser)
    plain_links = [row.link.reveal() for row in links.rows.itertuples()] + offers + [forged]
    return [token_of(link) for link in plain_links] + plain_links + states


@pytest.mark.parametrize("link_style", ["app", "hub"])
def test_outcomes_in_event_log(claim_setup: ClaimSetup, browser: httpx.Client,
                               all_records: pytest.LogCaptureFixture) -> None:
    run_session(claim_setup, browser)

    rows = events(claim_setup.engine)
    redeemed = [(row["subject_type"], row["subject_id"]) for row in rows if row["kind"] == "claim.redeemed"]
    rejected = sorted(json.loads(row["detail"])["reason"] for row in rows if row["kind"] == "claim.rejected")
    assert redeemed == [("person", "1"), ("organization", "10")]
    assert rejected == ["already_mapped", "already_used", "not_found", "revoked"]


@pytest.mark.parametrize("link_style", ["app", "hub"])
def test_no_secret_in_events(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    secrets = run_session(claim_setup, browser)
    event_texts = [str(value) for row in events(claim_setup.engine) for value in row.values()]

    assert len(secrets) >= 20
    assert leaked(secrets, event_texts) == []


@pytest.mark.parametrize("link_style", ["app", "hub"])
def test_no_secret_in_logs(claim_setup: ClaimSetup, browser: httpx.Client,
                           all_records: pytest.LogCaptureFixture) -> None:
    secrets = run_session(claim_setup, browser)
    records = [record for record in all_records.records if not record.name.startswith(HTTPCORE_PREFIX)]

    assert any(record.name == "uvicorn.access" for record in records)
    assert any(record.name == "httpx" for record in records)
    assert any(record.name.startswith("zaikio_ops.") for record in records)
    assert leaked(secrets, record_texts(records)) == []


@pytest.mark.parametrize("link_style", ["app", "hub"])
def test_no_secret_in_httpcore_debug(claim_setup: ClaimSetup, browser: httpx.Client,
                                     all_records: pytest.LogCaptureFixture) -> None:
    secrets = run_session(claim_setup, browser)
    records = [record for record in all_records.records if record.name.startswith(HTTPCORE_PREFIX)]

    assert records != []
    assert leaked(secrets, record_texts(records)) == []


def test_no_token_in_exception(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    links = generate_person_claims(claim_setup.config)
    link = link_of(links, 2)
    follow_claim_link(browser, link, "ben@example.com")

    with pytest.raises(TokenUsed) as caught:
        inspect_token(claim_setup.engine, token_of(link))

    assert token_of(link) not in str(caught.value)
    assert token_of(link) not in repr(caught.value)
