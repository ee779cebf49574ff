"""Issuing claim links in batches, and revoking them.

Generating is idempotent: a person (or organization) with a live link, one that
is unused, unrevoked and unexpired, is skipped unless ``rotate`` is set, so
running the same command twice creates nothing the second time. Each batch is
written in its own transaction together with its event.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from tqdm.auto import tqdm

from zaikio_ops.audit import is_malformed_email, normalize_email
from zaikio_ops.claims.errors import ClaimError
from zaikio_ops.claims.links import LINK_COLUMNS, ClaimLinks, claim_link
from zaikio_ops.claims.tokens import hash_token, new_token
from zaikio_ops.config import Config
from zaikio_ops.schema import require_kit_tables
from zaikio_ops.secret import Secret
from zaikio_ops.source import Source, normalize_frame
from zaikio_ops.store import claim_batches, claim_tokens, record_event, utcnow

logger = logging.getLogger(__name__)


def generate_person_claims(config: Config, *, source: Source | None = None,
                           organization_id: str | None = None,
                           last_login_after: datetime | None = None, locale: str | None = None,
                           limit: int | None = None, rotate: bool = False, dry_run: bool = False,
                           batch_size: int | None = None, now: datetime | None = None,
                           progress: bool = False, require_email: bool = True) -> ClaimLinks:
    """Issue claim links for unmapped, active persons.

    Parameters
    ----------
    config : Config
    source : Source, optional
        Reuse an existing source (and its engine).
    organization_id : str, optional
        Only members of this organization.
    last_login_after : datetime, optional
        Only persons who logged in at or after this time (UTC).
    locale : str, optional
        Only persons whose locale starts with this value (``de`` matches ``de_DE``).
    limit : int, optional
        At most this many links.
    rotate : bool
        Revoke live links of the selected persons and issue new ones.
    dry_run : bool
        Select and count, but write nothing; the returned links are empty.
    batch_size : int, optional
        Links per batch and transaction; defaults to ``[claims] batch_size``.
    now : datetime, optional
        The current UTC time (for tests).
    progress : bool
        Show a progress bar over the batches.
    require_email : bool
        Leave out persons whose e-mail address is missing or malformed, because a
        mail merge cannot reach them; they are counted in ``ClaimLinks.unmailable``.

    Returns
    -------
    ClaimLinks
    """
    source = source or Source(config)
    now = now or utcnow()
    candidates = _person_candidates(source, organization_id, last_login_after, locale)
    unmailable = 0
    if require_email:
        mailable = candidates["email"].map(_is_mailable).astype(bool)
        unmailable = int((~mailable).sum())
        candidates = candidates[mailable].reset_index(drop=True)
    candidates["subject_id"] = candidates["person_id"]
    candidates["organization_name"] = pd.NA
    filters = {"organization_id": organization_id, "locale": locale, "limit": limit,
               "last_login_after": last_login_after.isoformat() if last_login_after else None,
               "rotate": rotate}
    links = _issue(source, config, "person", candidates, filters, limit=limit, rotate=rotate,
                   dry_run=dry_run, batch_size=batch_size, now=now, progress=progress)
    links.unmailable = unmailable
    return links


def _is_mailable(address: object) -> bool:
    normalized = normalize_email(address)
    return normalized is not None and not is_malformed_email(normalized)


def generate_organization_claims(config: Config, *, source: Source | None = None,
                                 organization_id: str | None = None,
                                 owner_person_id: str | None = None, limit: int | None = None,
                                 rotate: bool = False, dry_run: bool = False,
                                 batch_size: int | None = None, now: datetime | None = None,
                                 progress: bool = False) -> ClaimLinks:
    """Issue claim links for unmapped organizations whose owner has claimed already.

    Each link goes to one owner that is mapped to Zaikio (the one with the lowest
    ID when there are several), with ``scope=Org.zaikio.organization.r``.
    ``owner_person_id`` restricts the links to organizations this owner can claim
    and addresses them to that owner, even when another owner has a live link.
    Other parameters are as for :func:`generate_person_claims`.
    """
    source = source or Source(config)
    now = now or utcnow()
    candidates = _organization_candidates(source, organization_id, owner_person_id)
    filters = {"organization_id": organization_id, "owner_person_id": owner_person_id,
               "limit": limit, "rotate": rotate}
    if owner_person_id is not None:
        with source.engine.connect() as connection:
            live = _live_for_recipient(connection, str(owner_person_id), now)
        candidates = candidates[~candidates["subject_id"].isin(live)]
    return _issue(source, config, "organization", candidates, filters, limit=limit, rotate=rotate,
                  dry_run=dry_run, batch_size=batch_size, now=now, progress=progress,
                  skip_live=owner_person_id is None)


def revoke(config: Config, *, source: Source | None = None, batch_id: str | None = None,
           person_id: str | None = None, organization_id: str | None = None,
           everything: bool = False, now: datetime | None = None) -> int:
    """Revoke live claim links and return how many were revoked.

    Exactly one of ``batch_id``, ``person_id``, ``organization_id`` or
    ``everything`` selects the links. Used and already revoked links stay as they are.

    Raises
    ------
    ClaimError
        When no selector or more than one is given.
    """
    chosen = [name for name, value in (("batch_id", batch_id), ("person_id", person_id),
                                       ("organization_id", organization_id), ("all", everything))
              if value]
    if len(chosen) != 1:
        raise ClaimError("Choose exactly one of --batch, --person, --organization or --all to revoke.")

    source = source or Source(config)
    require_kit_tables(source.engine)
    now = now or utcnow()
    condition = sa.and_(claim_tokens.c.used_at.is_(None), claim_tokens.c.revoked_at.is_(None))
    if batch_id:
        condition = sa.and_(condition, claim_tokens.c.batch_id == batch_id)
    elif person_id:
        condition = sa.and_(condition, claim_tokens.c.kind == "person",
                            claim_tokens.c.subject_id == str(person_id))
    elif organization_id:
        condition = sa.and_(condition, claim_tokens.c.kind == "organization",
                            claim_tokens.c.subject_id == str(organization_id))

    with source.engine.begin() as connection:
        count = connection.execute(claim_tokens.update().where(condition).values(revoked_at=now)).rowcount
        if batch_id:
            connection.execute(claim_batches.update().where(claim_batches.c.id == batch_id)
                               .values(revoked_at=now))
        subject_type = None
        if person_id:
            subject_type = "person"
        elif organization_id:
            subject_type = "organization"
        record_event(connection, "claims.revoked", batch_id=batch_id, subject_type=subject_type,
                     subject_id=person_id or organization_id, detail={"count": count, "selector": chosen[0]})
    logger.info("Revoked %d claim link(s) by %s", count, chosen[0])
    return count


def live_subjects(connection: Connection, kind: str, now: datetime) -> set[str]:
    """Return the subject IDs of ``kind`` that have an unused, unrevoked, unexpired token."""
    statement = sa.select(claim_tokens.c.subject_id).where(
        claim_tokens.c.kind == kind, claim_tokens.c.used_at.is_(None),
        claim_tokens.c.revoked_at.is_(None), claim_tokens.c.expires_at > now,
    )
    return {row[0] for row in connection.execute(statement)}


def _person_candidates(source: Source, organization_id, last_login_after, locale) -> pd.DataFrame:
    persons = source.selectable("persons")
    statement = sa.select(
        persons.c.person_id, persons.c.email, persons.c.first_name, persons.c.last_name,
        persons.c.locale, persons.c.active, persons.c.last_login_at,
    ).where(persons.c.zaikio_person_id.is_(None))
    if organization_id is not None:
        memberships = source.selectable("memberships")
        statement = statement.where(sa.exists().where(
            memberships.c.person_id == persons.c.person_id,
            sa.cast(memberships.c.organization_id, sa.String) == str(organization_id),
        ))
    frame = _fetch(source, statement)

    frame = frame[frame["active"]]
    if last_login_after is not None:
        frame = frame[frame["last_login_at"] >= pd.Timestamp(last_login_after).tz_localize(None)]
    if locale:
        frame = frame[frame["locale"].fillna("").str.lower().str.startswith(locale.lower())]
    return frame.drop(columns=["active", "last_login_at"]).reset_index(drop=True)


def _live_for_recipient(connection: Connection, person_id: str, now: datetime) -> set[str]:
    statement = sa.select(claim_tokens.c.subject_id).where(
        claim_tokens.c.kind == "organization", claim_tokens.c.recipient_person_id == person_id,
        claim_tokens.c.used_at.is_(None), claim_tokens.c.revoked_at.is_(None),
        claim_tokens.c.expires_at > now,
    )
    return {row[0] for row in connection.execute(statement)}


def _organization_candidates(source: Source, organization_id, owner_person_id=None) -> pd.DataFrame:
    organizations = source.selectable("organizations")
    memberships = source.selectable("memberships")
    persons = source.selectable("persons")
    statement = (
        sa.select(organizations.c.organization_id.label("subject_id"),
                  organizations.c.name.label("organization_name"),
                  persons.c.person_id, persons.c.email, persons.c.first_name, persons.c.last_name,
                  persons.c.locale)
        .select_from(organizations)
        .join(memberships, memberships.c.organization_id == organizations.c.organization_id)
        .join(persons, persons.c.person_id == memberships.c.person_id)
        .where(organizations.c.zaikio_organization_id.is_(None),
               memberships.c.role.in_(list(source.config.owner_roles)),
               persons.c.zaikio_person_id.is_not(None))
    )
    if organization_id is not None:
        statement = statement.where(sa.cast(organizations.c.organization_id, sa.String) == str(organization_id))
    if owner_person_id is not None:
        statement = statement.where(sa.cast(persons.c.person_id, sa.String) == str(owner_person_id))
    frame = _fetch(source, statement)
    frame["subject_id"] = frame["subject_id"].astype("string")
    if organization_id is not None:
        frame = frame[frame["subject_id"] == str(organization_id)]
    if owner_person_id is not None:
        frame = frame[frame["person_id"] == str(owner_person_id)]
    frame = frame.sort_values(["subject_id", "person_id"], key=_natural)
    return frame.drop_duplicates("subject_id").reset_index(drop=True)


def _issue(source: Source, config: Config, kind: str, candidates: pd.DataFrame, filters: dict, *,
           limit, rotate, dry_run, batch_size, now, progress, skip_live: bool = True) -> ClaimLinks:
    require_kit_tables(source.engine)
    with source.engine.connect() as connection:
        live = live_subjects(connection, kind, now) if skip_live and not rotate else set()
    has_live = candidates["subject_id"].isin(live)
    selected = candidates[~has_live]
    skipped = int(has_live.sum())
    selected = selected.sort_values("subject_id", key=_natural).reset_index(drop=True)
    if limit is not None:
        selected = selected.head(limit)

    expires_at = now + timedelta(days=config.claims.expiry_days)
    if dry_run:
        rows = _link_rows(selected, kind, [None] * len(selected), expires_at, [None] * len(selected))
        logger.info("Dry run: would issue %d %s claim link(s), %d skipped", len(rows), kind, skipped)
        return ClaimLinks(rows, [], skipped, dry_run=True)

    size = batch_size or config.claims.batch_size
    links, batch_of_row, batch_ids = [], [], []
    starts = range(0, len(selected), size)
    for start in tqdm(starts, desc=f"Issuing {kind} claim batches", unit="batch", disable=not progress):
        chunk = selected.iloc[start:start + size]
        batch_id, chunk_links = _write_batch(source.engine, config, kind, chunk, filters,
                                             rotate=rotate, now=now, expires_at=expires_at)
        batch_ids.append(batch_id)
        links += chunk_links
        batch_of_row += [batch_id] * len(chunk)

    logger.info("Issued %d %s claim link(s) in %d batch(es), %d skipped", len(links), kind,
                len(batch_ids), skipped)
    return ClaimLinks(_link_rows(selected, kind, links, expires_at, batch_of_row), batch_ids, skipped)


def _write_batch(engine: Engine, config: Config, kind: str, chunk: pd.DataFrame, filters: dict, *,
                 rotate: bool, now: datetime, expires_at: datetime) -> tuple[str, list[Secret]]:
    batch_id = str(uuid.uuid4())
    style = config.claims.link_style
    tokens = [new_token() for _ in range(len(chunk))]
    rows = [
        {"token_hash": hash_token(token), "kind": kind, "subject_id": str(subject),
         "recipient_person_id": str(person), "batch_id": batch_id, "created_at": now,
         "expires_at": expires_at}
        for token, subject, person in zip(tokens, chunk["subject_id"], chunk["person_id"])
    ]

    with engine.begin() as connection:
        if rotate:
            _revoke_subjects(connection, kind, [row["subject_id"] for row in rows], now)
        connection.execute(claim_batches.insert().values(
            id=batch_id, kind=kind, link_style=style, created_at=now, expires_at=expires_at,
            size=len(rows), filters=json.dumps(filters, sort_keys=True, default=str)))
        if rows:
            connection.execute(claim_tokens.insert(), rows)
        record_event(connection, "claims.batch_created", batch_id=batch_id, at=now,
                     detail={"kind": kind, "size": len(rows), "link_style": style, **filters})

    persons = chunk.to_dict("records")
    links = [Secret(claim_link(config, token, kind=kind, link_style=style, person=person))
             for token, person in zip(tokens, persons)]
    return batch_id, links


def _revoke_subjects(connection: Connection, kind: str, subjects: list[str], now: datetime) -> None:
    for start in range(0, len(subjects), 500):
        connection.execute(claim_tokens.update().where(
            claim_tokens.c.kind == kind, claim_tokens.c.subject_id.in_(subjects[start:start + 500]),
            claim_tokens.c.used_at.is_(None), claim_tokens.c.revoked_at.is_(None),
        ).values(revoked_at=now))


def _link_rows(selected: pd.DataFrame, kind: str, links: list, expires_at: datetime,
               batch_ids: list) -> pd.DataFrame:
    frame = selected.copy()
    frame["kind"] = kind
    frame["link"] = links
    frame["expires_at"] = expires_at
    frame["batch_id"] = batch_ids
    for column in LINK_COLUMNS:
        if column not in frame:
            frame[column] = pd.NA
    return frame[list(LINK_COLUMNS)].reset_index(drop=True)


def _fetch(source: Source, statement) -> pd.DataFrame:
    with source.engine.connect() as connection:
        result = connection.execute(statement)
        return normalize_frame(pd.DataFrame(result.all(), columns=list(result.keys())))


def _natural(series: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(series, errors="coerce")
    return numbers if numbers.notna().all() else series.astype("string")
