"""A small app database and a matching stand-in Hub for the reconciliation tests.

A :class:`World` lists local persons, organizations and memberships (the demo
app's ``users``, ``companies`` and ``company_users`` tables) and the Zaikio
side (persons, memberships, which organizations connected the app).
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zaikio_ops.config import Config, config_from_dict
from zaikio_ops.hub import RetryPolicy
from zaikio_ops.standin import HubState, seed_from_dict

CLIENT_ID = "5d0b6a3e-2f5c-4c1e-9a61-0d7c4e3b2a10"
CLIENT_SECRET = "reconcile-test-secret-0123456789"
APP_NAME = "reconcile_app"
MEMBERS_SCOPE = "zaikio.organization_members.r"


def zaikio_id(name: str) -> str:
    """Return a fixed UUID for a readable name, so expected rows can name it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"zaikio-ops-test:{name}"))


@dataclass
class World:
    """Local and Zaikio accounts of one test."""

    # (id, email, Zaikio UUID or None)
    persons: list[tuple[int, str, str | None]] = field(default_factory=list)
    # (id, name, Zaikio UUID or None, connected to the app)
    organizations: list[tuple[int, str, str | None, bool]] = field(default_factory=list)
    # (person id, organization id, role)
    memberships: list[tuple[int, int, str]] = field(default_factory=list)
    # Zaikio persons without a local person: (Zaikio UUID, email)
    zaikio_only_persons: list[tuple[str, str]] = field(default_factory=list)
    # (Zaikio person UUID, Zaikio organization UUID, roles)
    zaikio_memberships: list[tuple[str, str, list[str]]] = field(default_factory=list)


metadata = sa.MetaData()
users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("email", sa.String(255)),
    sa.Column("zaikio_id", sa.String(36)),
)
companies = sa.Table(
    "companies", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("zaikio_id", sa.String(36)),
)
company_users = sa.Table(
    "company_users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("company_id", sa.Integer, nullable=False),
    sa.Column("role", sa.String(20)),
)


def create_app_tables(engine: Engine, world: World) -> None:
    """Create and fill the app's three tables."""
    metadata.create_all(engine)
    with engine.begin() as connection:
        if world.persons:
            connection.execute(users.insert(), [{"id": i, "email": e, "zaikio_id": z} for i, e, z in world.persons])
        if world.organizations:
            connection.execute(companies.insert(), [{"id": i, "name": n, "zaikio_id": z}
                                                    for i, n, z, _ in world.organizations])
        if world.memberships:
            connection.execute(company_users.insert(), [{"user_id": p, "company_id": o, "role": r}
                                                        for p, o, r in world.memberships])


def hub_state(world: World) -> HubState:
    """Return a stand-in state with the world's Zaikio accounts, the app and its connections."""
    persons = [{"id": z, "email": e, "name": f"Person {i}"} for i, e, z in world.persons if z]
    persons += [{"id": z, "email": e, "name": "Zaikio only"} for z, e in world.zaikio_only_persons]
    seed: dict[str, Any] = {
        "persons": persons,
        "organizations": [{"id": z, "name": n} for _, n, z, _ in world.organizations if z],
        "memberships": [{"person_id": p, "organization_id": o, "roles": r} for p, o, r in world.zaikio_memberships],
        "apps": [{"name": APP_NAME, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                  "redirect_uris": ["http://127.0.0.1:9/callback"],
                  "desired_scopes": ["zaikio.person.r", "zaikio.organization.r", MEMBERS_SCOPE]}],
        "connections": [{"app_name": APP_NAME, "connectable_type": "Organization", "connectable_id": z,
                         "granted_oauth_scopes": [MEMBERS_SCOPE]}
                        for _, _, z, connected in world.organizations if z and connected],
    }
    return seed_from_dict(seed)


def make_config(database_url: str, hub_url: str, output_dir: str, **sections: Any) -> Config:
    """Return a configuration that maps the world's tables, with the client secret in its environment."""
    data: dict[str, Any] = {
        "database": {"url": database_url},
        "schema": {
            "persons": {"table": "users", "columns": {"person_id": "id", "email": "email",
                                                      "zaikio_person_id": "zaikio_id"}},
            "organizations": {"table": "companies", "columns": {"organization_id": "id", "name": "name",
                                                                "zaikio_organization_id": "zaikio_id"}},
            "memberships": {"table": "company_users", "columns": {"person_id": "user_id",
                                                                  "organization_id": "company_id",
                                                                  "role": "role"}},
        },
        "hub": {"url": hub_url, "client_id": CLIENT_ID},
        "output": {"dir": output_dir},
        **sections,
    }
    return config_from_dict(data, environ={"ZAIKIO_CLIENT_SECRET": CLIENT_SECRET})


