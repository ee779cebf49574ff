"""The claim tests' small app, its configuration, and helpers that play the user's browser.

The app keeps its accounts in ``people``, ``teams`` and ``team_members`` with
integer keys, so the tests go through the schema mapping rather than the kit's
canonical names. Local role ``chef`` means owner and ``vize`` admin.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zaikio_ops.claims import ClaimLinks
from zaikio_ops.config import Config, config_from_dict
from zaikio_ops.demo_flow import offered_links
from zaikio_ops.standin import HubState, zaikio_organization_uuid, zaikio_person_uuid
from zaikio_ops.standin.browser import authorize_as

CLIENT_ID = "5b0c3f0e-2a43-4f7e-9d55-claims-tests"
CLIENT_SECRET = "claims-test-client-secret-4f1d2a"
APP_NAME = "claims_tests"
ROLE_MAP = {"chef": "owner", "vize": "admin"}

# Person 6 is mapped to Zaikio before any claim; person 7 is inactive.
PREMAPPED_PERSON = 6
PREMAPPED_UUID = "0d6f5a1e-6c1b-4d0a-9a65-000000000006"
INACTIVE_PERSON = 7

PEOPLE = [
    # id, mail, given_name, family_name, lang, enabled
    (1, "anna@example.com", "Anna", "Albers", "de_DE", True),
    (2, "ben@example.com", "Ben", "Brandt", "en", True),
    (3, "carla@example.com", "Carla", "Conti", "en", True),
    (4, "dora@example.com", "Dora", "Dietz", "de", True),
    (5, "emil@example.com", "Emil", "Engel", "en", True),
    (6, "frieda@example.com", "Frieda", "Fink", "de", True),
    (7, "gustav@example.com", "Gustav", "Gross", "en", False),
    (8, "hanna@example.com", "Hanna", "Horn", "de", True),
    (9, "ivo@example.com", "Ivo", "Ilic", "en", True),
    (10, "jana@example.com", "Jana", "Jung", "en", True),
]
TEAMS = [(10, "Druckerei Albers"), (11, "Verlag Albers"), (12, "Dietz Design")]
TEAM_MEMBERS = [
    # person_ref, team_ref, position
    (1, 10, "chef"), (2, 10, "member"), (3, 10, "vize"),
    (1, 11, "chef"), (6, 11, "member"),
    (4, 12, "chef"), (5, 12, "member"),
    (8, 10, "member"), (9, 11, "member"), (10, 12, "member"),
]

metadata = sa.MetaData()
people = sa.Table(
    "people", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("mail", sa.String(200)),
    sa.Column("given_name", sa.String(100)),
    sa.Column("family_name", sa.String(100)),
    sa.Column("lang", sa.String(8)),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("last_seen", sa.DateTime),
)
teams = sa.Table(
    "teams", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("title", sa.String(200), nullable=False),
)
team_members = sa.Table(
    "team_members", metadata,
    sa.Column("person_ref", sa.Integer, nullable=False),
    sa.Column("team_ref", sa.Integer, nullable=False),
    sa.Column("position", sa.String(20), nullable=False),
)


def create_app_tables(engine: Engine, people_rows: list[tuple] = PEOPLE) -> None:
    """Create the app's tables (without Zaikio columns) and insert the rows."""
    metadata.create_all(engine)
    keys = ("id", "mail", "given_name", "family_name", "lang", "enabled")
    with engine.begin() as connection:
        connection.execute(people.insert(), [
            {**dict(zip(keys, row)), "last_seen": datetime(2026, 1, 1)} for row in people_rows])
        connection.execute(teams.insert(), [{"id": i, "title": t} for i, t in TEAMS])
        connection.execute(team_members.insert(), [
            {"person_ref": p, "team_ref": t, "position": r} for p, t, r in TEAM_MEMBERS])


def premap_person(engine: Engine) -> None:
    """Store person 6's Zaikio UUID, as if it had been claimed before (needs the schema step)."""
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE people SET zaikio_uuid = :uuid WHERE id = :id"),
                           {"uuid": PREMAPPED_UUID, "id": PREMAPPED_PERSON})


