"""Making, writing and reading a reconciliation plan.

A plan is a table with one row per person and organization (see
:mod:`zaikio_ops.reconcile.diff` for the kinds), plus columns that tie it to
the moment it was made: ``plan_id``, ``created_at``, ``policy`` and, per
organization, the ``fingerprint`` of the local membership rows it was computed
from. ``reconcile apply`` reads the CSV file back and applies exactly its rows.

Making a plan writes nothing to the app's tables. It records the outcome of
each organization's fetch in the kit table ``zaikio_ops_reconcile_status``,
with an event for each disconnected or failed organization, so that
``--retry-failed`` can fetch only the organizations that failed last time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from zaikio_ops.config import RECONCILE_POLICIES, Config, ExportSettings
from zaikio_ops.errors import ConfigError
from zaikio_ops.exports import FORMULA_PREFIXES, write_csv
from zaikio_ops.hub import HubClient
from zaikio_ops.reconcile.diff import ACTIONS, DIFF_COLUMNS, KINDS, OrganizationInput, compare_organization
from zaikio_ops.reconcile.errors import PlanFileError
from zaikio_ops.reconcile.fetch import STATUS_FAILED, STATUS_OK, FetchOutcome, Shard, fetch_all
from zaikio_ops.reconcile.local import LocalData, fingerprints, read_local
from zaikio_ops.schema import require_kit_tables
from zaikio_ops.source import Source
from zaikio_ops.store import events, reconcile_status, record_event, utcnow

logger = logging.getLogger(__name__)

PLAN_COLUMNS = ("plan_id", "created_at", "policy", "organization_id", "zaikio_organization_id", "fingerprint",
                "kind", "person_id", "zaikio_person_id", "zaikio_email", "local_role", "zaikio_roles",
                "target_role", "action", "detail")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class Plan:
    """A reconciliation plan.

    Attributes
    ----------
    plan_id : str
        UUID of the plan; apply records the organizations it applied under it.
    created_at : datetime
        When the plan was made (UTC, without tzinfo).
    policy : str
        ``report``, ``add_update`` or ``full``: the policy apply uses unless the caller passes another.
    rows : DataFrame
        The plan rows with :data:`PLAN_COLUMNS`, all text.
    """

    plan_id: str
    created_at: datetime
    policy: str
    rows: pd.DataFrame

    def fingerprints(self) -> dict[str, str]:
        """Return the fingerprint of every organization in the plan."""
        first = self.rows.drop_duplicates("organization_id")
        return dict(zip(first["organization_id"], first["fingerprint"]))

    def summary(self) -> pd.DataFrame:
        """Return the number of rows per kind (rows) and action (columns), every kind and action listed."""
        table = pd.crosstab(self.rows["kind"], self.rows["action"])
        table = table.reindex(index=list(KINDS), columns=list(ACTIONS), fill_value=0)
        table.index.name = "kind"
        table.columns.name = None
        return table.reset_index()

    def action_counts(self) -> dict[str, int]:
        """Return the number of rows per action (``add``, ``update``, ``remove``, ``none``)."""
        counts = self.rows["action"].value_counts()
        return {action: int(counts.get(action, 0)) for action in ACTIONS}


PLANNED_EVENT = "reconcile.planned"


def make_plan(config: Config, hub: HubClient, *, policy: str | None = None, shard: Shard | None = None,
              concurrency: int | None = None, retry_failed: bool = False, progress: bool = False,
              source: Source | None = None) -> Plan:
    """Fetch the Zaikio memberships of the claimed organizations and compare them with the local ones.

    Parameters
    ----------
    config : Config
        The configuration; ``[roles]`` maps roles, ``[audit] owner_roles`` names owners.
    hub : HubClient
        A client with the app's client secret, shared by all workers.
    policy : str, optional
        The plan's policy; defaults to ``[reconcile] policy``.
    shard : Shard, optional
        Plan only the organizations of this shard.
    concurrency : int, optional
        Concurrent fetches; defaults to ``[reconcile] concurrency``.
    retry_failed : bool
        Plan only the organizations whose last fetch failed.
    progress : bool
        Show a progress bar over the organizations.
    source : Source, optional
        The app's data; created from ``config`` when omitted.

    Returns
    -------
    Plan

    Raises
    ------
    ConfigError
        When the policy is unknown.
    DatabaseError
        When the kit's tables are missing (run ``zaikio-ops schema apply``).
    """
    policy = check_policy(policy or config.reconcile.policy)
    source = source or Source(config)
    source.check()
    require_kit_tables(source.engine)

    plan_id = str(uuid.uuid4())
    created_at = utcnow()
    local = read_local(source)
    organizations = _selected_organizations(local, source.engine, shard, retry_failed)
    logger.info("Plan %s: fetching the Zaikio memberships of %d organization(s)", plan_id, len(organizations))

    outcomes = fetch_all(hub, list(zip(organizations["organization_id"], organizations["zaikio_organization_id"])),
                         concurrency=concurrency or config.reconcile.concurrency, progress=progress)
    rows = _plan_rows(local, outcomes, config)
    frame = _plan_frame(rows, plan_id, created_at, policy, fingerprints(local.memberships, organizations["organization_id"]))
    _record_outcomes(source.engine, plan_id, outcomes, created_at)
    with source.engine.begin() as connection:
        record_event(connection, PLANNED_EVENT, batch_id=plan_id, at=created_at,
                     detail={"digest": plan_digest(frame), "rows": len(frame), "policy": policy})
    return Plan(plan_id=plan_id, created_at=created_at, policy=policy, rows=frame)


def plan_digest(rows: pd.DataFrame) -> str:
    """Return the SHA-256 of a plan's rows, recorded when planning and checked before applying."""
    values = rows[list(PLAN_COLUMNS)].astype(str).values.tolist()
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode("utf-8")).hexdigest()


