"""Rejected claims through the real claim service: a clear page, a 4xx status, and nothing changed.

Each test records the app's Zaikio columns and the number of used tokens
before the bad request and compares them afterwards. The expected page texts
are written out here rather than taken from ``zaikio_ops.web.pages``.
"""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from claims_testkit import (
    ClaimSetup,
    app_snapshot,
    attempt_claim,
    complete_claim,
    events,
    link_of,
    offered_team_links,
    person_uuid,
    random_token,
    team_uuid,
    token_of,
    used_tokens,
)
from zaikio_ops.claims import generate_person_claims, revoke
from zaikio_ops.standin.browser import authorize_as
from zaikio_ops.store import utcnow

BOTH_STYLES = pytest.mark.parametrize("link_style", ["app", "hub"])

EXPIRED = "This link has expired. Please ask support for a new one."
ALREADY_USED = "This link was used already; the account is connected."
REVOKED = "This link was revoked. Please ask support for a new one."
NOT_FOUND = "This link is not known. Please check that you opened the whole link."
WRONG_KIND = "The wrong kind of account was chosen at Zaikio"
ALREADY_MAPPED = "This Zaikio account is already connected to another account."
NOT_OWNER = "Only owners or admins of the organization at Zaikio can connect it."
HUB_ERROR = "Zaikio cancelled or refused the sign-in."
STATE_MISMATCH = "The sign-in was started in another browser or has timed out."
NOTHING_CHANGED = "Nothing was changed."


