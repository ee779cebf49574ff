"""Charts of a reconciliation plan, as matplotlib figures built without pyplot.

Like :mod:`zaikio_ops.charts`, each function returns a
:class:`~matplotlib.figure.Figure` on the Agg canvas, so library code never
touches pyplot's global state; a notebook shows it with ``display(figure)``.
"""

from __future__ import annotations

import logging

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from zaikio_ops.reconcile.diff import KINDS

logger = logging.getLogger(__name__)

# Kinds that need no action from anybody are grey; drift is colored.
KIND_COLORS = {
    "in_sync": "#9aa5ad",
    "missing_locally": "#2f6f9f",
    "missing_at_zaikio": "#b5473a",
    "role_differs": "#d08c3a",
    "unmapped_zaikio_member": "#6a8f3a",
    "unmapped_local_member": "#c2b280",
    "organization_disconnected": "#5b6770",
    "fetch_failed": "#7a2e8e",
}


def kind_counts(rows: pd.DataFrame) -> pd.DataFrame:
    """Return ``kind`` and ``rows`` (number of plan rows) for every kind, zero for absent kinds."""
    counts = rows["kind"].value_counts()
    return pd.DataFrame({"kind": list(KINDS), "rows": [int(counts.get(kind, 0)) for kind in KINDS]})


def drift_by_organization(rows: pd.DataFrame, top: int = 15) -> pd.DataFrame:
    """Return the ``top`` organizations with the most rows that are not ``in_sync``, one column per kind.

    Organizations with the same count are ordered by id, so the table is stable.
    """
    drift = rows.loc[rows["kind"] != "in_sync"]
    table = pd.crosstab(drift["organization_id"], drift["kind"])
    table = table.reindex(columns=[kind for kind in KINDS if kind != "in_sync"], fill_value=0)
    table["total"] = table.sum(axis=1)
    table = table.reset_index().sort_values(["total", "organization_id"], ascending=[False, True])
    return table.head(top).reset_index(drop=True)


def drift_by_kind_chart(rows: pd.DataFrame) -> Figure:
    """Draw a horizontal bar per kind with its number of plan rows."""
    counts = kind_counts(rows)
    figure = Figure(figsize=(7, 3.6))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = range(len(counts))
    axes.barh(list(positions), counts["rows"], color=[KIND_COLORS[kind] for kind in counts["kind"]])
    axes.set_yticks(list(positions), labels=counts["kind"])
    axes.invert_yaxis()
    axes.set_xlabel("plan rows (persons per organization)")
    axes.set_title("Memberships by kind of difference")
    for position, value in zip(positions, counts["rows"]):
        axes.annotate(str(value), (value, position), xytext=(3, 0), textcoords="offset points", va="center")
    figure.tight_layout()
    return figure


def drift_by_organization_chart(rows: pd.DataFrame, top: int = 15) -> Figure:
    """Draw stacked bars of the differences of the ``top`` organizations with the most drift."""
    table = drift_by_organization(rows, top)
    figure = Figure(figsize=(7, max(2.5, 0.35 * len(table) + 1.2)))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if table.empty:
        axes.text(0.5, 0.5, "Every organization is in sync", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return figure

    left = pd.Series(0, index=table.index)
    labels = table["organization_id"].astype(str)
    for kind in [kind for kind in KINDS if kind != "in_sync"]:
        values = table[kind]
        if values.sum():
            axes.barh(labels, values, left=left, color=KIND_COLORS[kind], label=kind)
        left = left + values
    axes.invert_yaxis()
    axes.set_xlabel("plan rows that are not in sync")
    axes.set_ylabel("organization id")
    axes.set_title(f"Organizations with the most differences (top {len(table)})")
    axes.legend(fontsize="small", loc="lower right")
    figure.tight_layout()
    return figure
