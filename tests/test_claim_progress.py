"""Claim progress counts for the audit report."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from zaikio_ops import charts
from zaikio_ops.config import config_from_dict
from zaikio_ops.report import claim_progress
from zaikio_ops.source import Source
from zaikio_ops.store import claim_batches, claim_tokens, metadata, utcnow


def _source(database_url: str) -> Source:
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(80))"))
        connection.execute(sa.text("CREATE TABLE orgs (id INTEGER PRIMARY KEY, name VARCHAR(80))"))
        connection.execute(sa.text("CREATE TABLE members (user_id INTEGER, org_id INTEGER, role VARCHAR(20))"))
    config = config_from_dict({
        "database": {"url": database_url},
        "schema": {
            "persons": {"table": "users", "columns": {"person_id": "id", "email": "email"}},
            "organizations": {"table": "orgs", "columns": {"organization_id": "id", "name": "name"}},
            "memberships": {"table": "members", "columns": {"person_id": "user_id",
                                                            "organization_id": "org_id", "role": "role"}},
        },
    }, environ={})
    return Source(config, engine)


def test_progress_none_before_schema(database_url):
    assert claim_progress(_source(database_url)) is None


def test_progress_counts_each_status(database_url):
    source = _source(database_url)
    metadata.create_all(source.engine)
    now = utcnow()
    later, earlier = now + timedelta(days=3), now - timedelta(days=1)
    tokens = [
        # (kind, used_at, revoked_at, expires_at) -> expected status
        ("person", now, None, later),        # claimed
        ("person", now, None, earlier),      # claimed, even though past expiry now
        ("person", None, None, later),       # open
        ("person", None, None, earlier),     # expired
        ("person", None, now, later),        # revoked
        ("organization", None, None, later),  # open
    ]
    with source.engine.begin() as connection:
        connection.execute(claim_batches.insert().values(id="b1", kind="person", link_style="app",
                                                         created_at=now, expires_at=later, size=6))
        connection.execute(claim_tokens.insert(), [
            {"token_hash": f"{index:064x}", "kind": kind, "subject_id": str(index),
             "recipient_person_id": str(index), "batch_id": "b1", "created_at": now,
             "used_at": used, "revoked_at": revoked, "expires_at": expires}
            for index, (kind, used, revoked, expires) in enumerate(tokens)
        ])

    progress = claim_progress(source).set_index("kind")

    assert progress.loc["person", "claimed"] == 2
    assert progress.loc["person", "open"] == 1
    assert progress.loc["person", "expired"] == 1
    assert progress.loc["person", "revoked"] == 1
    assert progress.loc["organization", "open"] == 1
    assert progress.loc["organization", "claimed"] == 0


def test_funnel_draws_four_stages():
    summary = {"persons_total": 10, "persons_mapped": 4}
    figure = charts.migration_funnel(summary, None)
    widths = sorted(patch.get_width() for patch in figure.axes[0].patches)
    assert widths == [0, 0, 4, 10]
