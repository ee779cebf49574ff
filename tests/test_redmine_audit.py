"""The audit of a Redmine database, run through the ``zaikio-ops`` command on every backend.

The expected numbers are counted by hand from Redmine's fixtures (users,
email_addresses, projects, members, member_roles, roles), mapped by
examples/redmine.toml. In those fixtures:

- Users 1, 2, 3, 4, 5, 7, 8 and 9 are of type User. User 6 is the
  AnonymousUser, 10 and 11 are Groups, 12 and 13 built-in groups.
- User 5 has status 3 (locked), the other Users status 1.
- Every User has exactly one default e-mail address (email_addresses 1-5, 7-9),
  all different and all well formed.
- Members 6 and 9 belong to the groups 10 and 11, the other members
  (1, 2, 3, 4, 5, 7, 8, 10) to Users.
- Role 1 is Manager (the owner role in the example), role 2 Developer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REDMINE_CONFIG = Path(__file__).resolve().parent.parent / "examples" / "redmine.toml"

FINDING_KINDS = (
    "duplicate_email", "missing_email", "malformed_email", "person_without_organization",
    "organization_without_owner", "organization_owner_unmapped", "zaikio_person_id_shared",
    "zaikio_organization_id_shared", "inactive_person",
)


@pytest.fixture
def audit_report(run_cli, redmine_url: str) -> dict[str, Any]:
    """Run ``zaikio-ops --config examples/redmine.toml audit --json`` and parse its output."""
    result = run_cli("--config", str(REDMINE_CONFIG), "audit", "--json",
                     env={"ZAIKIO_OPS_DATABASE_URL": redmine_url})
    assert result.returncode == 0, f"exit {result.returncode}, stderr:\n{result.stderr}"
    return json.loads(result.stdout)


def test_audit_summary_persons(audit_report: dict[str, Any]) -> None:
    summary = audit_report["summary"]

    # Users 1, 2, 3, 4, 5, 7, 8, 9 are type User. Users 6 and 10-13 are not persons.
    assert summary["persons_total"] == 8
    # Redmine has no Zaikio person column, so no person is mapped.
    assert summary["persons_mapped"] == 0
    assert summary["persons_unmapped"] == 8


def test_audit_summary_organizations(audit_report: dict[str, Any]) -> None:
    summary = audit_report["summary"]

    # Projects 1-6, sub-projects included.
    assert summary["organizations_total"] == 6
    # Redmine has no Zaikio organization column.
    assert summary["organizations_mapped"] == 0
    assert summary["organizations_unmapped"] == 6
    # Claiming needs an owner with a Zaikio person ID, and no person has one.
    assert summary["organizations_claimable"] == 0


def test_audit_summary_memberships(audit_report: dict[str, Any]) -> None:
    # Member roles 1, 2, 3, 4, 5, 8, 9, 11, 12 belong to User members
    # (members 1, 2, 3, 4, 5, 7, 8, 10). Member roles 6 and 7 (member 6,
    # group 10) and 10 (member 9, group 11) belong to groups.
    assert audit_report["summary"]["memberships_total"] == 9


def test_audit_lists_every_finding_kind(audit_report: dict[str, Any]) -> None:
    # Kinds with no rows are listed with 0, so a script can read any kind.
    assert sorted(audit_report["findings"]) == sorted(FINDING_KINDS)


def test_audit_email_findings(audit_report: dict[str, Any]) -> None:
    findings = audit_report["findings"]

    # The 8 default addresses all differ, even after trim, NFC and casefold.
    assert findings["duplicate_email"] == 0
    # Users 1-5 and 7-9 each have a default address (email_addresses 1-5, 7-9).
    assert findings["missing_email"] == 0
    # Every address has one "@", a local part, a dotted domain, no whitespace.
    assert findings["malformed_email"] == 0


def test_audit_membership_findings(audit_report: dict[str, Any]) -> None:
    findings = audit_report["findings"]

    # Users 4, 7 and 9 appear in no member row.
    assert findings["person_without_organization"] == 3
    # Project 2 has Developers only (member roles 3 and 11, and 10 of group
    # 11). Projects 3, 4 and 6 have no members at all.
    assert findings["organization_without_owner"] == 4
    # Project 1 (Manager: user 2) and project 5 (Managers: users 2, 8, 1)
    # have owners, none with a Zaikio person ID.
    assert findings["organization_owner_unmapped"] == 2


def test_audit_identity_findings(audit_report: dict[str, Any]) -> None:
    findings = audit_report["findings"]

    # No Zaikio IDs at all, so none is shared.
    assert findings["zaikio_person_id_shared"] == 0
    assert findings["zaikio_organization_id_shared"] == 0
    # User 5 is locked (status 3).
    assert findings["inactive_person"] == 1
