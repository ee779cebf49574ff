"""Redeeming claim links: one code path for both link styles.

The callback checks the token before it spends the authorization code, then
exchanges the code, checks ``bearer.type``, and in one transaction marks the
token used (a conditional UPDATE that only an unused, unrevoked, unexpired token
passes) and writes ``bearer.id`` into the app's table (only where it is still
empty; a unique index stops a second row taking the same UUID). Two concurrent
redemptions of one token therefore give exactly one mapping. Every outcome is
appended to the event log, never with the token itself.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from zaikio_ops.claims import errors
from zaikio_ops.claims.links import ORGANIZATION_SCOPES, PERSON_SCOPE, hub_language
from zaikio_ops.claims.tokens import derive_verifier, hash_token, same_secret
from zaikio_ops.config import Config
from zaikio_ops.hub.client import HubClient
from zaikio_ops.hub import errors as hub_errors
from zaikio_ops.hub.errors import HubError
from zaikio_ops.hub.oauth import PersonPrefill, generate_pkce
from zaikio_ops.schema import ZaikioColumn, zaikio_column
from zaikio_ops.secret import Secret
from zaikio_ops.source import Source, normalize_frame
from zaikio_ops.store import claim_batches, claim_tokens, oauth_states, record_event, utcnow

logger = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=30)
# Failures of the service or its configuration, not of the person's sign-in.
SERVICE_FAULTS = (hub_errors.HubConnectionError, hub_errors.HubTimeout, hub_errors.ServerError,
                  hub_errors.InvalidClient, hub_errors.Unauthorized, hub_errors.RateLimited)
EXPECTED_BEARER = {"person": "Person", "organization": "Organization"}
OWNER_ROLES_AT_ZAIKIO = ("owner", "admin")


@dataclass(frozen=True)
class TokenRecord:
    """A claim token row, looked up by hash."""

    id: int
    kind: str
    subject_id: str
    recipient_person_id: str
    batch_id: str
    link_style: str
    expires_at: datetime


@dataclass
class ClaimOutcome:
    """A successful claim.

    Attributes
    ----------
    kind : {"person", "organization"}
    subject_id : str
        The local person or organization ID.
    zaikio_id : str
        The Zaikio UUID now stored for it.
    offers : list of (organization_id, organization_name, link)
        Organizations the claimant owns and can claim next; links are secrets.
    """

    kind: str
    subject_id: str
    zaikio_id: str
    offers: list[tuple[str, str, Secret]] = field(default_factory=list)


def inspect_token(engine: Engine, token: str, *, kind: str | None = None,
                  now: datetime | None = None) -> TokenRecord:
    """Check a claim token without using it up.

    Raises
    ------
    ClaimError
        ``TokenNotFound``, ``TokenExpired``, ``TokenUsed``, ``TokenRevoked`` or ``WrongKind``.
    """
    record = _check_token(engine, claim_tokens.c.token_hash == hash_token(token or ""), now or utcnow())
    if kind is not None and record.kind != kind:
        raise errors.WrongKind(f"This link claims a {record.kind}, not a {kind}.")
    return record


def begin_app_flow(config: Config, source: Source, hub: HubClient, token: str, *,
                   now: datetime | None = None) -> tuple[str, Secret]:
    """Start the OAuth flow for an app-style link, leaving the token unused.

    Returns
    -------
    (str, Secret)
        The Zaikio authorize URL and the fresh ``state``; the caller binds the
        state to the browser with a cookie.

    Raises
    ------
    ClaimError
        As :func:`inspect_token`; the rejection is appended to the event log.
    """
    now = now or utcnow()
    try:
        record = inspect_token(source.engine, token, now=now)
    except errors.ClaimError as exc:
        record_link_rejection(source.engine, token, exc, step="start", now=now)
        raise
    state, pkce = secrets.token_urlsafe(32), generate_pkce()
    with source.engine.begin() as connection:
        connection.execute(oauth_states.insert().values(
            state_hash=hash_token(state), token_id=record.id, code_verifier=pkce.verifier.reveal(),
            created_at=now, expires_at=now + STATE_LIFETIME))
        record_event(connection, "claim.started", subject_type=record.kind, subject_id=record.subject_id,
                     batch_id=record.batch_id, token_id=record.id, at=now)

    person = _person(source, record.recipient_person_id)
    url = hub.authorize_url(
        config.hub.redirect_uri, _scopes(record.kind), state, pkce=pkce,
        prefill=PersonPrefill(person.get("first_name"), person.get("last_name"), person.get("email"))
        if record.kind == "person" else None,
        lang=hub_language(person.get("locale")),
    )
    return url, Secret(state)


def redeem(config: Config, source: Source, hub: HubClient, *, state: str | None, code: str | None,
           error: str | None = None, cookie_state: str | None = None,
           now: datetime | None = None) -> ClaimOutcome:
    """Redeem the callback of a claim flow of either link style.

    Parameters
    ----------
    config, source, hub
        Configuration, the app's data, and a Hub client with the app's credentials.
    state, code, error
        The callback's query parameters.
    cookie_state : str, optional
        The state bound to the browser (app style); must equal ``state``.
    now : datetime, optional

    Raises
    ------
    ClaimError
        With a ``reason`` code; nothing was written except the rejection event.
    """
    now = now or utcnow()
    record, verifier, state_hash = None, None, None
    try:
        record, verifier, state_hash = _resolve_state(source.engine, state, cookie_state, now)
        if error:
            raise errors.HubRejected(f"Zaikio returned '{error}' instead of a code; nothing was changed.",
                                     cause=error[:64])
        if not code:
            raise errors.HubRejected("The callback has no authorization code; start again from the link.")
        bearer_id = _exchange(hub, record, code, verifier, source)
        _commit(config, source, record, bearer_id, state_hash, now)
    except errors.ClaimError as exc:
        _record_rejection(source.engine, record or _any_token(source.engine, state), exc, now)
        raise

    logger.info("Claimed %s %s", record.kind, record.subject_id)
    outcome = ClaimOutcome(record.kind, record.subject_id, bearer_id)
    if record.kind == "person":
        outcome.offers = _offer_organizations(config, source, record.subject_id, now)
    return outcome


def _resolve_state(engine: Engine, state: str | None, cookie_state: str | None,
                   now: datetime) -> tuple[TokenRecord, str, str | None]:
    if not state:
        raise errors.StateMismatch("The callback has no state; start again from the claim link.")
    with engine.connect() as connection:
        row = connection.execute(sa.select(oauth_states).where(
            oauth_states.c.state_hash == hash_token(state))).mappings().first()

    if row is None:
        record = inspect_token(engine, state, now=now)
        if record.link_style != "hub":
            raise errors.StateMismatch("This link must be opened through the claim page; use the link from the e-mail.")
        return record, derive_verifier(state), None

    if not same_secret(state, cookie_state):
        raise errors.StateMismatch(
            "The sign-in was started in another browser or the cookie is gone. Open the claim link again "
            "in this browser.")
    if row["used_at"] is not None or row["expires_at"] <= now:
        raise errors.StateMismatch("This sign-in attempt is finished or timed out. Open the claim link again.")
    record = _check_token(engine, claim_tokens.c.id == row["token_id"], now)
    return record, row["code_verifier"], row["state_hash"]


def _any_token(engine: Engine, state: str | None) -> TokenRecord | None:
    """Find the token a rejected callback was about, whatever its status, for the event log."""
    row = _token_row(engine, claim_tokens.c.token_hash == hash_token(state)) if state else None
    return _record_of(row) if row is not None else None


def _check_token(engine: Engine, condition, now: datetime) -> TokenRecord:
    """Load one token row and raise unless it can still be redeemed."""
    row = _token_row(engine, condition)
    if row is None:
        raise errors.TokenNotFound("This claim link is not known. Check that the whole link was copied.")
    if row["used_at"] is not None:
        raise errors.TokenUsed("This claim link was used already; the account is connected.")
    if row["revoked_at"] is not None:
        raise errors.TokenRevoked("This claim link was revoked. Ask support for a new one.")
    if row["expires_at"] <= now:
        raise errors.TokenExpired("This claim link has expired. Ask support for a new one.")
    return _record_of(row)


def _token_row(engine: Engine, condition):
    """Return the token row matching ``condition`` with its batch's link style, or None."""
    statement = (
        sa.select(claim_tokens, claim_batches.c.link_style)
        .join(claim_batches, claim_batches.c.id == claim_tokens.c.batch_id)
        .where(condition)
    )
    with engine.connect() as connection:
        return connection.execute(statement).mappings().first()


