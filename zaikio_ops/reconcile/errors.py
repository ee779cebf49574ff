"""Errors of the membership reconciliation."""

from __future__ import annotations

from zaikio_ops.errors import ZaikioOpsError


class ReconcileError(ZaikioOpsError):
    """A reconciliation plan could not be made, read or applied."""


class PlanFileError(ReconcileError):
    """A plan file is missing, unreadable or not a plan written by ``reconcile plan``."""

    exit_code = 2


class PlanOutdated(ReconcileError):
    """The local memberships changed after the plan was made, so the plan no longer applies.

    Attributes
    ----------
    organization_ids : list of str
        The organizations whose membership rows differ from the plan's fingerprint.
    """

    exit_code = 3

    def __init__(self, plan_id: str, organization_ids: list[str]) -> None:
        self.plan_id = plan_id
        self.organization_ids = list(organization_ids)
        listed = ", ".join(self.organization_ids[:10])
        more = f" and {len(self.organization_ids) - 10} more" if len(self.organization_ids) > 10 else ""
        super().__init__(
            f"Plan {plan_id} is outdated: the local memberships of organization(s) {listed}{more} "
            f"changed after the plan was made. Nothing was written. Run 'zaikio-ops reconcile plan' "
            f"again and apply the new plan."
        )


class OrganizationApplyError(ReconcileError):
    """One organization's changes could not be applied; its transaction was rolled back."""