def with_query(url: str, **changes: str) -> str:
    """Return ``url`` with the given query parameters replaced."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def rejection_reasons(setup: ClaimSetup) -> list[str]:
    return [json.loads(event["detail"])["reason"] for event in events(setup.engine)
            if event["kind"] == "claim.rejected"]


def assert_rejected(page: httpx.Response, status: int, text: str) -> None:
    assert page.status_code == status
    assert text in page.text
    assert NOTHING_CHANGED in page.text


@BOTH_STYLES
def test_expired_link_rejected(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    links = generate_person_claims(claim_setup.config, now=utcnow() - timedelta(days=30))
    before = app_snapshot(claim_setup.engine)

    page = attempt_claim(browser, link_of(links, 2), claim_setup.link_style, "ben@example.com")

    assert_rejected(page, 400, EXPIRED)
    assert app_snapshot(claim_setup.engine) == before
    assert used_tokens(claim_setup.engine) == 0
    assert rejection_reasons(claim_setup) == ["expired"]


@BOTH_STYLES
def test_reused_link_rejected(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    links = generate_person_claims(claim_setup.config)
    link = link_of(links, 2)
    complete_claim(browser, link, claim_setup.link_style, "ben@example.com")
    before = app_snapshot(claim_setup.engine)

    with httpx.Client(timeout=10.0) as second_browser:
        page = attempt_claim(second_browser, link, claim_setup.link_style, "ben@example.com")

    assert_rejected(page, 409, ALREADY_USED)
    assert app_snapshot(claim_setup.engine) == before
    assert used_tokens(claim_setup.engine) == 1
    assert rejection_reasons(claim_setup) == ["already_used"]


@BOTH_STYLES
def test_revoked_link_rejected(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    links = generate_person_claims(claim_setup.config)
    assert revoke(claim_setup.config, person_id="2") == 1
    before = app_snapshot(claim_setup.engine)

    page = attempt_claim(browser, link_of(links, 2), claim_setup.link_style, "ben@example.com")

    assert_rejected(page, 400, REVOKED)
    assert app_snapshot(claim_setup.engine) == before
    assert used_tokens(claim_setup.engine) == 0
    assert rejection_reasons(claim_setup) == ["revoked"]
    rejected = [event for event in events(claim_setup.engine) if event["kind"] == "claim.rejected"]
    assert [event["subject_id"] for event in rejected] == ["2"]


@BOTH_STYLES
def test_forged_link_rejected(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    links = generate_person_claims(claim_setup.config)
    real = link_of(links, 2)
    if claim_setup.link_style == "app":
        forged = f"{claim_setup.service_url}/claims/{random_token()}"
    else:
        forged = with_query(real, state=random_token())
    before = app_snapshot(claim_setup.engine)

    page = attempt_claim(browser, forged, claim_setup.link_style, "ben@example.com")

    assert_rejected(page, 404, NOT_FOUND)
    assert app_snapshot(claim_setup.engine) == before
    assert used_tokens(claim_setup.engine) == 0
    assert rejection_reasons(claim_setup) == ["not_found"]


def test_forged_callback_rejected(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    generate_person_claims(claim_setup.config)
    before = app_snapshot(claim_setup.engine)

    page = browser.get(f"{claim_setup.service_url}/claims/callback",
                       params={"state": random_token(), "code": "made-up"})

    assert_rejected(page, 404, NOT_FOUND)
    assert app_snapshot(claim_setup.engine) == before
    assert rejection_reasons(claim_setup) == ["not_found"]


def test_callback_without_state_rejected(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    page = browser.get(f"{claim_setup.service_url}/claims/callback", params={"code": "made-up"})

    assert_rejected(page, 400, STATE_MISMATCH)
    assert rejection_reasons(claim_setup) == ["state_mismatch"]


@BOTH_STYLES
def test_person_link_completed_as_organization(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    links = generate_person_claims(claim_setup.config)
    link = link_of(links, 1)
    authorize_url = link
    if claim_setup.link_style == "app":
        browser.get(link)
        authorize_url = browser.post(link, follow_redirects=False).headers["location"]
    as_organization = with_query(authorize_url, scope="Org.zaikio.organization.r")
    before = app_snapshot(claim_setup.engine)

    callback = authorize_as(browser, as_organization, "anna@example.com", team_uuid(10))
    page = browser.get(callback)

    assert_rejected(page, 400, WRONG_KIND)
    assert app_snapshot(claim_setup.engine) == before
    assert used_tokens(claim_setup.engine) == 0
    assert rejection_reasons(claim_setup) == ["wrong_kind"]


@BOTH_STYLES
def test_zaikio_person_mapped_elsewhere(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    links = generate_person_claims(claim_setup.config)
    before = app_snapshot(claim_setup.engine)

    # Frieda's Zaikio account is mapped to local person 6 already.
    page = attempt_claim(browser, link_of(links, 2), claim_setup.link_style, "frieda@example.com")

    assert_rejected(page, 409, ALREADY_MAPPED)
    assert app_snapshot(claim_setup.engine) == before
    assert before["people"][6] == person_uuid(6)
    assert used_tokens(claim_setup.engine) == 0
    assert rejection_reasons(claim_setup) == ["already_mapped"]


@BOTH_STYLES
def test_organization_claim_by_member(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    links = generate_person_claims(claim_setup.config)
    page = complete_claim(browser, link_of(links, 1), claim_setup.link_style, "anna@example.com")
    offer = offered_team_links(page.text)[0]
    before, used_before = app_snapshot(claim_setup.engine), used_tokens(claim_setup.engine)

    # Ben is a plain member of team 10, so the stand-in does not let him grant for it.
    page = attempt_claim(browser, offer, claim_setup.link_style, "ben@example.com", team_uuid(10))

    assert_rejected(page, 400, HUB_ERROR)
    assert app_snapshot(claim_setup.engine) == before
    assert used_tokens(claim_setup.engine) == used_before
    assert rejection_reasons(claim_setup) == ["hub_error"]


@BOTH_STYLES
def test_claimant_not_owner_at_zaikio(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    state = claim_setup.hub_state
    with state.lock:
        # At Zaikio, Dora is only a member of team 12 and Emil is its owner.
        state.membership_of(person_uuid(4), team_uuid(12)).roles = ["member"]
        state.membership_of(person_uuid(5), team_uuid(12)).roles = ["owner"]
    links = generate_person_claims(claim_setup.config)
    page = complete_claim(browser, link_of(links, 4), claim_setup.link_style, "dora@example.com")
    offer = offered_team_links(page.text)[0]
    before, used_before = app_snapshot(claim_setup.engine), used_tokens(claim_setup.engine)

    page = attempt_claim(browser, offer, claim_setup.link_style, "emil@example.com", team_uuid(12))

    assert_rejected(page, 400, NOT_OWNER)
    assert app_snapshot(claim_setup.engine) == before
    assert used_tokens(claim_setup.engine) == used_before
    assert rejection_reasons(claim_setup) == ["not_owner"]


def test_callback_without_cookie(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    links = generate_person_claims(claim_setup.config)
    link = link_of(links, 2)
    browser.get(link)
    authorize_url = browser.post(link, follow_redirects=False).headers["location"]
    before = app_snapshot(claim_setup.engine)

    with httpx.Client(timeout=10.0) as other_browser:
        callback = authorize_as(other_browser, authorize_url, "ben@example.com")
        page = other_browser.get(callback)

    assert_rejected(page, 400, STATE_MISMATCH)
    assert app_snapshot(claim_setup.engine) == before
    assert used_tokens(claim_setup.engine) == 0
    assert rejection_reasons(claim_setup) == ["state_mismatch"]


def test_callback_with_other_cookie(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    links = generate_person_claims(claim_setup.config)
    link = link_of(links, 2)
    browser.get(link)
    authorize_url = browser.post(link, follow_redirects=False).headers["location"]
    before = app_snapshot(claim_setup.engine)

    with httpx.Client(timeout=10.0) as other_browser:
        other_link = link_of(links, 3)
        other_browser.post(other_link, follow_redirects=False)
        callback = authorize_as(other_browser, authorize_url, "ben@example.com")
        page = other_browser.get(callback)

    assert_rejected(page, 400, STATE_MISMATCH)
    assert app_snapshot(claim_setup.engine) == before
    assert used_tokens(claim_setup.engine) == 0
    assert rejection_reasons(claim_setup) == ["state_mismatch"]


def test_rejected_link_still_claimable(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    links = generate_person_claims(claim_setup.config)
    link = link_of(links, 2)
    attempt_claim(browser, link, "app", "frieda@example.com")

    page = complete_claim(browser, link, "app", "ben@example.com")

    assert page.status_code == 200
    assert app_snapshot(claim_setup.engine)["people"][2] == person_uuid(2)
    assert token_of(link) not in page.text


@pytest.mark.parametrize("link_style", ["app", "hub"])
def test_wrong_client_secret_names_cause(claim_setup: ClaimSetup, browser: httpx.Client, caplog) -> None:
    from zaikio_ops.secret import Secret

    links = generate_person_claims(claim_setup.config)
    before = app_snapshot(claim_setup.engine)
    for app in claim_setup.hub_state.apps.values():
        app.client_secret = Secret("not-the-secret-the-service-uses")

    with caplog.at_level("WARNING", logger="zaikio_ops.claims.redeem"):
        page = complete_claim(browser, link_of(links, 2), claim_setup.link_style, "ben@example.com")

    assert page.status_code == 502
    assert "could not be completed" in page.text
    assert app_snapshot(claim_setup.engine) == before
    assert used_tokens(claim_setup.engine) == 0
    rejected = [json.loads(event["detail"]) for event in events(claim_setup.engine)
                if event["kind"] == "claim.rejected"]
    assert rejected == [{"reason": "hub_unavailable", "step": "callback", "cause": "InvalidClient"}]
    assert "InvalidClient" in caplog.text or "invalid_client" in caplog.text
