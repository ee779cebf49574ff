"""A demo app database for trying the kit without a real app.

:func:`build_demo_database` writes an SQLite database in the shape of a typical
app that has its own account tables (``users``, ``companies``,
``company_users``), not the kit's canonical names, so the demo exercises the
schema mapping. The data looks like a real customer base. Names come from the
Faker locales de_DE, en_GB, en_US, fr_FR, pl_PL, es_ES and cs_CZ, organization
sizes follow a Zipf law, and members have several roles. A share is already
mapped to Zaikio, last logins spread over years, and every data-quality problem
that the audit reports is planted.

The generator counts what it plants from its own records, so tests can check
the audit against numbers that do not come from the audit.
:func:`write_demo_config` writes the matching ``zaikio_ops.toml``.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from random import Random

from faker import Faker

from zaikio_ops.errors import DatabaseError

logger = logging.getLogger(__name__)

# Faker locale and the app's locale code for it, with its share of persons.
LOCALES = (
    ("de_DE", "de", 0.38),
    ("en_GB", "en", 0.12),
    ("en_US", "en", 0.12),
    ("fr_FR", "fr", 0.10),
    ("pl_PL", "pl", 0.10),
    ("es_ES", "es", 0.10),
    ("cs_CZ", "cs", 0.08),
)
ROLES = ("owner", "admin", "member", "viewer")
DOMAINS = ("example.com", "example.net", "example.org", "druckerei.example", "verlag.example")

# Fixed, so that a seed gives the same database on any day. Last logins lie before it.
DEMO_REFERENCE_TIME = datetime(2026, 12, 1, 9, 0, 0)

# Shares of persons (or organizations) that carry each planted property.
SHARE_PERSONS_MAPPED = 0.25
SHARE_ORGANIZATIONS_MAPPED = 0.15
SHARE_ORPHANS = 0.03
SHARE_INACTIVE = 0.07
SHARE_NEVER_LOGGED_IN = 0.10
SHARE_MISSING_EMAIL = 0.015
SHARE_MALFORMED_EMAIL = 0.015
SHARE_DUPLICATE_GROUPS = 0.012
SHARE_ORGANIZATIONS_WITHOUT_OWNER = 0.06
SHARE_SOLE_TRADERS = 0.15
MEMBERSHIPS_PER_PERSON = 1.25

DEMO_CONFIG_NAME = "zaikio_ops.toml"
_METADATA_TABLE = "demo_metadata"

_SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email VARCHAR(255),
    first_name VARCHAR(100),
    last_name VARCHAR(100),
    locale VARCHAR(8),
    is_active BOOLEAN NOT NULL DEFAULT 1,
    last_login_at DATETIME,
    created_at DATETIME NOT NULL,
    zaikio_id VARCHAR(36)
);
CREATE TABLE companies (
    id INTEGER PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    created_at DATETIME NOT NULL,
    zaikio_id VARCHAR(36)
);
CREATE TABLE company_users (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    company_id INTEGER NOT NULL REFERENCES companies(id),
    role VARCHAR(20) NOT NULL,
    UNIQUE (user_id, company_id)
);
CREATE INDEX index_company_users_on_company_id ON company_users (company_id);
CREATE INDEX index_users_on_zaikio_id ON users (zaikio_id);
CREATE TABLE demo_metadata (key VARCHAR(40) PRIMARY KEY, value TEXT NOT NULL);
"""

# Transliteration used to build ASCII e-mail addresses from names.
_ASCII_LETTERS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ł": "l",
                                "ø": "o", "æ": "ae", "œ": "oe", "đ": "d"})


@dataclass
class _Person:
    id: int
    first_name: str
    last_name: str
    locale: str
    email: str | None
    created_at: datetime
    is_active: bool = True
    last_login_at: datetime | None = None
    zaikio_id: str | None = None


@dataclass
class _Organization:
    id: int
    name: str
    created_at: datetime
    zaikio_id: str | None = None
    members: dict[int, str] = field(default_factory=dict)

    def owners(self) -> list[int]:
        return [person for person, role in self.members.items() if role == "owner"]


