"""The demo's claim step: serve a stand-in Hub and the claim service, and claim part of the links.

:func:`claim_demo` runs after the demo database is built. It adds the Zaikio
UUID columns and the kit's tables and seeds a local Hub stand-in with an
account for every person and organization of the demo app. Then it serves the
stand-in and the claim service on free loopback ports, issues and exports
app-style person links, and follows about 12% of them the way a person would:
open the link, sign in at the stand-in, come back to the callback. Owners who claimed go on to
claim some of their organizations from the success page. Both servers stop
before it returns.

"""

from __future__ import annotations

import logging
import math
import os
import secrets
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from tqdm.auto import tqdm

from zaikio_ops import schema
from zaikio_ops.claims import generate_person_claims, inspect_token
from zaikio_ops.config import Config, HubSettings, load_config
from zaikio_ops.errors import ZaikioOpsError
from zaikio_ops.secret import Secret
from zaikio_ops.source import Source
from zaikio_ops.standin import HubState, running_standin, zaikio_organization_uuid, zaikio_person_uuid
from zaikio_ops.standin.browser import authorize_as
from zaikio_ops.standin.from_app import DEFAULT_APP_NAME, seed_from_app
from zaikio_ops.web.app import create_claim_app
from zaikio_ops.web.server import bind_loopback, running_claim_service, socket_url

logger = logging.getLogger(__name__)

DEMO_APP_NAME = DEFAULT_APP_NAME
DEMO_EXPORT_NAME = "claim_links.csv"
CALLBACK_PATH = "/claims/callback"


@dataclass(frozen=True)
class ClaimDemoResult:
    """Counts and the export file of one :func:`claim_demo` run.

    Attributes
    ----------
    persons_issued : int
        Person claim links issued (and exported).
    persons_claimed : int
        Person links followed through to a successful claim.
    organizations_claimed : int
        Organizations claimed by their owners from the success page.
    export_path : Path
        The CSV file with the plain links (mode 0600).
    """

    persons_issued: int
    persons_claimed: int
    organizations_claimed: int
    export_path: Path


def claim_demo(folder: str | os.PathLike[str], config_path: str | os.PathLike[str],
               database_path: str | os.PathLike[str], *, persons_to_claim: float = 0.12,
               organizations_to_claim: int = 5) -> ClaimDemoResult:
    """Issue person claim links on the demo database and claim part of them through real HTTP.

    Parameters
    ----------
    folder : path-like
        The demo folder; the link export ``claim_links.csv`` (mode 0600) goes here.
    config_path : path-like
        The demo's ``zaikio_ops.toml``.
    database_path : path-like
        The demo's SQLite database; it overrides the configuration's database URL.
    persons_to_claim : float
        Share of the issued person links to follow, between 0 and 1.
    organizations_to_claim : int
        At most this many organizations are claimed by owners who claimed their person account.

    Returns
    -------
    ClaimDemoResult

    Raises
    ------
    ValueError
        When ``persons_to_claim`` is outside 0..1 or ``organizations_to_claim`` is negative.
    ZaikioOpsError
        When the schema step, the servers or a claim fail.
    """
    if not 0 <= persons_to_claim <= 1 or organizations_to_claim < 0:
        raise ValueError(f"persons_to_claim must lie in 0..1 and organizations_to_claim be >= 0, got "
                         f"{persons_to_claim} and {organizations_to_claim}.")

    folder = Path(folder)
    client_secret = secrets.token_urlsafe(32)
    environ = {"ZAIKIO_OPS_DATABASE_URL": f"sqlite:///{Path(database_path).resolve()}",
               "ZAIKIO_CLIENT_SECRET": client_secret}
    base = load_config(config_path, environ={**os.environ, **environ})
    source = Source(base)
    clear_shared_zaikio_ids(source.engine, base)
    schema.apply(source.engine, base)

    sock = bind_loopback()
    service_url = socket_url(sock)
    state = HubState()
    try:
        with running_standin(state) as hub_url:
            config = _demo_config(base, hub_url, service_url)
            _seed_standin(state, source, config, Secret(client_secret))
            app = create_claim_app(config, source=source)
            with running_claim_service(app, sock), httpx.Client(timeout=10.0) as browser:
                return _claim(folder, config, source, browser, persons_to_claim, organizations_to_claim)
    finally:
        sock.close()
        source.engine.dispose()


