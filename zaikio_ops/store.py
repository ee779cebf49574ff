"""The kit's own tables in the app's database, and the event log.

The kit keeps claim batches, claim tokens (as SHA-256 hashes only), OAuth
states of the app-style claim flow and an append-only event log next to the
app's tables. All names start with ``zaikio_ops_`` so they are easy to find and
to drop after the migration. The code only ever inserts into the event log.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

logger = logging.getLogger(__name__)

PREFIX = "zaikio_ops_"
metadata = sa.MetaData()

claim_batches = sa.Table(
    f"{PREFIX}claim_batches", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("link_style", sa.String(8), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("filters", sa.Text),
    sa.Column("revoked_at", sa.DateTime),
)

claim_tokens = sa.Table(
    f"{PREFIX}claim_tokens", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("subject_id", sa.String(64), nullable=False),
    sa.Column("recipient_person_id", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.String(36), sa.ForeignKey(f"{PREFIX}claim_batches.id"), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("used_at", sa.DateTime),
    sa.Column("revoked_at", sa.DateTime),
    sa.Column("zaikio_id", sa.String(36)),
    sa.Index(f"ux_{PREFIX}claim_tokens_hash", "token_hash", unique=True),
    sa.Index(f"ix_{PREFIX}claim_tokens_subject", "kind", "subject_id"),
)

oauth_states = sa.Table(
    f"{PREFIX}oauth_states", metadata,
    sa.Column("state_hash", sa.String(64), primary_key=True),
    sa.Column("token_id", sa.Integer, sa.ForeignKey(f"{PREFIX}claim_tokens.id"), nullable=False),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("expires_at", sa.DateTime, nullable=False),
    sa.Column("used_at", sa.DateTime),
)

events = sa.Table(
    f"{PREFIX}events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("occurred_at", sa.DateTime, nullable=False),
    sa.Column("kind", sa.String(48), nullable=False),
    sa.Column("subject_type", sa.String(16)),
    sa.Column("subject_id", sa.String(64)),
    sa.Column("batch_id", sa.String(36)),
    sa.Column("token_id", sa.Integer),
    sa.Column("zaikio_id", sa.String(36)),
    sa.Column("detail", sa.Text),
    sa.Index(f"ix_{PREFIX}events_kind", "kind", "occurred_at"),
)

# One row per organization a reconciliation plan changed: apply skips organizations listed here
# for the same plan, so applying a plan again, or after a crash, writes each change once.
reconcile_applied = sa.Table(
    f"{PREFIX}reconcile_applied", metadata,
    sa.Column("plan_id", sa.String(36), primary_key=True),
    sa.Column("organization_id", sa.String(64), primary_key=True),
    sa.Column("applied_at", sa.DateTime, nullable=False),
    sa.Column("changes", sa.Integer, nullable=False),
)

# The outcome of the last membership fetch per organization (ok, disconnected or failed),
# so that 'reconcile plan --retry-failed' can fetch only the organizations that failed.
reconcile_status = sa.Table(
    f"{PREFIX}reconcile_status", metadata,
    sa.Column("organization_id", sa.String(64), primary_key=True),
    sa.Column("zaikio_organization_id", sa.String(36)),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("plan_id", sa.String(36), nullable=False),
    sa.Column("checked_at", sa.DateTime, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("error", sa.Text),
)

KIT_TABLES = (claim_batches, claim_tokens, oauth_states, events, reconcile_applied, reconcile_status)


def utcnow() -> datetime:
    """Return the current UTC time without tzinfo, the form stored in every kit table."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def record_event(connection: Connection, kind: str, *, subject_type: str | None = None,
                 subject_id: str | None = None, batch_id: str | None = None,
                 token_id: int | None = None, zaikio_id: str | None = None,
                 detail: dict[str, Any] | None = None, at: datetime | None = None) -> None:
    """Append one event to the event log inside the caller's transaction.

    Parameters
    ----------
    connection : Connection
        The connection whose transaction the event belongs to, so the event and
        the change it describes are committed or rolled back together.
    kind : str
        What happened, e.g. ``claim.redeemed`` or ``claim.rejected``.
    detail : dict, optional
        JSON-serializable context. Callers never put tokens or links here.
    """
    connection.execute(events.insert().values(
        occurred_at=at or utcnow(), kind=kind, subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id), batch_id=batch_id,
        token_id=token_id, zaikio_id=zaikio_id,
        detail=json.dumps(detail, sort_keys=True, default=str) if detail else None,
    ))
    logger.info("Event %s %s %s", kind, subject_type or "-", subject_id or "-")
