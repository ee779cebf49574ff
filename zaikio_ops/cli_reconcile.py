"""``zaikio-ops reconcile`` commands: plan and apply the membership reconciliation."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from zaikio_ops.cli_common import pass_config
from zaikio_ops.config import RECONCILE_POLICIES

logger = logging.getLogger(__name__)

_POLICY_HELP = ("report: apply writes nothing; add_update: add missing and update differing memberships; "
                "full: also remove local memberships Zaikio does not have.")


@click.group()
def reconcile() -> None:
    """Compare Zaikio memberships of claimed organizations with the local ones, then apply the plan."""


@reconcile.command("plan")
@click.option("--out", "out_path", type=click.Path(dir_okay=False),
              help="CSV file for the plan [default: <[output] dir>/reconcile/plan-<UTC time>.csv].")
@click.option("--policy", type=click.Choice(RECONCILE_POLICIES), default=None,
              help=f"Policy stored in the plan [default: [reconcile] policy, else report]. {_POLICY_HELP}")
@click.option("--shard", default=None, metavar="K/N",
              help="Plan only shard K of N (1 <= K <= N), chosen by a stable hash of the organization id.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
              help="Organizations fetched at the same time [default: [reconcile] concurrency, else 4].")
@click.option("--retry-failed", is_flag=True, help="Plan only the organizations whose last fetch failed.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar over the organizations (default: when stderr is a terminal).")
@pass_config
def plan_command(config, out_path: str | None, policy: str | None, shard: str | None, concurrency: int | None,
                 retry_failed: bool, progress: bool | None) -> None:
    """Fetch the Zaikio memberships and write the differences as a plan CSV file."""
    from zaikio_ops.reconcile import ReconcileError, make_plan, open_hub_client, parse_shard, write_plan

    parsed_shard = parse_shard(shard)
    with open_hub_client(config) as hub:
        plan = make_plan(config, hub, policy=policy, shard=parsed_shard, concurrency=concurrency,
                         retry_failed=retry_failed, progress=_progress(progress))

    stamp = plan.created_at.strftime("%Y%m%dT%H%M%SZ")
    path = Path(out_path) if out_path else config.output_dir / "reconcile" / f"plan-{stamp}-{plan.plan_id[:8]}.csv"
    write_plan(plan, path, config.export)
    click.echo(plan.summary().to_string(index=False))
    click.echo(f"Plan {plan.plan_id} ({plan.policy}): {path}")

    organizations = plan.rows["organization_id"].nunique()
    failed = plan.rows.loc[plan.rows["kind"] == "fetch_failed", "organization_id"].nunique()
    if failed:
        click.echo(f"{failed} of {organizations} organization(s) could not be fetched from Zaikio (kind "
                   f"fetch_failed; the log above says why). 'zaikio-ops reconcile plan --retry-failed' "
                   f"tries them again.", err=True)
    if organizations and failed == organizations:
        raise ReconcileError("No organization could be fetched from Zaikio, so the plan has nothing to "
                             "apply. Check [hub] url, ZAIKIO_CLIENT_ID and ZAIKIO_CLIENT_SECRET.")
    click.echo(f"Apply it with: zaikio-ops reconcile apply --plan {path} --policy {plan.policy}")


@reconcile.command("apply")
@click.option("--plan", "plan_path", required=True, type=click.Path(dir_okay=False),
              help="Plan CSV file written by 'zaikio-ops reconcile plan'.")
@click.option("--policy", type=click.Choice(RECONCILE_POLICIES), default=None,
              help=f"Policy to apply with [default: the plan's policy]. {_POLICY_HELP}")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar over the organizations (default: when stderr is a terminal).")
@pass_config
def apply_command(config, plan_path: str, policy: str | None, progress: bool | None) -> None:
    """Write the plan's changes to the local memberships, one transaction per organization."""
    from zaikio_ops.reconcile import ReconcileError, apply_plan, read_plan

    plan = read_plan(plan_path)
    result = apply_plan(config, plan, policy=policy, progress=_progress(progress))
    counts = result.action_counts()
    click.echo(f"Plan {result.plan_id} applied with policy {result.policy}: {counts['add']} added, "
               f"{counts['update']} updated, {counts['remove']} removed in {len(result.applied)} "
               f"organization(s); {len(result.already_applied)} organization(s) were already applied.")
    if result.failed:
        listing = "; ".join(f"{org}: {reason}" for org, reason in sorted(result.failed.items())[:10])
        raise ReconcileError(f"{len(result.failed)} organization(s) were not applied ({listing}). "
                             f"Fix the cause and run the same apply again; applied organizations are skipped.")


def _progress(option: bool | None) -> bool:
    return sys.stderr.isatty() if option is None else option


COMMANDS = [reconcile]