def _record_of(row) -> TokenRecord:
    return TokenRecord(row["id"], row["kind"], row["subject_id"], row["recipient_person_id"],
                       row["batch_id"], row["link_style"], row["expires_at"])


def _exchange(hub: HubClient, record: TokenRecord, code: str, verifier: str, source: Source) -> str:
    try:
        token = hub.exchange_code(code, code_verifier=Secret(verifier))
    except HubError as exc:
        # Hub error messages carry no secrets, so the cause can be logged for the operator.
        logger.warning("Code exchange for %s claim (token id %s) failed: %s", record.kind, record.id, exc)
        if isinstance(exc, SERVICE_FAULTS):
            raise errors.HubUnavailable(f"The claim service could not complete the sign-in with Zaikio "
                                        f"({type(exc).__name__}); nothing was changed.",
                                        cause=type(exc).__name__) from None
        raise errors.HubRejected(f"Zaikio refused the sign-in ({type(exc).__name__}); start again "
                                 f"from the claim link.", cause=type(exc).__name__) from None

    expected = EXPECTED_BEARER[record.kind]
    if token.bearer_type != expected:
        raise errors.WrongKind(f"Zaikio signed in a {token.bearer_type}, but this link claims a "
                               f"{expected}. Choose {'an organization' if expected == 'Organization' else 'your personal account'}.")
    if record.kind == "organization":
        _check_owner(hub, token, source, record)
    return token.bearer_id


