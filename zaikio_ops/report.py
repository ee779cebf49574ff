"""Tables and CSV exports of an audit result, shared by the notebook and the command line.

The audit notebook only calls these functions, so whatever it shows can also be
produced and tested without Jupyter.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from zaikio_ops.audit import AuditResult
from zaikio_ops.config import ExportSettings
from zaikio_ops.exports import write_csv
from zaikio_ops.source import Source
from zaikio_ops.store import claim_tokens, utcnow

logger = logging.getLogger(__name__)

AUDIT_EXPORTS = ("unmapped_persons", "organizations", "findings", "summary")
# Exports with names and e-mail addresses are created with mode 0600.
PRIVATE_EXPORTS = frozenset({"unmapped_persons", "findings"})

ORGANIZATION_COLUMNS = ("organization_id", "name", "members", "mapped_members", "owners",
                        "mapped_owners", "completion", "mapped", "claimable")


def finding_counts_frame(result: AuditResult) -> pd.DataFrame:
    """Return the number of findings per kind (every kind, zero included) as a table."""
    counts = result.finding_counts()
    return pd.DataFrame({"kind": list(counts), "findings": list(counts.values())})


def least_complete_organizations(organizations: pd.DataFrame, limit: int = 15) -> pd.DataFrame:
    """Return the ``limit`` unmapped organizations with members that have come least far.

    Sorted by completion (mapped share of members), then by size, largest
    first, so the organizations with the most work left come first.
    """
    candidates = organizations.loc[~organizations["mapped"] & (organizations["members"] > 0)]
    ordered = candidates.sort_values(["completion", "members"], ascending=[True, False], kind="stable")
    return ordered.loc[:, list(ORGANIZATION_COLUMNS)].head(limit).reset_index(drop=True)


def export_audit(result: AuditResult, output_dir: str | os.PathLike[str],
                 settings: ExportSettings | None = None) -> dict[str, Path]:
    """Write the audit's CSV files into ``output_dir``.

    Writes ``unmapped_persons.csv``, ``organizations.csv``, ``findings.csv`` and
    ``summary.csv`` with the configured delimiter and byte order mark. The two
    files with personal data are created with mode 0600.

    Returns
    -------
    dict
        The written path of each export, keyed by its name without ``.csv``.
    """
    output_dir = Path(output_dir)
    frames = {
        "unmapped_persons": result.unmapped_persons,
        "organizations": result.organizations,
        "findings": result.findings,
        "summary": result.summary_frame(),
    }
    written = {}
    for name in AUDIT_EXPORTS:
        written[name] = write_csv(frames[name], output_dir / f"{name}.csv", settings=settings,
                                  private=name in PRIVATE_EXPORTS)
    logger.info("Wrote %d audit exports to %s", len(written), output_dir)
    return written


CLAIM_STATUSES = ("claimed", "open", "expired", "revoked")


def claim_progress(source: Source) -> pd.DataFrame | None:
    """Count claim links by kind and status, or return None before the schema step.

    A link is ``claimed`` when used, ``revoked`` when revoked first, ``expired``
    when past its expiry unused, and ``open`` otherwise.
    """
    inspector = sa.inspect(source.engine)
    if not inspector.has_table(claim_tokens.name):
        return None

    now = utcnow()
    status = sa.case(
        (claim_tokens.c.used_at.is_not(None), "claimed"),
        (claim_tokens.c.revoked_at.is_not(None), "revoked"),
        (claim_tokens.c.expires_at <= now, "expired"),
        else_="open",
    ).label("status")
    statement = sa.select(claim_tokens.c.kind, status, sa.func.count().label("links")).group_by(
        claim_tokens.c.kind, status)
    with source.engine.connect() as connection:
        rows = connection.execute(statement).all()

    frame = pd.DataFrame(rows, columns=["kind", "status", "links"])
    table = frame.pivot_table(index="kind", columns="status", values="links", aggfunc="sum", fill_value=0)
    table = table.reindex(columns=list(CLAIM_STATUSES), fill_value=0).astype("int64")
    return table.reset_index().rename_axis(columns=None)


def table(frame: pd.DataFrame | None):
    """Return ``frame`` styled for a report: no index column, shares as percentages, thousands separators."""
    if frame is None:
        return None
    formats = {column: "{:.0%}" for column in ("completion",) if column in frame}
    formats.update({column: "{:,}" for column in frame.columns
                    if pd.api.types.is_integer_dtype(frame[column])})
    return frame.style.hide(axis="index").format(formats)
