"""Applying a reconciliation plan to the local memberships.

Apply writes exactly the plan's rows whose action the policy allows:

========== ===================================
policy     actions written
========== ===================================
report     none (apply only checks the plan)
add_update ``add`` and ``update``
full       ``add``, ``update`` and ``remove``
========== ===================================

Before writing anything, apply recomputes the fingerprint of every
organization's local membership rows and raises :class:`PlanOutdated` when one
differs from the plan. Each organization is then written in its own
transaction, which checks the fingerprint again, writes the rows, appends one
event per change and records the organization in ``zaikio_ops_reconcile_applied``.
Organizations recorded there for the same plan are skipped, so applying a plan
twice, or again after a crash, writes each change once.

Writes go to the ``[reconcile]`` write target (by default the memberships
table of ``[schema.memberships]``). An update leaves the person exactly one
row with the target role: it renames one existing row, keeping its other
columns, and deletes the person's other rows in that organization. An add
inserts a row with the person, organization and role columns only, so the
table's other columns need defaults or must allow NULL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from tqdm.auto import tqdm

from zaikio_ops.config import Config
from zaikio_ops.errors import ConfigError
from zaikio_ops.reconcile.diff import ROLE_SEPARATOR
from zaikio_ops.reconcile.errors import OrganizationApplyError, PlanOutdated
from zaikio_ops.reconcile.local import fingerprint_in_transaction, fingerprints, typed_value
from zaikio_ops.reconcile.plan import Plan, check_policy, check_recorded
from zaikio_ops.schema import require_kit_tables
from zaikio_ops.source import Source
from zaikio_ops.store import reconcile_applied, record_event, utcnow

logger = logging.getLogger(__name__)

ENABLED_ACTIONS = {"report": (), "add_update": ("add", "update"), "full": ("add", "update", "remove")}
EVENT_KINDS = {"add": "reconcile.membership_added", "update": "reconcile.membership_updated",
               "remove": "reconcile.membership_removed"}
CHANGE_COLUMNS = ("organization_id", "person_id", "zaikio_person_id", "action", "local_role", "target_role")


@dataclass(frozen=True)
class WriteTarget:
    """The table and columns the reconciliation writes local memberships to."""

    table: sa.Table
    person: sa.Column
    organization: sa.Column
    role: sa.Column


@dataclass
class ApplyResult:
    """The outcome of one apply.

    Attributes
    ----------
    plan_id, policy : str
        The applied plan and the policy in effect.
    changes : DataFrame
        One row per written change, with :data:`CHANGE_COLUMNS`.
    applied : list of str
        Organizations written and recorded by this apply.
    already_applied : list of str
        Organizations skipped because an earlier apply of the same plan recorded them.
    failed : dict
        Organization id to the reason its transaction was rolled back; a later apply retries them.
    """

    plan_id: str
    policy: str
    changes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(CHANGE_COLUMNS)))
    applied: list[str] = field(default_factory=list)
    already_applied: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def action_counts(self) -> dict[str, int]:
        """Return the number of written changes per action."""
        counts = self.changes["action"].value_counts()
        return {action: int(counts.get(action, 0)) for action in ("add", "update", "remove")}


def apply_plan(config: Config, plan: Plan, *, policy: str | None = None, source: Source | None = None,
               progress: bool = False, on_applied: Callable[[str], None] | None = None) -> ApplyResult:
    """Write the plan's changes that ``policy`` allows to the local memberships.

    Parameters
    ----------
    config : Config
        The configuration with the write target and ``[audit] owner_roles``.
    plan : Plan
        A plan from :func:`~zaikio_ops.reconcile.plan.make_plan` or :func:`~zaikio_ops.reconcile.plan.read_plan`.
    policy : str, optional
        ``report``, ``add_update`` or ``full``; defaults to the plan's policy.
    source : Source, optional
        The app's data; created from ``config`` when omitted.
    progress : bool
        Show a progress bar over the organizations.
    on_applied : callable, optional
        Called with each organization id after its transaction committed.

    Returns
    -------
    ApplyResult

    Raises
    ------
    PlanOutdated
        When the local memberships of an organization not yet applied changed
        after the plan was made. Nothing is written.
    ConfigError
        When the policy or the write target is invalid.
    """
    policy = check_policy(policy or plan.policy)
    source = source or Source(config)
    source.check()
    engine = source.engine
    require_kit_tables(engine)
    check_recorded(engine, plan)
    result = ApplyResult(plan_id=plan.plan_id, policy=policy)

    done = applied_organizations(engine, plan.plan_id)
    expected = {org: value for org, value in plan.fingerprints().items() if org not in done}
    result.already_applied = sorted(set(plan.fingerprints()) - set(expected))
    check_fingerprints(source, plan.plan_id, expected)

    enabled = ENABLED_ACTIONS[policy]
    work = plan.rows.loc[plan.rows["action"].isin(enabled) & plan.rows["organization_id"].isin(expected)]
    if work.empty:
        logger.info("Plan %s under policy %s: nothing to write", plan.plan_id, policy)
        return result

    target = write_target(config, engine)
    written = []
    groups = work.groupby("organization_id", sort=True)
    for organization_id, rows in tqdm(groups, total=groups.ngroups, unit="org", desc="Applying",
                                      disable=not progress):
        try:
            written += _apply_organization(engine, source, target, plan, organization_id, rows,
                                           expected[organization_id], config.owner_roles)
        except (OrganizationApplyError, sa.exc.DBAPIError) as exc:
            _record_failure(engine, plan.plan_id, organization_id, exc)
            result.failed[organization_id] = _reason(exc)
            continue

        result.applied.append(organization_id)
        if on_applied is not None:
            on_applied(organization_id)

    result.changes = pd.DataFrame(written, columns=list(CHANGE_COLUMNS))
    logger.info("Plan %s under policy %s: %d organizations applied, %d failed, %d changes", plan.plan_id,
                policy, len(result.applied), len(result.failed), len(result.changes))
    return result


def applied_organizations(engine: Engine, plan_id: str) -> set[str]:
    """Return the organizations an earlier apply of ``plan_id`` recorded."""
    statement = sa.select(reconcile_applied.c.organization_id).where(reconcile_applied.c.plan_id == plan_id)
    with engine.connect() as connection:
        return {str(value) for value in connection.execute(statement).scalars()}


def check_fingerprints(source: Source, plan_id: str, expected: dict[str, str]) -> None:
    """Raise :class:`PlanOutdated` when an organization's local rows no longer match the plan."""
    if not expected:
        return
    memberships = source.read("memberships", ["person_id", "organization_id", "role"])
    current = fingerprints(memberships, expected)
    changed = sorted(org for org, value in expected.items() if current[org] != value)
    if changed:
        raise PlanOutdated(plan_id, changed)


