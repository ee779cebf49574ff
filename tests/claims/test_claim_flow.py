"""Claims end to end over real HTTP: claim service, stand-in Hub and the app's database."""

from __future__ import annotations

import httpx
import pytest

from claims_testkit import (
    ClaimSetup,
    complete_claim,
    link_of,
    offered_team_links,
    person_uuid,
    team_uuid,
    zaikio_ids,
)
from zaikio_ops.audit import run_audit
from zaikio_ops.claims import generate_person_claims

pytestmark = pytest.mark.parametrize("link_style", ["app", "hub"])

SUCCESS_TITLE = "Account connected"
PERSON_SUCCESS = "Your account is now connected to Zaikio."
ORGANIZATION_SUCCESS = "The organization is now connected to Zaikio."


def test_person_claim_maps_account(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    before = run_audit(claim_setup.config).summary["persons_unmapped"]
    links = generate_person_claims(claim_setup.config)

    page = complete_claim(browser, link_of(links, 2), claim_setup.link_style, "ben@example.com")

    assert page.status_code == 200
    assert SUCCESS_TITLE in page.text
    assert PERSON_SUCCESS in page.text
    assert zaikio_ids(claim_setup.engine, "people")[2] == person_uuid(2)
    assert run_audit(claim_setup.config).summary["persons_unmapped"] == before - 1


def test_person_claim_touches_one_row(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    before = zaikio_ids(claim_setup.engine, "people")
    links = generate_person_claims(claim_setup.config)

    complete_claim(browser, link_of(links, 3), claim_setup.link_style, "carla@example.com")

    after = zaikio_ids(claim_setup.engine, "people")
    assert {key: value for key, value in after.items() if before[key] != value} == {3: person_uuid(3)}


def test_owner_offered_organizations(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    links = generate_person_claims(claim_setup.config)

    page = complete_claim(browser, link_of(links, 1), claim_setup.link_style, "anna@example.com")

    assert "Connect Druckerei Albers" in page.text
    assert "Connect Verlag Albers" in page.text
    assert len(offered_team_links(page.text)) == 2


def test_organization_claim_by_owner(claim_setup: ClaimSetup, browser: httpx.Client) -> None:
    audit_before = run_audit(claim_setup.config).summary
    links = generate_person_claims(claim_setup.config)
    person_page = complete_claim(browser, link_of(links, 1), claim_setup.link_style, "anna@example.com")
    first_offer = offered_team_links(person_page.text)[0]

    page = complete_claim(browser, first_offer, claim_setup.link_style, "anna@example.com",
                          organization_id=team_uuid(10))

    assert page.status_code == 200
    assert ORGANIZATION_SUCCESS in page.text
    assert zaikio_ids(claim_setup.engine, "teams") == {10: team_uuid(10), 11: None, 12: None}
    audit_after = run_audit(claim_setup.config).summary
    assert audit_after["organizations_unmapped"] == audit_before["organizations_unmapped"] - 1
    assert audit_after["persons_unmapped"] == audit_before["persons_unmapped"] - 1
