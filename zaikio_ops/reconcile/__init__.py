"""Reconciling Zaikio memberships with the app's local memberships.

Once an organization is claimed (the app stores its Zaikio organization UUID),
Zaikio decides who belongs to it and with which role. The reconciliation runs
in two steps:

1. :func:`make_plan` fetches each claimed organization's Zaikio members with a
   client-credentials token, compares them with the local rows
   (:mod:`~zaikio_ops.reconcile.diff` lists the kinds of difference) and returns
   a :class:`Plan`; :func:`write_plan` stores it as CSV.
2. :func:`apply_plan` writes exactly that plan's changes that the policy
   allows, one transaction per organization, and rejects a plan whose local
   rows changed since it was made.
"""

from __future__ import annotations

from zaikio_ops.reconcile.apply import ENABLED_ACTIONS, ApplyResult, apply_plan, write_target
from zaikio_ops.reconcile.diff import ACTIONS, DRIFT_KINDS, KINDS
from zaikio_ops.reconcile.errors import OrganizationApplyError, PlanFileError, PlanOutdated, ReconcileError
from zaikio_ops.reconcile.fetch import Shard, open_hub_client, parse_shard
from zaikio_ops.reconcile.plan import PLAN_COLUMNS, Plan, make_plan, read_plan, write_plan
from zaikio_ops.reconcile.roles import target_role

__all__ = [
    "ACTIONS",
    "DRIFT_KINDS",
    "ENABLED_ACTIONS",
    "KINDS",
    "PLAN_COLUMNS",
    "ApplyResult",
    "OrganizationApplyError",
    "Plan",
    "PlanFileError",
    "PlanOutdated",
    "ReconcileError",
    "Shard",
    "apply_plan",
    "make_plan",
    "open_hub_client",
    "parse_shard",
    "read_plan",
    "target_role",
    "write_plan",
    "write_target",
]