def build_demo_database(path: str | os.PathLike[str], *, persons: int = 4000,
                        organizations: int = 300, seed: int = 20261204,
                        reference_time: datetime | None = None) -> dict[str, int]:
    """Write a demo app database to ``path`` and return what was planted in it.

    The file is written to a temporary name and renamed, so it is complete or
    absent. An existing file is replaced only if it is an earlier demo database.

    Parameters
    ----------
    path : path-like
        The SQLite file to create.
    persons, organizations : int
        How many ``users`` and ``companies`` rows to create (at least 50 and 5).
    seed : int
        The same seed gives the same database.
    reference_time : datetime, optional
        The "now" of the demo (naive UTC); last logins lie before it. Defaults to
        :data:`DEMO_REFERENCE_TIME`, so the database does not depend on the day.

    Returns
    -------
    dict
        Totals (``persons``, ``organizations``, ``memberships``, ``persons_mapped``,
        ``organizations_mapped``, ``never_logged_in``, ``largest_organization``,
        ``median_organization_size``) and, under the audit's finding kinds, how
        many persons or organizations each planted problem affects.

    Raises
    ------
    DatabaseError
        When ``path`` exists and is not a demo database, or cannot be written.
    ValueError
        When the sizes are too small to plant every problem.
    """
    if persons < 50 or organizations < 5:
        raise ValueError(f"persons must be >= 50 and organizations >= 5, got {persons} and {organizations}.")
    path = Path(path)
    _check_replaceable(path)
    now = reference_time or DEMO_REFERENCE_TIME

    generator = _DemoGenerator(seed, now)
    people = generator.persons(persons)
    companies = generator.organizations(organizations, people)
    generator.map_accounts(people, companies)
    generator.plant_logins_and_status(people)
    email_traps = generator.plant_email_traps(people)

    planted = _bookkeeping(people, companies, email_traps, generator.shared_uuid_persons,
                           generator.shared_uuid_organizations)
    _write_database(path, people, companies, seed)
    logger.info("Wrote demo database %s: %d persons, %d organizations, %d memberships",
                path, planted["persons"], planted["organizations"], planted["memberships"])
    return planted


def write_demo_config(directory: str | os.PathLike[str], database_path: str | os.PathLike[str]) -> Path:
    """Write ``zaikio_ops.toml`` for the demo database into ``directory``.

    The file maps the demo schema (``users``, ``companies``, ``company_users``)
    onto the canonical names and points the hub settings at the local stand-in.
    It contains no secrets: the demo's client secret comes from the environment.

    Returns
    -------
    Path
        The written configuration file.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{Path(database_path).resolve()}"
    text = _DEMO_CONFIG_TEMPLATE.format(
        database_url=_toml_string(database_url),
        output_dir=_toml_string(str((directory / "out").resolve())),
    )
    path = directory / DEMO_CONFIG_NAME
    path.write_text(text, encoding="utf-8")
    logger.info("Wrote demo configuration %s", path)
    return path


_DEMO_CONFIG_TEMPLATE = """\
# zaikio-ops configuration for the demo database written by build_demo_database.
# Secrets do not belong here: set ZAIKIO_CLIENT_SECRET in the environment.

[database]
url = {database_url}

[schema.persons]
table = "users"

[schema.persons.columns]
person_id = "id"
email = "email"
first_name = "first_name"
last_name = "last_name"
locale = "locale"
active = "is_active"
last_login_at = "last_login_at"
zaikio_person_id = "zaikio_id"

[schema.organizations]
table = "companies"

[schema.organizations.columns]
organization_id = "id"
name = "name"
zaikio_organization_id = "zaikio_id"

[schema.memberships]
table = "company_users"

[schema.memberships.columns]
person_id = "user_id"
organization_id = "company_id"
role = "role"

[audit]
owner_roles = ["owner"]
inactive_login_days = 365

[export]
delimiter = ","
bom = false

[output]
dir = {output_dir}

