"""Comparing one organization's Zaikio members with its local membership rows.

Every person in either list becomes one plan row of one kind:

``in_sync``
    Mapped person, local role equals the target role. No action.
``missing_locally``
    Zaikio member whose Zaikio UUID belongs to a local person without a local
    membership. Action ``add``.
``missing_at_zaikio``
    Local member with a Zaikio UUID who is not a member of the Zaikio
    organization. Action ``remove``; apply carries it out only under the
    ``full`` policy.
``role_differs``
    Mapped person in both, local role differs from the target role. Action ``update``.
``unmapped_zaikio_member``
    Zaikio member whose UUID no local person has: a candidate for a claim
    link. No action.
``unmapped_local_member``
    Local member without a Zaikio UUID, who cannot be compared with Zaikio
    until they claim their account. No action.

An organization whose client-credentials grant fails with
``bearer_does_not_exist`` gets one ``organization_disconnected`` row, and one
whose fetch failed otherwise gets one ``fetch_failed`` row, both without action.

Several local rows per person: an app may store one row per role. The
person's local roles are the distinct non-empty roles of their rows in the
organization, and the person is in sync only when that set is exactly the
target role. Otherwise the row is ``role_differs`` and apply leaves one row
with the target role (see :mod:`zaikio_ops.reconcile.apply`). ``local_role``
shows the set sorted and joined with ``|``.

The last local owner: when the removals and role updates of an organization
would leave it without any local owner (a role in ``[audit] owner_roles``)
although it had one, those changes to owners get action ``none`` and a note in
``detail``. This happens while the Zaikio owner is not yet mapped to a local
person.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import pandas as pd

from zaikio_ops.config import RoleSettings
from zaikio_ops.reconcile.fetch import STATUS_DISCONNECTED, STATUS_OK, FetchOutcome, ZaikioMember
from zaikio_ops.reconcile.roles import target_role

KINDS = ("in_sync", "missing_locally", "missing_at_zaikio", "role_differs", "unmapped_zaikio_member",
         "unmapped_local_member", "organization_disconnected", "fetch_failed")
DRIFT_KINDS = ("missing_locally", "missing_at_zaikio", "role_differs")
ACTIONS = ("add", "update", "remove", "none")
ROLE_SEPARATOR = "|"
LAST_OWNER_NOTE = "kept: the organization would have no local owner left"

DIFF_COLUMNS = ("organization_id", "zaikio_organization_id", "kind", "person_id", "zaikio_person_id",
                "zaikio_email", "local_role", "zaikio_roles", "target_role", "action", "detail")


@dataclass(frozen=True)
class OrganizationInput:
    """Everything the comparison of one organization needs."""

    organization_id: str
    outcome: FetchOutcome
    local_rows: pd.DataFrame
    person_by_zaikio_id: dict[str, str]
    zaikio_id_by_person: dict[str, str]


def compare_organization(data: OrganizationInput, roles: RoleSettings,
                         owner_roles: Collection[str]) -> list[dict[str, str]]:
    """Return the plan rows of one organization, sorted by kind and person.

    Parameters
    ----------
    data : OrganizationInput
        The fetch outcome and the local rows of the organization.
    roles : RoleSettings
        How Zaikio roles map to a local role.
    owner_roles : collection of str
        Local roles that make a person an owner.
    """
    outcome = data.outcome
    if outcome.status != STATUS_OK:
        kind = "organization_disconnected" if outcome.status == STATUS_DISCONNECTED else "fetch_failed"
        return [_row(data, kind=kind, detail=outcome.error or "")]

    local_roles = _local_roles(data.local_rows)
    rows = []
    seen: set[str] = set()
    for member in outcome.members:
        person_id = data.person_by_zaikio_id.get(member.zaikio_person_id)
        if person_id is not None:
            seen.add(person_id)
        rows.append(_zaikio_member_row(data, member, person_id, local_roles.get(person_id), roles))

    for person_id, held in local_roles.items():
        if person_id not in seen:
            rows.append(_local_only_row(data, person_id, held))

    _keep_last_owner(rows, local_roles, owner_roles)
    return sorted(rows, key=lambda row: (KINDS.index(row["kind"]), row["person_id"], row["zaikio_person_id"]))


def _local_roles(local_rows: pd.DataFrame) -> dict[str, set[str]]:
    roles: dict[str, set[str]] = {}
    for person_id, role in zip(local_rows["person_id"], local_rows["role"]):
        held = roles.setdefault(str(person_id), set())
        if isinstance(role, str) and role:
            held.add(role)
    return roles


def _zaikio_member_row(data: OrganizationInput, member: ZaikioMember, person_id: str | None,
                       held: set[str] | None, roles: RoleSettings) -> dict[str, str]:
    target = target_role(member.roles, roles)
    common = {"zaikio_person_id": member.zaikio_person_id, "zaikio_email": member.email or "",
              "zaikio_roles": ROLE_SEPARATOR.join(member.roles), "target_role": target}

    if person_id is None:
        return _row(data, kind="unmapped_zaikio_member", **common)
    if held is None:
        return _row(data, kind="missing_locally", person_id=person_id, action="add", **common)
    if held == {target}:
        return _row(data, kind="in_sync", person_id=person_id, local_role=target, **common)
    return _row(data, kind="role_differs", person_id=person_id, local_role=_joined(held), action="update",
                **common)


def _local_only_row(data: OrganizationInput, person_id: str, held: set[str]) -> dict[str, str]:
    zaikio_person_id = data.zaikio_id_by_person.get(person_id)
    if zaikio_person_id is None:
        return _row(data, kind="unmapped_local_member", person_id=person_id, local_role=_joined(held))
    return _row(data, kind="missing_at_zaikio", person_id=person_id, zaikio_person_id=zaikio_person_id,
                local_role=_joined(held), action="remove")


def _keep_last_owner(rows: list[dict[str, str]], local_roles: dict[str, set[str]],
                     owner_roles: Collection[str]) -> None:
    """Set action ``none`` on owner removals and demotions that would leave no local owner."""
    owners = set(owner_roles)
    owners_before = {person for person, held in local_roles.items() if held & owners}
    if not owners_before:
        return

    final = {person: set(held) for person, held in local_roles.items()}
    for row in rows:
        if row["action"] in ("add", "update"):
            final[row["person_id"]] = {row["target_role"]}
        elif row["action"] == "remove":
            final.pop(row["person_id"], None)
    if any(held & owners for held in final.values()):
        return

    for row in rows:
        if row["action"] in ("update", "remove") and row["person_id"] in owners_before:
            row["action"] = "none"
            row["detail"] = LAST_OWNER_NOTE


def _row(data: OrganizationInput, *, kind: str, person_id: str = "", zaikio_person_id: str = "",
         zaikio_email: str = "", local_role: str = "", zaikio_roles: str = "", target_role: str = "",
         action: str = "none", detail: str = "") -> dict[str, str]:
    return {
        "organization_id": data.organization_id,
        "zaikio_organization_id": data.outcome.zaikio_organization_id,
        "kind": kind, "person_id": person_id, "zaikio_person_id": zaikio_person_id,
        "zaikio_email": zaikio_email, "local_role": local_role, "zaikio_roles": zaikio_roles,
        "target_role": target_role, "action": action, "detail": detail,
    }


def _joined(roles: set[str]) -> str:
    return ROLE_SEPARATOR.join(sorted(roles))
