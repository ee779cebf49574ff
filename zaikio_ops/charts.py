"""Charts of an audit result, as matplotlib figures.

Each function returns a :class:`matplotlib.figure.Figure` built without pyplot,
so library code never touches the global backend state and never opens a
window. The figures render with the Agg canvas (``figure.savefig``); a notebook
shows them with ``IPython.display.display(figure)`` under the inline backend.
"""

from __future__ import annotations

import logging

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from zaikio_ops.audit import FINDING_KINDS

logger = logging.getLogger(__name__)

# Organization size bands as (label, smallest, largest member count); None means no limit.
SIZE_BANDS = (
    ("1", 1, 1),
    ("2-5", 2, 5),
    ("6-20", 6, 20),
    ("21-100", 21, 100),
    (">100", 101, None),
)
MAPPED_COLOR = "#2f6f9f"
UNMAPPED_COLOR = "#d08c3a"
NEUTRAL_COLOR = "#5b6770"


def size_band_table(organizations: pd.DataFrame) -> pd.DataFrame:
    """Aggregate organizations per size band.

    Parameters
    ----------
    organizations : DataFrame
        :attr:`AuditResult.organizations`, with ``members`` and ``mapped_members``.
        Organizations without members belong to no band and are left out.

    Returns
    -------
    DataFrame
        One row per band in :data:`SIZE_BANDS` order: ``band``, ``organizations``,
        ``members``, ``mapped_members`` and ``completion`` (mapped share of the
        band's memberships, 0 for an empty band).
    """
    rows = []
    for label, smallest, largest in SIZE_BANDS:
        in_band = organizations["members"] >= smallest
        if largest is not None:
            in_band &= organizations["members"] <= largest
        band = organizations.loc[in_band]
        members = int(band["members"].sum())
        mapped = int(band["mapped_members"].sum())
        rows.append({"band": label, "organizations": len(band), "members": members,
                     "mapped_members": mapped, "completion": mapped / members if members else 0.0})
    return pd.DataFrame(rows)


def completion_by_organization_size(organizations: pd.DataFrame) -> Figure:
    """Plot the mapped share of memberships per organization size band.

    Each bar is annotated with the number of organizations in the band and the
    mapped and total memberships, so a tall bar over two organizations reads
    differently from one over two hundred.
    """
    table = size_band_table(organizations)
    figure, axes = _new_figure()

    bars = axes.bar(table["band"], table["completion"] * 100, color=MAPPED_COLOR, width=0.6)
    for bar, row in zip(bars, table.itertuples()):
        label = f"{row.organizations} orgs\n{row.mapped_members} / {row.members}"
        axes.annotate(label, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                      xytext=(0, 3), textcoords="offset points", ha="center", va="bottom", fontsize=8)

    axes.set_ylim(0, 115)
    axes.set_title("Memberships already on Zaikio, by organization size")
    axes.set_xlabel("Organization size (members)")
    axes.set_ylabel("Mapped memberships (%)")
    return _finish(figure, axes)


def unmapped_by_last_login(last_login: pd.DataFrame) -> Figure:
    """Plot mapped and unmapped persons per time since their last login, as stacked bars.

    Parameters
    ----------
    last_login : DataFrame
        :attr:`AuditResult.last_login`, with ``bucket``, ``mapped`` and ``unmapped``.
    """
    figure, axes = _new_figure()
    labels = last_login["bucket"].astype(str)

    axes.bar(labels, last_login["mapped"], color=MAPPED_COLOR, width=0.6, label="mapped")
    axes.bar(labels, last_login["unmapped"], bottom=last_login["mapped"], color=UNMAPPED_COLOR,
             width=0.6, label="unmapped")
    totals = last_login["mapped"] + last_login["unmapped"]
    for position, (total, unmapped) in enumerate(zip(totals, last_login["unmapped"])):
        axes.annotate(f"{unmapped} unmapped", (position, total), xytext=(0, 3),
                      textcoords="offset points", ha="center", va="bottom", fontsize=8)

    axes.set_ylim(0, max(int(totals.max()) if len(totals) else 0, 1) * 1.15)
    axes.set_title("Persons by time since last login")
    axes.set_xlabel("Time since last login")
    axes.set_ylabel("Persons")
    axes.legend(frameon=False)
    return _finish(figure, axes)


def findings_by_kind(findings: pd.DataFrame) -> Figure:
    """Plot the number of findings per kind as horizontal bars, zero kinds included.

    Parameters
    ----------
    findings : DataFrame
        :attr:`AuditResult.findings`, with a ``kind`` column.
    """
    counts = findings["kind"].value_counts()
    kinds = list(FINDING_KINDS) + sorted(set(counts.index) - set(FINDING_KINDS))
    values = [int(counts.get(kind, 0)) for kind in kinds]
    figure, axes = _new_figure(height=0.4 * len(kinds) + 1.5)

    positions = range(len(kinds))
    axes.barh(positions, values, color=NEUTRAL_COLOR, height=0.6)
    for position, value in zip(positions, values):
        axes.annotate(str(value), (value, position), xytext=(3, 0), textcoords="offset points",
                      va="center", fontsize=8)

    axes.set_yticks(list(positions), [kind.replace("_", " ") for kind in kinds])
    axes.invert_yaxis()
    axes.set_xlim(0, max(max(values, default=0), 1) * 1.15)
    axes.set_title("Findings to resolve, by kind")
    axes.set_xlabel("Findings (persons or organizations)")
    return _finish(figure, axes)


def migration_funnel(summary: dict, progress: pd.DataFrame | None) -> Figure:
    """Draw the person migration funnel: all persons, links issued, claimed, mapped.

    ``progress`` is :func:`zaikio_ops.report.claim_progress`; without it only the
    audit's counts are drawn.
    """
    persons = progress[progress["kind"] == "person"] if progress is not None else None
    issued = int(persons[["claimed", "open", "expired", "revoked"]].to_numpy().sum()) if persons is not None else 0
    claimed = int(persons["claimed"].sum()) if persons is not None else 0
    stages = [("persons", summary["persons_total"]), ("claim links issued", issued),
              ("claimed through a link", claimed), ("mapped to Zaikio", summary["persons_mapped"])]

    figure, axes = _new_figure(height=3.2)
    labels = [label for label, _ in stages][::-1]
    values = [value for _, value in stages][::-1]
    bars = axes.barh(labels, values, color="#1f5eff")
    axes.bar_label(bars, labels=[f"{value:,}" for value in values], padding=3)
    axes.set_xlabel("persons")
    axes.set_title("Migration funnel")
    return _finish(figure, axes)


def _new_figure(width: float = 7.5, height: float = 4.0) -> tuple[Figure, object]:
    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    return figure, axes


def _finish(figure: Figure, axes) -> Figure:
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    return figure