def app_config(database_url: str, *, link_style: str, service_url: str, hub_url: str) -> Config:
    """Return the configuration that maps the test app, with the client secret in a private environ."""
    data: dict[str, Any] = {
        "database": {"url": database_url},
        "schema": {
            "persons": {"table": "people", "columns": {
                "person_id": "id", "email": "mail", "first_name": "given_name",
                "last_name": "family_name", "locale": "lang", "active": "enabled",
                "last_login_at": "last_seen", "zaikio_person_id": "zaikio_uuid"}},
            "organizations": {"table": "teams", "columns": {
                "organization_id": "id", "name": "title", "zaikio_organization_id": "zaikio_uuid"}},
            "memberships": {"table": "team_members", "columns": {
                "person_id": "person_ref", "organization_id": "team_ref", "role": "position"}},
        },
        "audit": {"owner_roles": ["chef"]},
        "hub": {"url": hub_url, "client_id": CLIENT_ID, "app_name": APP_NAME,
                "redirect_uri": f"{service_url}/claims/callback"},
        "claims": {"link_style": link_style, "base_url": service_url, "expiry_days": 7},
    }
    return config_from_dict(data, environ={"ZAIKIO_CLIENT_SECRET": CLIENT_SECRET})


@dataclass
class ClaimSetup:
    """A running test installation: app database, stand-in Hub and claim service."""

    config: Config
    engine: Engine
    hub_state: HubState
    hub_url: str
    service_url: str
    link_style: str


def link_of(links: ClaimLinks, subject_id: object) -> str:
    """Return the plain link issued for ``subject_id``."""
    rows = links.rows[links.rows["subject_id"] == str(subject_id)]
    assert len(rows) == 1, f"expected one link for {subject_id}, got {len(rows)}"
    return rows.iloc[0]["link"].reveal()


def token_of(link: str) -> str:
    """Return the claim token inside an app-style or hub-style link."""
    parts = urlsplit(link)
    if parts.path.startswith("/claims/"):
        return parts.path.rsplit("/", 1)[-1]
    query = dict(part.split("=", 1) for part in parts.query.split("&"))
    return query["state"]


def open_link(browser: httpx.Client, link: str, link_style: str) -> str:
    """Open a claim link like a browser and return the Zaikio authorize URL it leads to."""
    if link_style == "hub":
        return link
    landing = browser.get(link)
    assert landing.status_code == 200, landing.text
    started = browser.post(link, follow_redirects=False)
    assert started.status_code == 303, started.text
    return started.headers["location"]


def complete_claim(browser: httpx.Client, link: str, link_style: str, person: str,
                   organization_id: str | None = None) -> httpx.Response:
    """Follow a claim link, sign in at the stand-in as ``person`` and open the callback."""
    authorize_url = open_link(browser, link, link_style)
    callback = authorize_as(browser, authorize_url, person, organization_id)
    return browser.get(callback)


def attempt_claim(browser: httpx.Client, link: str, link_style: str, person: str,
                  organization_id: str | None = None) -> httpx.Response:
    """Follow a claim link as far as the service lets it and return the last page."""
    if link_style == "app":
        landing = browser.get(link)
        if landing.status_code >= 400:
            return landing
        started = browser.post(link, follow_redirects=False)
        if started.status_code >= 400:
            return started
        link = started.headers["location"]
    callback = authorize_as(browser, link, person, organization_id)
    return browser.get(callback)


def person_uuid(person_id: int) -> str:
    """Return the Zaikio UUID the stand-in gave local person ``person_id``."""
    return PREMAPPED_UUID if person_id == PREMAPPED_PERSON else zaikio_person_uuid(str(person_id))


def team_uuid(team_id: int) -> str:
    """Return the Zaikio UUID the stand-in gave local team ``team_id``."""
    return zaikio_organization_uuid(str(team_id))


def zaikio_ids(engine: Engine, table: str) -> dict[int, str | None]:
    """Read ``id -> zaikio_uuid`` of an app table with plain SQL."""
    with engine.connect() as connection:
        rows = connection.execute(sa.text(f"SELECT id, zaikio_uuid FROM {table} ORDER BY id")).all()
    return {int(row[0]): row[1] for row in rows}


def app_snapshot(engine: Engine) -> dict[str, dict[int, str | None]]:
    """Return the Zaikio columns of both app tables, to compare before and after a request."""
    return {"people": zaikio_ids(engine, "people"), "teams": zaikio_ids(engine, "teams")}


def used_tokens(engine: Engine) -> int:
    """Count the claim tokens that are marked used."""
    with engine.connect() as connection:
        return connection.execute(sa.text(
            "SELECT count(*) FROM zaikio_ops_claim_tokens WHERE used_at IS NOT NULL")).scalar_one()


def events(engine: Engine) -> list[dict[str, Any]]:
    """Read the whole event log, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT * FROM zaikio_ops_events ORDER BY id")).mappings().all()
    return [dict(row) for row in rows]


def random_token() -> str:
    """Return a well-formed claim token that was never issued."""
    return uuid.uuid4().hex + uuid.uuid4().hex[:11]


def offered_team_links(page: str) -> list[str]:
    """Return the organization claim links of a success page."""
    return offered_links(page)