def check_recorded(engine: Engine, plan: Plan) -> None:
    """Raise :class:`PlanFileError` unless ``plan`` is, row for row, a plan this database recorded.

    A plan file is a CSV that anyone can edit, so apply only trusts rows whose
    digest matches the one stored by ``reconcile plan``.
    """
    statement = sa.select(events.c.detail).where(events.c.kind == PLANNED_EVENT,
                                                 events.c.batch_id == plan.plan_id)
    with engine.connect() as connection:
        detail = connection.execute(statement).scalar()
    if detail is None:
        raise PlanFileError(f"Plan {plan.plan_id} was not made by 'zaikio-ops reconcile plan' on this database. "
                            f"Make a new plan and apply that file.")
    if json.loads(detail).get("digest") != plan_digest(plan.rows):
        raise PlanFileError(f"The file of plan {plan.plan_id} differs from the plan that was made: rows were "
                            f"edited, added or removed. Nothing was written; apply the unchanged file, or "
                            f"make a new plan.")


def check_policy(policy: str) -> str:
    """Return ``policy`` when it is ``report``, ``add_update`` or ``full``, else raise :class:`ConfigError`."""
    if policy not in RECONCILE_POLICIES:
        raise ConfigError(f"Invalid policy {policy!r}: expected one of {', '.join(RECONCILE_POLICIES)}.")
    return policy


def _selected_organizations(local: LocalData, engine: Engine, shard: Shard | None,
                            retry_failed: bool) -> pd.DataFrame:
    organizations = local.organizations
    if shard is not None:
        organizations = organizations.loc[organizations["organization_id"].map(shard.contains).astype(bool)]
    if retry_failed:
        failed = failed_organizations(engine)
        organizations = organizations.loc[organizations["organization_id"].isin(failed)]
    return organizations.reset_index(drop=True)


def failed_organizations(engine: Engine) -> set[str]:
    """Return the ids of the organizations whose last membership fetch failed."""
    statement = sa.select(reconcile_status.c.organization_id).where(reconcile_status.c.status == STATUS_FAILED)
    with engine.connect() as connection:
        return {str(value) for value in connection.execute(statement).scalars()}


def _plan_rows(local: LocalData, outcomes: list[FetchOutcome], config: Config) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for outcome in outcomes:
        data = OrganizationInput(
            organization_id=outcome.organization_id, outcome=outcome,
            local_rows=local.memberships_of(outcome.organization_id),
            person_by_zaikio_id=local.person_by_zaikio_id, zaikio_id_by_person=local.zaikio_id_by_person,
        )
        rows += compare_organization(data, config.roles, config.owner_roles)
    return rows


