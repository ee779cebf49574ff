"""Charts and report tables of an audit result."""

from __future__ import annotations

import stat
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from zaikio_ops import charts, report
from zaikio_ops.audit import FINDING_KINDS, AuditResult
from zaikio_ops.config import ExportSettings

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def organizations_frame() -> pd.DataFrame:
    rows = [
        # organization_id, members, mapped_members, mapped
        ("1", 1, 1, True),
        ("2", 1, 0, False),
        ("3", 4, 1, False),
        ("4", 20, 5, False),
        ("5", 21, 0, False),
        ("6", 150, 50, True),
        ("7", 0, 0, False),
    ]
    frame = pd.DataFrame(rows, columns=["organization_id", "members", "mapped_members", "mapped"])
    frame["name"] = "Org " + frame["organization_id"]
    frame["owners"] = 1
    frame["mapped_owners"] = 0
    frame["completion"] = (frame["mapped_members"] / frame["members"].where(frame["members"] > 0)).fillna(0.0)
    frame["claimable"] = False
    return frame


def last_login_frame() -> pd.DataFrame:
    return pd.DataFrame({"bucket": ["under 30 days", "30-90 days", "never"],
                         "mapped": [5, 2, 0], "unmapped": [1, 4, 3]})


def findings_frame() -> pd.DataFrame:
    return pd.DataFrame({"kind": ["missing_email", "missing_email", "inactive_person"],
                         "subject_type": "person", "subject_id": ["1", "2", "3"], "detail": "x"})


def png_bytes(figure: Figure, tmp_path: Path) -> bytes:
    path = tmp_path / "chart.png"
    figure.savefig(path)
    return path.read_bytes()


def test_size_bands_counts() -> None:
    table = charts.size_band_table(organizations_frame())
    assert table["band"].tolist() == ["1", "2-5", "6-20", "21-100", ">100"]
    assert table["organizations"].tolist() == [2, 1, 1, 1, 1]
    assert table["members"].tolist() == [2, 4, 20, 21, 150]
    assert table["mapped_members"].tolist() == [1, 1, 5, 0, 50]
    assert table["completion"].tolist() == pytest.approx([0.5, 0.25, 0.25, 0.0, 1 / 3])


def test_size_bands_empty_band() -> None:
    table = charts.size_band_table(organizations_frame().iloc[:2])
    assert table["completion"].tolist() == [0.5, 0.0, 0.0, 0.0, 0.0]


def test_completion_chart_labels(tmp_path: Path) -> None:
    figure = charts.completion_by_organization_size(organizations_frame())
    axes = figure.axes[0]
    assert axes.get_title() == "Memberships already on Zaikio, by organization size"
    assert axes.get_xlabel() == "Organization size (members)"
    assert [patch.get_height() for patch in axes.patches] == pytest.approx([50, 25, 25, 0, 100 / 3])
    assert png_bytes(figure, tmp_path).startswith(PNG_SIGNATURE)


def test_completion_chart_annotations() -> None:
    figure = charts.completion_by_organization_size(organizations_frame())
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert texts[0] == "2 orgs\n1 / 2"
    assert texts[-1] == "1 orgs\n50 / 150"


def test_login_chart_stacked(tmp_path: Path) -> None:
    figure = charts.unmapped_by_last_login(last_login_frame())
    axes = figure.axes[0]
    bars = axes.patches
    assert [bar.get_height() for bar in bars] == [5, 2, 0, 1, 4, 3]
    assert [bar.get_y() for bar in bars[3:]] == [5, 2, 0]
    assert [label.get_text() for label in axes.get_legend().get_texts()] == ["mapped", "unmapped"]
    assert png_bytes(figure, tmp_path).startswith(PNG_SIGNATURE)


def test_findings_chart_all_kinds(tmp_path: Path) -> None:
    figure = charts.findings_by_kind(findings_frame())
    axes = figure.axes[0]
    widths = [bar.get_width() for bar in axes.patches]
    labels = [label.get_text() for label in axes.get_yticklabels()]
    assert labels == [kind.replace("_", " ") for kind in FINDING_KINDS]
    assert widths[FINDING_KINDS.index("missing_email")] == 2
    assert widths[FINDING_KINDS.index("inactive_person")] == 1
    assert sum(widths) == 3
    assert png_bytes(figure, tmp_path).startswith(PNG_SIGNATURE)


def test_findings_chart_no_findings() -> None:
    empty = pd.DataFrame(columns=["kind", "subject_type", "subject_id", "detail"])
    figure = charts.findings_by_kind(empty)
    assert [bar.get_width() for bar in figure.axes[0].patches] == [0] * len(FINDING_KINDS)


def test_charts_return_figures() -> None:
    figures = [charts.completion_by_organization_size(organizations_frame()),
               charts.unmapped_by_last_login(last_login_frame()),
               charts.findings_by_kind(findings_frame())]
    assert all(isinstance(figure, Figure) for figure in figures)


def audit_result() -> AuditResult:
    organizations = organizations_frame()
    unmapped = pd.DataFrame({"person_id": ["007"], "email": ["=cmd@example.com"], "organizations": [1]})
    return AuditResult(summary={"persons_total": 3}, organizations=organizations,
                       unmapped_persons=unmapped, findings=findings_frame(),
                       last_login=last_login_frame())


def test_least_complete_order() -> None:
    table = report.least_complete_organizations(organizations_frame(), limit=3)
    assert table["organization_id"].tolist() == ["5", "2", "4"]


def test_least_complete_skips_mapped_and_empty() -> None:
    table = report.least_complete_organizations(organizations_frame(), limit=10)
    assert sorted(table["organization_id"]) == ["2", "3", "4", "5"]


def test_finding_counts_every_kind() -> None:
    table = report.finding_counts_frame(audit_result())
    assert table["kind"].tolist() == list(FINDING_KINDS)
    assert int(table["findings"].sum()) == 3


def test_export_audit_files(tmp_path: Path) -> None:
    written = report.export_audit(audit_result(), tmp_path, ExportSettings(delimiter=";", bom=True))
    unmapped = written["unmapped_persons"].read_bytes().decode("utf-8")
    assert sorted(written) == ["findings", "organizations", "summary", "unmapped_persons"]
    assert unmapped.startswith("\ufeffperson_id;email;organizations")
    assert "007;'=cmd@example.com;1" in unmapped


def test_export_audit_private_files(tmp_path: Path) -> None:
    written = report.export_audit(audit_result(), tmp_path)
    modes = {name: stat.S_IMODE(path.stat().st_mode) for name, path in written.items()}
    assert modes["unmapped_persons"] == 0o600
    assert modes["findings"] == 0o600