def _check_owner(hub: HubClient, token, source: Source, record: TokenRecord) -> None:
    claimant = _person(source, record.recipient_person_id).get("zaikio_person_id")
    try:
        memberships = hub.list_memberships(token)
    except HubError as exc:
        raise errors.HubRejected(f"Could not read the organization's members at Zaikio "
                                 f"({type(exc).__name__}); nothing was changed.") from None
    for membership in memberships:
        if membership.person.id == claimant and set(membership.roles) & set(OWNER_ROLES_AT_ZAIKIO):
            return
    raise errors.NotOwner("Only an owner or admin of the organization at Zaikio can claim it; "
                          "nothing was changed.")


def _commit(config: Config, source: Source, record: TokenRecord, bearer_id: str,
            state_hash: str | None, now: datetime) -> None:
    entity = "persons" if record.kind == "person" else "organizations"
    target = zaikio_column(config, entity)
    table = _reflect(source.engine, target.schema, target.table)
    key = _coerce(record.subject_id, table.c[target.id_column])

    try:
        with source.engine.begin() as connection:
            used = connection.execute(claim_tokens.update().where(
                claim_tokens.c.id == record.id, claim_tokens.c.used_at.is_(None),
                claim_tokens.c.revoked_at.is_(None), claim_tokens.c.expires_at > now,
            ).values(used_at=now, zaikio_id=bearer_id)).rowcount
            if used != 1:
                raise errors.TokenUsed("This claim link was used already; the account is connected.")
            _write_mapping(connection, table, target, key, bearer_id)
            if state_hash:
                connection.execute(oauth_states.update().where(oauth_states.c.state_hash == state_hash)
                                   .values(used_at=now))
            record_event(connection, "claim.redeemed", subject_type=record.kind,
                         subject_id=record.subject_id, batch_id=record.batch_id, token_id=record.id,
                         zaikio_id=bearer_id, at=now)
    except sa.exc.IntegrityError:
        raise errors.AlreadyMapped("This Zaikio account is already connected to another account here. "
                                   "Sign in to Zaikio with a different account, or ask support.") from None


def _write_mapping(connection: Connection, table: sa.Table, target: ZaikioColumn, key, bearer_id: str) -> None:
    id_column, uuid_column = table.c[target.id_column], table.c[target.column]
    elsewhere = connection.execute(sa.select(id_column).where(
        uuid_column == bearer_id, id_column != key)).first()
    if elsewhere is not None:
        raise errors.AlreadyMapped("This Zaikio account is already connected to another account here. "
                                   "Sign in to Zaikio with a different account, or ask support.")
    written = connection.execute(table.update().where(id_column == key, uuid_column.is_(None))
                                 .values({target.column: bearer_id})).rowcount
    if written != 1:
        raise errors.AlreadyMapped("This account here is connected to a Zaikio account already.")