def _plan_frame(rows: list[dict[str, str]], plan_id: str, created_at: datetime, policy: str,
                organization_fingerprints: dict[str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(DIFF_COLUMNS), dtype="object")
    frame.insert(0, "plan_id", plan_id)
    frame.insert(1, "created_at", created_at.strftime(TIMESTAMP_FORMAT))
    frame.insert(2, "policy", policy)
    frame.insert(5, "fingerprint", frame["organization_id"].map(organization_fingerprints))
    return frame[list(PLAN_COLUMNS)].fillna("").astype(str)


def _record_outcomes(engine: Engine, plan_id: str, outcomes: list[FetchOutcome], checked_at: datetime) -> None:
    """Store each organization's fetch outcome, counting consecutive failures."""
    ids = [outcome.organization_id for outcome in outcomes]
    with engine.begin() as connection:
        previous = _previous_failures(connection, ids)
        if ids:
            connection.execute(reconcile_status.delete().where(reconcile_status.c.organization_id.in_(ids)))
        for outcome in outcomes:
            failures = previous.get(outcome.organization_id, 0) + 1 if outcome.status == STATUS_FAILED else 0
            connection.execute(reconcile_status.insert().values(
                organization_id=outcome.organization_id, zaikio_organization_id=outcome.zaikio_organization_id,
                status=outcome.status, plan_id=plan_id, checked_at=checked_at, failures=failures,
                error=outcome.error,
            ))
            if outcome.status != STATUS_OK:
                record_event(connection, f"reconcile.fetch_{outcome.status}", subject_type="organization",
                             subject_id=outcome.organization_id, batch_id=plan_id,
                             zaikio_id=outcome.zaikio_organization_id,
                             detail={"plan_id": plan_id, "error": outcome.error, "failures": failures})


def _previous_failures(connection: sa.Connection, ids: list[str]) -> dict[str, int]:
    if not ids:
        return {}
    statement = sa.select(reconcile_status.c.organization_id, reconcile_status.c.failures).where(
        reconcile_status.c.organization_id.in_(ids))
    return {str(organization_id): int(failures) for organization_id, failures in connection.execute(statement)}


def write_plan(plan: Plan, path: str | os.PathLike[str], settings: ExportSettings | None = None) -> Path:
    """Write the plan as a CSV file readable only by its owner (it contains e-mail addresses)."""
    return write_csv(plan.rows, path, settings=settings, private=True, text_columns=PLAN_COLUMNS)


def read_plan(path: str | os.PathLike[str]) -> Plan:
    """Read a plan CSV written by :func:`write_plan` (either delimiter, with or without BOM).

    Raises
    ------
    PlanFileError
        When the file is missing, lacks plan columns or contains more than one plan.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig") as handle:
            header = handle.readline()
        delimiter = ";" if header.count(";") > header.count(",") else ","
        frame = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise PlanFileError(f"Plan file {path} not found. Make one with 'zaikio-ops reconcile plan --out FILE'.") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise PlanFileError(f"Plan file {path} is not a readable CSV file: {exc}.") from None

    missing = [column for column in PLAN_COLUMNS if column not in frame.columns]
    if missing:
        raise PlanFileError(f"{path} is not a reconciliation plan: the column(s) {', '.join(missing)} are missing.")
    frame = frame[list(PLAN_COLUMNS)].map(_restore_cell)
    if frame.empty:
        raise PlanFileError(f"Plan file {path} has no rows: the plan covered no organization, so there is "
                            f"nothing to apply.")

    plan_ids = frame["plan_id"].unique()
    if len(plan_ids) != 1:
        raise PlanFileError(f"{path} contains {len(plan_ids)} plan ids, but a plan file must contain exactly one plan. "
                            f"Apply the files of each plan separately.")
    return Plan(plan_id=str(plan_ids[0]),
                created_at=datetime.strptime(frame["created_at"].iloc[0], TIMESTAMP_FORMAT),
                policy=check_policy(str(frame["policy"].iloc[0])), rows=frame)


def _restore_cell(value: str) -> str:
    # write_csv puts an apostrophe before text that a spreadsheet would read as a formula.
    # NOTE: a value that itself started with an apostrophe and a formula character reads back without it.
    if len(value) > 1 and value[0] == "'" and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value
