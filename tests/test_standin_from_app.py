"""The stand-in seeded from an app database serves the app's own mapped organizations."""

from __future__ import annotations

import sqlite3

from zaikio_ops.config import load_config
from zaikio_ops.demo import build_demo_database, write_demo_config
from zaikio_ops.demo_flow import clear_shared_zaikio_ids
from zaikio_ops.hub import HubClient
from zaikio_ops.secret import Secret
from zaikio_ops.source import Source
from zaikio_ops.standin import HubState, running_standin
from zaikio_ops.standin.from_app import seed_from_app


def test_mapped_organization_members_readable(tmp_path):
    database = tmp_path / "demo.db"
    build_demo_database(database, persons=150, organizations=15, seed=5)
    config = load_config(write_demo_config(tmp_path, database), environ={})
    source = Source(config)
    clear_shared_zaikio_ids(source.engine, config)
    with sqlite3.connect(database) as connection:
        organization_id, zaikio_id = connection.execute(
            "SELECT id, zaikio_id FROM companies WHERE zaikio_id IS NOT NULL ORDER BY id LIMIT 1").fetchone()
        expected_emails = {row[0] for row in connection.execute(
            "SELECT DISTINCT u.email FROM company_users cu JOIN users u ON u.id = cu.user_id "
            "WHERE cu.company_id = ? AND u.email IS NOT NULL AND u.email <> ''", (organization_id,))}

    state = HubState()
    secret = Secret("test-secret-for-standin")
    app = seed_from_app(state, source, config, secret)

    assert app.client_id == config.hub.client_id
    assert app.redirect_uris == [config.hub.redirect_uri]
    with running_standin(state) as hub_url, HubClient(hub_url, app.client_id, secret) as hub:
        token = hub.client_credentials(zaikio_id)
        members = hub.list_memberships(token)

    assert token.bearer_id == zaikio_id
    assert {member.person.email for member in members} == expected_emails