def write_target(config: Config, engine: Engine) -> WriteTarget:
    """Reflect the table and columns that the reconciliation writes to.

    Raises
    ------
    ConfigError
        When no table or column is configured, or one does not exist.
    """
    settings = config.reconcile
    mapping = config.memberships
    table_name = settings.table or mapping.table
    names = {
        "person_column": settings.person_column or mapping.columns.get("person_id"),
        "organization_column": settings.organization_column or mapping.columns.get("organization_id"),
        "role_column": settings.role_column or mapping.columns.get("role"),
    }
    if not table_name:
        raise ConfigError(f"{config.where('reconcile.table')}: missing. The memberships mapping is a query, so "
                          f"name the table that stores memberships, e.g. table = \"company_users\".")
    missing = [key for key, value in names.items() if not value]
    if missing:
        raise ConfigError(f"{config.where('reconcile')}: missing {', '.join(missing)}. Name the columns of "
                          f"{table_name!r} that hold the person, the organization and the role, e.g. "
                          f"person_column = \"user_id\", organization_column = \"company_id\", "
                          f"role_column = \"role\".")

    schema, _, name = table_name.rpartition(".")
    try:
        table = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=engine)
    except sa.exc.NoSuchTableError:
        raise ConfigError(f"{config.where('reconcile.table')}: table {table_name!r} does not exist.") from None
    for key, column in names.items():
        if column not in table.c:
            raise ConfigError(f"{config.where('reconcile.' + key)}: column {column!r} does not exist in table "
                              f"{table_name!r}. Columns there: {', '.join(table.c.keys())}.")
    return WriteTarget(table, table.c[names["person_column"]], table.c[names["organization_column"]],
                       table.c[names["role_column"]])