def membership_table(engine: Engine) -> list[tuple[int, int, str]]:
    """Return the app's membership rows as sorted ``(user_id, company_id, role)`` tuples."""
    with engine.connect() as connection:
        rows = connection.execute(sa.select(company_users.c.user_id, company_users.c.company_id,
                                            company_users.c.role)).all()
    return sorted((int(p), int(o), r) for p, o, r in rows)


def count_rows(engine: Engine, table_name: str, where: str = "") -> int:
    """Return the number of rows of a table, optionally filtered by an SQL condition."""
    clause = f" WHERE {where}" if where else ""
    with engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT COUNT(*) FROM {table_name}{clause}")).scalar_one())


def fast_retry(max_attempts: int = 10) -> RetryPolicy:
    """Return a retry policy with short, seeded backoff for tests against the stand-in."""
    return RetryPolicy(max_attempts=max_attempts, backoff_base=0.02, backoff_max=0.2, rng=random.Random(5))


def large_world(organizations: int, seed: int) -> World:
    """Return a world of many claimed organizations with every kind of difference, drawn from ``seed``.

    Each organization has a local owner who is also the Zaikio owner, so the
    last-owner rule never blocks a change.
    """
    rng = random.Random(seed)
    world = World()
    person_id = 0
    for org_index in range(1, organizations + 1):
        org_zaikio = zaikio_id(f"org-{org_index}")
        world.organizations.append((org_index, f"Organization {org_index}", org_zaikio, True))
        for member in range(rng.randint(3, 7)):
            person_id += 1
            person_zaikio = zaikio_id(f"person-{person_id}")
            mapped = member == 0 or rng.random() < 0.8
            world.persons.append((person_id, f"p{person_id}@example.com", person_zaikio if mapped else None))
            _add_member(world, rng, person_id, org_index, org_zaikio, person_zaikio, member == 0, mapped)
        stranger = zaikio_id(f"stranger-{org_index}")
        world.zaikio_only_persons.append((stranger, f"stranger{org_index}@example.com"))
        world.zaikio_memberships.append((stranger, org_zaikio, ["member"]))
    return world


def _add_member(world: World, rng: random.Random, person_id: int, org_index: int, org_zaikio: str,
                person_zaikio: str, owner: bool, mapped: bool) -> None:
    if owner:
        world.memberships.append((person_id, org_index, "owner"))
        world.zaikio_memberships.append((person_zaikio, org_zaikio, ["owner"]))
        return

    draw = rng.random()
    local_role = rng.choice(["admin", "member"])
    zaikio_role = rng.choice(["admin", "member"])
    if not mapped or draw < 0.25:
        world.memberships.append((person_id, org_index, local_role))
        if mapped:
            world.zaikio_memberships.append((person_zaikio, org_zaikio, [local_role]))
    elif draw < 0.5:
        world.memberships.append((person_id, org_index, local_role))
        world.zaikio_memberships.append((person_zaikio, org_zaikio, [zaikio_role]))
    elif draw < 0.75:
        world.zaikio_memberships.append((person_zaikio, org_zaikio, [zaikio_role]))
    else:
        world.memberships.append((person_id, org_index, local_role))


CLI_ORG = zaikio_id("org-cli")
# One organization with an owner in sync, a role that differs and a member Zaikio does not have.
CLI_WORLD = World(
    persons=[(1, "ann@example.com", zaikio_id("ann")), (2, "bob@example.com", zaikio_id("bob")),
             (3, "cid@example.com", zaikio_id("cid"))],
    organizations=[(7, "Seven", CLI_ORG, True)],
    memberships=[(1, 7, "owner"), (2, 7, "member"), (3, 7, "member")],
    zaikio_memberships=[(zaikio_id("ann"), CLI_ORG, ["owner"]), (zaikio_id("bob"), CLI_ORG, ["admin"])],
)


def write_config(setup, folder: Path) -> Path:
    """Write a TOML configuration for ``setup``'s database and stand-in into ``folder``."""
    path = folder / "zaikio_ops.toml"
    path.write_text(f"""
[database]
url = "{setup.config.database_url}"

[schema.persons]
table = "users"
columns = {{ person_id = "id", email = "email", zaikio_person_id = "zaikio_id" }}

[schema.organizations]
table = "companies"
columns = {{ organization_id = "id", name = "name", zaikio_organization_id = "zaikio_id" }}

[schema.memberships]
table = "company_users"
columns = {{ person_id = "user_id", organization_id = "company_id", role = "role" }}

[hub]
url = "{setup.base_url}"
client_id = "{CLIENT_ID}"

[output]
dir = "{folder / 'out'}"
""", encoding="utf-8")
    return path
