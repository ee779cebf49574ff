"""The app's side of the reconciliation: claimed organizations, mapped persons, memberships.

The local membership rows of each organization are summarized by a
fingerprint. A plan stores the fingerprint it was computed from, and apply
recomputes it, so a plan never overwrites memberships that changed after it
was made.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from zaikio_ops.source import Source, normalize_frame

logger = logging.getLogger(__name__)

FINGERPRINT_LENGTH = 16


@dataclass
class LocalData:
    """The app's data that the reconciliation reads.

    Attributes
    ----------
    organizations : DataFrame
        Claimed organizations only: ``organization_id``, ``name``, ``zaikio_organization_id``.
    person_by_zaikio_id : dict
        Zaikio person UUID to local ``person_id``, for mapped persons.
    zaikio_id_by_person : dict
        Local ``person_id`` to Zaikio person UUID, for mapped persons.
    memberships : DataFrame
        ``person_id``, ``organization_id``, ``role`` of the claimed organizations;
        a person may have several rows (one per role) in one organization.
    """

    organizations: pd.DataFrame
    person_by_zaikio_id: dict[str, str]
    zaikio_id_by_person: dict[str, str]
    memberships: pd.DataFrame

    def memberships_of(self, organization_id: str) -> pd.DataFrame:
        """Return the membership rows of one organization."""
        return self.memberships.loc[self.memberships["organization_id"] == organization_id]


def read_local(source: Source) -> LocalData:
    """Read the claimed organizations, the person mapping and the memberships.

    A Zaikio person UUID used by two local persons (the schema step's unique
    index prevents it) maps to the smaller local id, with a warning.
    """
    organizations = source.read("organizations", ["organization_id", "name", "zaikio_organization_id"])
    claimed = organizations.loc[organizations["zaikio_organization_id"].notna()]
    claimed = claimed.sort_values("organization_id", kind="stable").reset_index(drop=True)

    persons = source.read("persons", ["person_id", "zaikio_person_id"])
    mapped = persons.loc[persons["zaikio_person_id"].notna()].sort_values("person_id", kind="stable")
    duplicated = mapped["zaikio_person_id"].duplicated(keep="first")
    if duplicated.any():
        logger.warning("%d local person(s) share a Zaikio person UUID with another person; "
                       "the reconciliation uses the smallest local person id of each UUID",
                       int(duplicated.sum()))
    mapped = mapped.loc[~duplicated]

    memberships = source.read("memberships", ["person_id", "organization_id", "role"])
    memberships = memberships.loc[memberships["organization_id"].isin(set(claimed["organization_id"]))]
    logger.info("Read %d claimed organizations, %d mapped persons, %d membership rows",
                len(claimed), len(mapped), len(memberships))

    return LocalData(
        organizations=claimed,
        person_by_zaikio_id=dict(zip(mapped["zaikio_person_id"], mapped["person_id"])),
        zaikio_id_by_person=dict(zip(mapped["person_id"], mapped["zaikio_person_id"])),
        memberships=memberships.reset_index(drop=True),
    )


def fingerprint(rows: Iterable[tuple[object, object]]) -> str:
    """Return a short SHA-256 digest of membership rows given as ``(person_id, role)`` pairs.

    The digest ignores row order but counts duplicate rows, so adding, removing
    or changing any row of the organization changes it.
    """
    lines = sorted(f"{_text(person)}\t{_text(role)}" for person, role in rows)
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return digest[:FINGERPRINT_LENGTH]


def fingerprints(memberships: pd.DataFrame, organization_ids: Iterable[str]) -> dict[str, str]:
    """Return the fingerprint of every organization in ``organization_ids`` (empty ones too)."""
    groups = {key: group for key, group in memberships.groupby("organization_id", sort=False)}
    result = {}
    for organization_id in organization_ids:
        group = groups.get(organization_id)
        pairs = [] if group is None else zip(group["person_id"], group["role"])
        result[organization_id] = fingerprint(pairs)
    return result


def fingerprint_in_transaction(source: Source, connection: Connection, organization_id: str) -> str:
    """Recompute one organization's fingerprint on ``connection``, inside the caller's transaction."""
    memberships = source.selectable("memberships")
    column = memberships.c.organization_id
    statement = sa.select(memberships.c.person_id, memberships.c.role).where(
        column == typed_value(column, organization_id))
    rows = connection.execute(statement).all()
    frame = normalize_frame(pd.DataFrame(rows, columns=["person_id", "role"]))
    return fingerprint(zip(frame["person_id"], frame["role"]))


def typed_value(column: sa.ColumnElement, value: str) -> object:
    """Convert an identifier read as text back to the column's Python type (``"7"`` to ``7``).

    Columns of unknown type (query mappings) get the text unchanged.
    """
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is int:
        return int(value)
    return value


def _text(value: object) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and pd.isna(value):
        return ""
    return str(value)