def clear_shared_zaikio_ids(engine: Engine, config: Config) -> int:
    """Keep each Zaikio UUID that several rows share on the row with the lowest ID only.

    The demo database plants such duplicates for the audit to find. The unique
    index of the schema step cannot be created while they exist, so the demo
    resolves them the way support would after checking. The UUID columns must
    exist already. Returns the number of rows whose UUID was cleared.
    """
    cleared = 0
    with engine.begin() as connection:
        for entity in ("persons", "organizations"):
            target = schema.zaikio_column(config, entity)
            table = sa.Table(target.table, sa.MetaData(), schema=target.schema, autoload_with=connection)
            key, uuid_column = table.c[target.id_column], table.c[target.column]
            shared = connection.execute(
                sa.select(uuid_column, sa.func.min(key)).where(uuid_column.is_not(None))
                .group_by(uuid_column).having(sa.func.count() > 1)).all()
            for zaikio_id, keeper in shared:
                result = connection.execute(table.update().where(uuid_column == zaikio_id, key != keeper)
                                            .values({target.column: None}))
                logger.info("Demo: Zaikio UUID %s was shared by several %s; kept it on %s only",
                               zaikio_id, entity, keeper)
                cleared += result.rowcount
    return cleared


def _demo_config(base: Config, hub_url: str, service_url: str) -> Config:
    hub = HubSettings(url=hub_url, client_id=base.hub.client_id or secrets.token_hex(16),
                      client_secret=base.hub.client_secret, app_name=DEMO_APP_NAME,
                      redirect_uri=service_url + CALLBACK_PATH)
    claims = replace(base.claims, link_style="app", base_url=service_url)
    return replace(base, hub=hub, claims=claims)


def _seed_standin(state: HubState, source: Source, config: Config, client_secret: Secret) -> None:
    seed_from_app(state, source, config, client_secret)


def _claim(folder: Path, config: Config, source: Source, browser: httpx.Client,
           persons_to_claim: float, organizations_to_claim: int) -> ClaimDemoResult:
    links = generate_person_claims(config, source=source)
    export_path = links.export(folder / DEMO_EXPORT_NAME, settings=config.export)
    # Persons without an e-mail address have no stand-in account to sign in with.
    reachable = links.rows[links.rows["email"].fillna("").str.len() > 0]
    chosen = _every_nth(reachable, persons_to_claim)
    logger.info("Issued %d person claim links; following %d of them", len(links), len(chosen))

    persons_claimed, organizations_claimed = 0, 0
    for row in tqdm(chosen, desc="Claiming through the stand-in", unit="person"):
        person = zaikio_person_uuid(row["subject_id"])
        page = follow_claim_link(browser, row["link"].reveal(), person)
        persons_claimed += 1
        for link in offered_links(page):
            if organizations_claimed >= organizations_to_claim:
                break
            record = inspect_token(source.engine, link.rsplit("/", 1)[-1])
            follow_claim_link(browser, link, person, zaikio_organization_uuid(record.subject_id))
            organizations_claimed += 1

    logger.info("Demo claims: %d persons, %d organizations", persons_claimed, organizations_claimed)
    return ClaimDemoResult(len(links), persons_claimed, organizations_claimed, export_path)


def _every_nth(rows, share: float) -> list[dict[str, Any]]:
    records = rows.to_dict("records")
    count = math.floor(len(records) * share + 0.5)
    if count == 0:
        return []
    step = len(records) / count
    return [records[int(index * step)] for index in range(count)]


def follow_claim_link(browser: httpx.Client, link: str, person: str,
                      organization_id: str | None = None) -> str:
    """Follow an app-style claim link as ``person`` and return the success page's HTML.

    Opens the landing page, presses its button, signs in at the stand-in (choosing
    ``organization_id`` on the organization picker) and opens the callback with
    the same client, so the state cookie goes along.

    Raises
    ------
    ZaikioOpsError
        When a page returns an error status.
    """
    landing = browser.get(link)
    _check_page(landing, "claim landing page")
    started = browser.post(link, follow_redirects=False)
    _check_page(started, "claim start")
    callback = authorize_as(browser, started.headers["location"], person, organization_id)
    page = browser.get(callback)
    _check_page(page, "claim callback")
    return page.text


def _check_page(response: httpx.Response, page_name: str) -> None:
    if response.status_code >= 400:
        raise ZaikioOpsError(f"The {page_name} returned HTTP {response.status_code} for a demo claim; "
                             f"see the claim service's log for the reason.")


class _OfferParser(HTMLParser):
    """Collect the ``href`` of every ``a.button`` on the success page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("class") == "button" and attributes.get("href"):
            self.links.append(attributes["href"])


def offered_links(page: str) -> list[str]:
    """Return the organization claim links a success page offers, in page order."""
    parser = _OfferParser()
    parser.feed(page)
    return parser.links