[hub]
url = "http://127.0.0.1:8765"
client_id = "zaikio-ops-demo"
app_name = "zaikio_ops_demo"
redirect_uri = "http://127.0.0.1:8766/claims/callback"
"""


class _DemoGenerator:
    """Generator of the demo rows, drawn from one seeded random generator, with a record of the traps."""

    def __init__(self, seed: int, now: datetime) -> None:
        self.random = Random(seed)
        self.now = now
        self.fakers = {}
        for index, (locale, _, _) in enumerate(LOCALES):
            faker = Faker(locale)
            faker.seed_instance(seed + index)
            self.fakers[locale] = faker
        self.orphans: set[int] = set()
        self.organizations_without_owner: set[int] = set()
        self.shared_uuid_persons: set[int] = set()
        self.shared_uuid_organizations: set[int] = set()

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.random.getrandbits(128), version=4))

    def timestamp(self, min_days: float, max_days: float) -> datetime:
        """Return a time between ``max_days`` and ``min_days`` before now, to the second."""
        seconds = self.random.uniform(min_days, max_days) * 86_400
        return (self.now - timedelta(seconds=seconds)).replace(microsecond=0)

    def persons(self, count: int) -> list[_Person]:
        locales = [entry[0] for entry in LOCALES]
        app_locales = {entry[0]: entry[1] for entry in LOCALES}
        weights = [entry[2] for entry in LOCALES]
        people = []
        for person_id in range(1, count + 1):
            locale = self.random.choices(locales, weights)[0]
            faker = self.fakers[locale]
            first, last = faker.first_name(), faker.last_name()
            email = f"{_ascii_local_part(first, last)}.{person_id}@{self.random.choice(DOMAINS)}"
            created = self.timestamp(30, 9 * 365)
            people.append(_Person(person_id, first, last, app_locales[locale], email, created))
        return people

    def organizations(self, count: int, people: list[_Person]) -> list[_Organization]:
        """Create organizations of Zipf-like sizes and give every person but the orphans a membership."""
        companies = []
        for organization_id in range(1, count + 1):
            faker = self.fakers[self.random.choice(LOCALES)[0]]
            companies.append(_Organization(organization_id, faker.company(), self.timestamp(60, 10 * 365)))

        ids = [person.id for person in people]
        self.random.shuffle(ids)
        orphan_count = max(2, round(len(ids) * SHARE_ORPHANS))
        self.orphans = set(ids[:orphan_count])
        members = ids[orphan_count:]

        sizes = self._organization_sizes(count, len(members))
        self._fill_memberships(companies, members, sizes)
        self._assign_roles(companies)
        return companies

    def _organization_sizes(self, count: int, members: int) -> list[int]:
        """Draw sizes from a Zipf law (size ~ 1 / rank) with noise, plus single-person ones, in random order."""
        weights = [self.random.lognormvariate(0, 0.3) / rank for rank in range(1, count + 1)]
        total = sum(weights)
        target = members * MEMBERSHIPS_PER_PERSON
        sizes = [min(members, max(1, round(weight / total * target))) for weight in weights]
        for index in self.random.sample(range(count // 3, count), round(count * SHARE_SOLE_TRADERS)):
            sizes[index] = 1
        self.random.shuffle(sizes)
        return sizes

    def _fill_memberships(self, companies: list[_Organization], members: list[int],
                          sizes: list[int]) -> None:
        """Fill each organization's slots, first with one membership per person, then at random."""
        slots = [index for index, size in enumerate(sizes) for _ in range(size)]
        self.random.shuffle(slots)
        while len(slots) < len(members):
            slots.append(self.random.choices(range(len(sizes)), sizes)[0])

        for person_id, slot in zip(members, slots):
            companies[slot].members[person_id] = "member"
        for slot in slots[len(members):]:
            organization = companies[slot]
            for _ in range(20):
                person_id = self.random.choice(members)
                if person_id not in organization.members:
                    organization.members[person_id] = "member"
                    break

        for organization in companies:
            if not organization.members:
                organization.members[self.random.choice(members)] = "member"

    def _assign_roles(self, companies: list[_Organization]) -> None:
        """Give most organizations one or two owners and leave a few without any."""
        without_owner = max(2, round(len(companies) * SHARE_ORGANIZATIONS_WITHOUT_OWNER))
        self.organizations_without_owner = {
            organization.id for organization in self.random.sample(companies, without_owner)
        }
        for organization in companies:
            people = list(organization.members)
            self.random.shuffle(people)
            owners = 0 if organization.id in self.organizations_without_owner else (
                self.random.choices((1, 2, 3), (0.72, 0.23, 0.05))[0])
            for position, person_id in enumerate(people):
                if position < owners:
                    role = "owner"
                else:
                    role = self.random.choices(("admin", "member", "viewer"), (0.12, 0.63, 0.25))[0]
                organization.members[person_id] = role

    def map_accounts(self, people: list[_Person], companies: list[_Organization]) -> None:
        """Map a share of persons and organizations to Zaikio UUIDs, plus one shared UUID each."""
        for person in self.random.sample(people, round(len(people) * SHARE_PERSONS_MAPPED)):
            person.zaikio_id = self.uuid()

        by_id = {person.id: person for person in people}
        with_owner = [organization for organization in companies if organization.owners()]
        mapped_count = max(2, round(len(companies) * SHARE_ORGANIZATIONS_MAPPED))
        for organization in self.random.sample(with_owner, min(mapped_count, len(with_owner))):
            organization.zaikio_id = self.uuid()
            claimer = by_id[organization.owners()[0]]
            claimer.zaikio_id = claimer.zaikio_id or self.uuid()

        mapped = [person for person in people if person.zaikio_id]
        unmapped = [person for person in people if not person.zaikio_id]
        for _ in range(max(1, len(people) // 2000)):
            first = self.random.choice(mapped)
            second = self.random.choice(unmapped)
            unmapped.remove(second)
            second.zaikio_id = first.zaikio_id
            self.shared_uuid_persons |= {first.id, second.id}

        mapped_orgs = [organization for organization in companies if organization.zaikio_id]
        unmapped_orgs = [organization for organization in companies if not organization.zaikio_id]
        first_org, second_org = self.random.choice(mapped_orgs), self.random.choice(unmapped_orgs)
        second_org.zaikio_id = first_org.zaikio_id
        self.shared_uuid_organizations = {first_org.id, second_org.id}

    def plant_logins_and_status(self, people: list[_Person]) -> None:
        """Spread last logins over years (recent for mapped persons) and deactivate a share."""
        for person in people:
            if self.random.random() < SHARE_NEVER_LOGGED_IN:
                continue
            mean_days = 120 if person.zaikio_id else 420
            age = min(self.random.expovariate(1 / mean_days), 8 * 365)
            person.last_login_at = self.timestamp(age, age)

        for person in self.random.sample(people, round(len(people) * SHARE_INACTIVE)):
            person.is_active = False

    def plant_email_traps(self, people: list[_Person]) -> dict[str, set[int]]:
        """Blank, break and duplicate e-mail addresses on disjoint sets of persons."""
        pool = list(people)
        self.random.shuffle(pool)
        missing = _take(pool, max(2, round(len(people) * SHARE_MISSING_EMAIL)))
        malformed = _take(pool, max(2, round(len(people) * SHARE_MALFORMED_EMAIL)))
        groups = max(3, round(len(people) * SHARE_DUPLICATE_GROUPS))

        for index, person in enumerate(missing):
            person.email = (None, "", "   ")[index % 3]
        for index, person in enumerate(malformed):
            person.email = _malformed_address(person, index)

        duplicates: set[int] = set()
        for index in range(groups):
            members = self._plant_duplicate_group(pool, index)
            duplicates |= {person.id for person in members}
        return {"missing": {p.id for p in missing}, "malformed": {p.id for p in malformed},
                "duplicates": duplicates}

    def _plant_duplicate_group(self, pool: list[_Person], index: int) -> list[_Person]:
        """Give one to two persons a variant of another person's address.

        The variants differ only in case, surrounding whitespace or Unicode
        normalization (NFD instead of NFC), so they are equal after normalizing.
        """
        original = pool.pop()
        variant = index % 3
        if variant == 2:
            local = original.last_name.casefold().replace(" ", "")
            if local.isascii() or not _is_address_text(local):
                local = "müller"
            domain = original.email.rpartition("@")[2]
            original.email = unicodedata.normalize("NFC", f"{local}.{original.id}@{domain}")

        copies = 2 if index % 4 == 3 else 1
        group = [original]
        for copy in range(copies):
            twin = pool.pop()
            twin.email = _email_variant(original.email, (variant + copy) % 3)
            group.append(twin)
        return group


def _take(pool: list[_Person], count: int) -> list[_Person]:
    selected = pool[-count:]
    del pool[-count:]
    return selected


def _email_variant(address: str, variant: int) -> str:
    """Return ``address`` changed in case (0), surrounding whitespace (1) or to NFD (2)."""
    if variant == 0:
        local, _, domain = address.partition("@")
        return f"{local.title()}@{domain.upper()}"
    if variant == 1:
        return f"  {address} "
    decomposed = unicodedata.normalize("NFD", address)
    return decomposed if decomposed != address else address.upper()


def _malformed_address(person: _Person, index: int) -> str:
    local = _ascii_local_part(person.first_name, person.last_name)
    shapes = (
        f"{local}.{person.id}.example.com",
        f"{local}.{person.id}@@example.com",
        f"{local}.{person.id}@localhost",
        f"{person.first_name} {person.last_name} {person.id}@example.com",
        f"{local}.{person.id}@",
    )
    return shapes[index % len(shapes)]


def _ascii_local_part(first: str, last: str) -> str:
    text = f"{first}.{last}".casefold().translate(_ASCII_LETTERS)
    text = unicodedata.normalize("NFKD", text)
    allowed = "".join(char for char in text if char.isascii() and (char.isalnum() or char in ".-"))
    return allowed.strip(".-") or "user"


def _is_address_text(local: str) -> bool:
    return all(char.isalpha() or char in ".-" for char in local)


def _bookkeeping(people: list[_Person], companies: list[_Organization], email_traps: dict[str, set[int]],
                 shared_persons: set[int], shared_organizations: set[int]) -> dict[str, int]:
    """Count the planted properties from the generator's own records."""
    mapped_ids = {person.id for person in people if person.zaikio_id}
    with_membership = {person_id for organization in companies for person_id in organization.members}
    sizes = sorted(len(organization.members) for organization in companies)
    owners_unmapped = [
        organization for organization in companies
        if not organization.zaikio_id and organization.owners()
        and not any(owner in mapped_ids for owner in organization.owners())
    ]
    return {
        "persons": len(people),
        "organizations": len(companies),
        "memberships": sum(sizes),
        "persons_mapped": len(mapped_ids),
        "organizations_mapped": sum(1 for organization in companies if organization.zaikio_id),
        "never_logged_in": sum(1 for person in people if person.last_login_at is None),
        "largest_organization": sizes[-1],
        "median_organization_size": int(sizes[len(sizes) // 2]),
        "duplicate_email": len(email_traps["duplicates"]),
        "missing_email": len(email_traps["missing"]),
        "malformed_email": len(email_traps["malformed"]),
        "person_without_organization": len(people) - len(with_membership),
        "organization_without_owner": sum(1 for organization in companies if not organization.owners()),
        "organization_owner_unmapped": len(owners_unmapped),
        "zaikio_person_id_shared": len(shared_persons),
        "zaikio_organization_id_shared": len(shared_organizations),
        "inactive_person": sum(1 for person in people if not person.is_active),
    }


def _check_replaceable(path: Path) -> None:
    if not path.exists():
        return
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (_METADATA_TABLE,)
            ).fetchone()
    except sqlite3.DatabaseError:
        found = None
    if not found:
        raise DatabaseError(
            f"{path} exists and is not a zaikio-ops demo database, so it was not replaced. "
            f"Choose another path or remove the file."
        )


def _write_database(path: Path, people: list[_Person], companies: list[_Organization], seed: int) -> None:
    """Write all rows in one transaction to a temporary file and rename it to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(descriptor)
    try:
        connection = sqlite3.connect(temporary)
        try:
            connection.executescript(_SCHEMA)
            with connection:
                _insert_rows(connection, people, companies, seed)
        finally:
            connection.close()
        os.replace(temporary, path)
    except (OSError, sqlite3.Error) as exc:
        Path(temporary).unlink(missing_ok=True)
        raise DatabaseError(f"Could not write the demo database {path}: {exc}.") from None


def _insert_rows(connection: sqlite3.Connection, people: list[_Person],
                 companies: list[_Organization], seed: int) -> None:
    connection.executemany(
        "INSERT INTO users (id, email, first_name, last_name, locale, is_active, last_login_at,"
        " created_at, zaikio_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(p.id, p.email, p.first_name, p.last_name, p.locale, int(p.is_active),
          _sql_time(p.last_login_at), _sql_time(p.created_at), p.zaikio_id) for p in people],
    )
    connection.executemany(
        "INSERT INTO companies (id, name, created_at, zaikio_id) VALUES (?, ?, ?, ?)",
        [(c.id, c.name, _sql_time(c.created_at), c.zaikio_id) for c in companies],
    )
    connection.executemany(
        "INSERT INTO company_users (user_id, company_id, role) VALUES (?, ?, ?)",
        [(person_id, c.id, role) for c in companies for person_id, role in c.members.items()],
    )
    connection.executemany(
        f"INSERT INTO {_METADATA_TABLE} (key, value) VALUES (?, ?)",
        [("generator", "zaikio_ops.demo"), ("seed", str(seed))],
    )


def _sql_time(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else None


def _toml_string(text: str) -> str:
    # A JSON string literal is a valid TOML basic string (same escapes).
    return json.dumps(text, ensure_ascii=False)