def _apply_organization(engine: Engine, source: Source, target: WriteTarget, plan: Plan, organization_id: str,
                        rows: pd.DataFrame, expected: str, owner_roles: Collection[str]) -> list[dict[str, str]]:
    """Write one organization's changes in one transaction and return them."""
    changes = []
    with engine.begin() as connection:
        if fingerprint_in_transaction(source, connection, organization_id) != expected:
            raise OrganizationApplyError(
                f"The local memberships of organization {organization_id} changed during the apply of plan "
                f"{plan.plan_id}; make a new plan.")
        owners_before = _count_owners(connection, target, organization_id, owner_roles)

        for row in rows.to_dict("records"):
            _write_change(connection, target, row)
            record_event(connection, EVENT_KINDS[row["action"]], subject_type="person", subject_id=row["person_id"],
                         batch_id=plan.plan_id, zaikio_id=row["zaikio_person_id"] or None,
                         detail={"plan_id": plan.plan_id, "organization_id": organization_id,
                                 "local_role": row["local_role"], "target_role": row["target_role"]})
            changes.append({column: row[column] for column in CHANGE_COLUMNS})

        if owners_before and not _count_owners(connection, target, organization_id, owner_roles):
            raise OrganizationApplyError(
                f"Applying plan {plan.plan_id} would leave organization {organization_id} without a local owner; "
                f"its changes were rolled back.")
        connection.execute(reconcile_applied.insert().values(
            plan_id=plan.plan_id, organization_id=organization_id, applied_at=utcnow(), changes=len(changes)))

    logger.info("Organization %s: %d change(s) written", organization_id, len(changes))
    return changes


def _write_change(connection: Connection, target: WriteTarget, row: dict[str, str]) -> None:
    table = target.table
    pair = sa.and_(target.person == typed_value(target.person, row["person_id"]),
                   target.organization == typed_value(target.organization, row["organization_id"]))
    action = row["action"]
    role = row["target_role"]

    if action == "add":
        connection.execute(table.insert().values({
            target.person.name: typed_value(target.person, row["person_id"]),
            target.organization.name: typed_value(target.organization, row["organization_id"]),
            target.role.name: role,
        }))
        return

    if action == "remove":
        connection.execute(table.delete().where(pair))
        return

    local_roles = [value for value in row["local_role"].split(ROLE_SEPARATOR) if value]
    if role not in local_roles:
        # Rename one role's rows, so the row keeps its id and other columns.
        renamed = target.role == local_roles[0] if local_roles else target.role.is_(None)
        connection.execute(table.update().where(pair, renamed).values({target.role.name: role}))
    connection.execute(table.delete().where(pair, sa.or_(target.role != role, target.role.is_(None))))


def _count_owners(connection: Connection, target: WriteTarget, organization_id: str,
                  owner_roles: Collection[str]) -> int:
    statement = sa.select(sa.func.count(sa.distinct(target.person))).where(
        target.organization == typed_value(target.organization, organization_id),
        target.role.in_(list(owner_roles)))
    return int(connection.execute(statement).scalar_one())


def _record_failure(engine: Engine, plan_id: str, organization_id: str, exc: Exception) -> None:
    reason = _reason(exc)
    logger.error("Organization %s of plan %s was not applied: %s", organization_id, plan_id, reason)
    with engine.begin() as connection:
        record_event(connection, "reconcile.apply_failed", subject_type="organization", subject_id=organization_id,
                     batch_id=plan_id, detail={"plan_id": plan_id, "error": reason})


def _reason(exc: Exception) -> str:
    if isinstance(exc, sa.exc.DBAPIError):
        return str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return str(exc)