def record_link_rejection(engine: Engine, token: str, exc: errors.ClaimError, *, step: str,
                          now: datetime | None = None) -> None:
    """Append a claim link's rejection before the OAuth flow to the event log.

    Parameters
    ----------
    engine : Engine
    token : str
        The claim token from the link; the event stores the token's row ID, never the token.
    exc : ClaimError
        The rejection; its ``reason`` goes into the event.
    step : {"landing", "start"}
        Where the link was rejected: the landing page (GET) or the button (POST).
    """
    with engine.connect() as connection:
        row = connection.execute(
            sa.select(claim_tokens, claim_batches.c.link_style)
            .join(claim_batches, claim_batches.c.id == claim_tokens.c.batch_id)
            .where(claim_tokens.c.token_hash == hash_token(token or ""))).mappings().first()
    record = None if row is None else TokenRecord(
        row["id"], row["kind"], row["subject_id"], row["recipient_person_id"], row["batch_id"],
        row["link_style"], row["expires_at"])
    _record_rejection(engine, record, exc, now or utcnow(), step=step)


def _record_rejection(engine: Engine, record: TokenRecord | None, exc: errors.ClaimError, now: datetime,
                      step: str = "callback") -> None:
    with engine.begin() as connection:
        record_event(connection, "claim.rejected", at=now,
                     subject_type=record.kind if record else None,
                     subject_id=record.subject_id if record else None,
                     batch_id=record.batch_id if record else None, token_id=record.id if record else None,
                     detail={"reason": exc.reason, "step": step, "cause": getattr(exc, "cause", None)})
    logger.warning("Claim rejected at %s: %s%s", step, exc.reason,
                   f" ({exc.cause})" if getattr(exc, "cause", None) else "")


def _offer_organizations(config: Config, source: Source, person_id: str, now: datetime) -> list:
    """Issue organization claim links for the unmapped organizations this person owns."""
    from zaikio_ops.claims.generate import generate_organization_claims

    if not _owns_unmapped_organization(source, person_id):
        return []
    offers = []
    links = generate_organization_claims(config, source=source, now=now, owner_person_id=person_id)
    for row in links.rows.itertuples(index=False):
        offers.append((row.subject_id, row.organization_name, row.link))
    return offers


def _owns_unmapped_organization(source: Source, person_id: str) -> bool:
    """Tell cheaply whether the person has an owner role in an organization without Zaikio UUID."""
    memberships = source.selectable("memberships")
    organizations = source.selectable("organizations")
    statement = sa.select(sa.literal(1)).select_from(memberships).join(
        organizations, organizations.c.organization_id == memberships.c.organization_id,
    ).where(
        sa.cast(memberships.c.person_id, sa.String) == str(person_id),
        memberships.c.role.in_(list(source.config.owner_roles)),
        organizations.c.zaikio_organization_id.is_(None),
    ).limit(1)
    with source.engine.connect() as connection:
        return connection.execute(statement).first() is not None


def _person(source: Source, person_id: str) -> dict:
    persons = source.selectable("persons")
    statement = sa.select(persons).where(sa.cast(persons.c.person_id, sa.String) == str(person_id))
    with source.engine.connect() as connection:
        result = connection.execute(statement)
        rows = result.all()
        frame = normalize_frame(pd.DataFrame(rows, columns=list(result.keys())))
    if frame.empty:
        return {}
    return {key: (None if _missing(value) else value) for key, value in frame.iloc[0].items()}


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _scopes(kind: str) -> list[str]:
    return [PERSON_SCOPE] if kind == "person" else list(ORGANIZATION_SCOPES)


@lru_cache(maxsize=32)
def _reflect_cached(engine: Engine, schema: str | None, name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(), schema=schema, autoload_with=engine)


def _reflect(engine: Engine, schema: str | None, name: str) -> sa.Table:
    return _reflect_cached(engine, schema, name)


def _coerce(value: str, column: sa.Column):
    """Convert a stored subject ID back to the Python type of the app's key column."""
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    return python_type(value) if python_type in (int, str) else value
