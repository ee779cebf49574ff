"""Seed data, ids and helpers shared by the Hub tests (imported by conftest and tests)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from zaikio_ops.hub import RetryPolicy
from zaikio_ops.secret import Secret
from zaikio_ops.standin import HubState

PERSON_OWNER = "383663bc-149a-5b76-b50d-ee039046c12e"
PERSON_MEMBER = "6afd2277-9e1f-5a88-8984-bacb5f798716"
PERSON_ADMIN = "1fbe1870-f99b-5fbb-acad-0220e4c05113"
ORG_MAIN = "b1475f65-236c-58b8-96e1-e1778b43beb7"
ORG_OTHER = "c453ca95-5850-5d9a-b93e-050334c951af"
CLIENT_ID = "da6333fc-19ab-51d7-8295-4904358c5ecb"
CLIENT_SECRET = "test-client-secret-0123456789"
PUBLIC_CLIENT_ID = "0b0f8c5e-8f4b-4a4e-9d7e-3f6a1c2b9d10"
REDIRECT_URI = "http://127.0.0.1:9/auth/zaikio/callback"
APP_NAME = "keyline"


def seed_data() -> dict[str, Any]:
    """Return the default seed: three persons, two organizations, a confidential and a public app."""
    return {
        "persons": [
            {"id": PERSON_OWNER, "email": "fgalli@example.com", "first_name": "Frank", "name": "Gallikanokus",
             "country_code": "US", "currency": "USD"},
            {"id": PERSON_MEMBER, "email": "tstark@example.com", "first_name": "Tony", "name": "Stark"},
            {"id": PERSON_ADMIN, "email": "cj@example.com", "first_name": "Cathrin", "name": "Janeway",
             "locale": "de"},
        ],
        "organizations": [
            {"id": ORG_MAIN, "name": "Bounty Soap Inc.", "slug": "bounty_soap_inc", "kinds": ["printer"],
             "sections": {"printer": ["softcover_books", "flyers"]}, "brand_color": "#000000"},
            {"id": ORG_OTHER, "name": "Crispy Mountain GmbH", "kinds": ["software_developer"]},
        ],
        "memberships": [
            {"person_id": PERSON_OWNER, "organization_id": ORG_MAIN, "roles": ["owner"]},
            {"person_id": PERSON_MEMBER, "organization_id": ORG_MAIN, "roles": ["member"]},
            {"person_id": PERSON_ADMIN, "organization_id": ORG_MAIN, "roles": ["admin"]},
            {"person_id": PERSON_OWNER, "organization_id": ORG_OTHER, "roles": ["owner"]},
        ],
        "apps": [
            {"name": APP_NAME, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "confidential": True,
             "redirect_uris": [REDIRECT_URI, "http://127.0.0.1:9/other"],
             "desired_scopes": ["zaikio.person.r", "zaikio.organization.r", "zaikio.organization_members.r"]},
            {"name": "spa_app", "client_id": PUBLIC_CLIENT_ID, "confidential": False,
             "redirect_uris": [REDIRECT_URI], "desired_scopes": ["zaikio.person.r"]},
        ],
    }


@dataclass
class StandinHub:
    """A running stand-in: its URL, state and the seeded app's credentials."""

    base_url: str
    state: HubState
    client_id: str = CLIENT_ID
    client_secret: Secret = Secret(CLIENT_SECRET)
    redirect_uri: str = REDIRECT_URI
    app_name: str = APP_NAME


def fast_retry(max_attempts: int = 10) -> RetryPolicy:
    """Return a retry policy with short, seeded backoff for tests against the real server."""
    return RetryPolicy(max_attempts=max_attempts, backoff_base=0.02, backoff_max=0.2, rng=random.Random(7))
