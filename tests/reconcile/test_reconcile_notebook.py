"""The reconciliation notebook run with papermill against the stand-in."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import nbformat
import pytest

from reconcile_world import CLI_WORLD as WORLD
from reconcile_world import CLIENT_SECRET, membership_table, write_config
from zaikio_ops.runs import PACKAGE_NOTEBOOKS, REPOSITORY_NOTEBOOKS, run_notebook

NOTEBOOK = "03_reconcile_memberships"
PARAMETER_LINE = re.compile(r'^\w+: (str|int|float|bool) = .+  # \S.*$')

pytestmark = pytest.mark.slow


def test_notebook_copies_identical() -> None:
    repository = (REPOSITORY_NOTEBOOKS / f"{NOTEBOOK}.ipynb").read_bytes()
    package = (PACKAGE_NOTEBOOKS / f"{NOTEBOOK}.ipynb").read_bytes()

    assert repository == package


def test_notebook_parameters_documented() -> None:
    notebook = nbformat.read(REPOSITORY_NOTEBOOKS / f"{NOTEBOOK}.ipynb", as_version=4)
    cell = next(cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", []))
    lines = cell.source.splitlines()

    for line in lines:
        assert PARAMETER_LINE.match(line), line
    names = [line.split(":", 1)[0] for line in lines]
    assert names[:5] == ["config_path", "output_dir", "policy", "shard", "plan_path"]


def test_notebook_report_run(make_sqlite_setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = make_sqlite_setup(WORLD)
    config = write_config(setup, tmp_path)
    monkeypatch.setenv("ZAIKIO_CLIENT_SECRET", CLIENT_SECRET)
    before = membership_table(setup.engine)

    run = run_notebook(NOTEBOOK, config_path=config, output_root=tmp_path / "runs", progress=False)

    html = run.html_path.read_text(encoding="utf-8")
    assert len(re.findall(r'<img[^>]*src="data:image/png;base64,', html)) == 2
    assert "role_differs" in html
    assert "Policy report: nothing written." in html
    assert CLIENT_SECRET not in run.notebook_path.read_text(encoding="utf-8")
    assert [path.name for path in run.csv_paths] == ["plan.csv"]
    with run.csv_paths[0].open(encoding="utf-8", newline="") as handle:
        assert sorted(row["kind"] for row in csv.DictReader(handle)) == ["in_sync", "missing_at_zaikio",
                                                                          "role_differs"]
    assert membership_table(setup.engine) == before


def test_notebook_applies_plan_file(make_sqlite_setup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    setup = make_sqlite_setup(WORLD)
    config = write_config(setup, tmp_path)
    monkeypatch.setenv("ZAIKIO_CLIENT_SECRET", CLIENT_SECRET)
    first = run_notebook(NOTEBOOK, config_path=config, output_root=tmp_path / "runs", progress=False)

    run_notebook(NOTEBOOK, config_path=config, output_root=tmp_path / "runs", progress=False,
                 parameters={"plan_path": str(first.csv_paths[0]), "policy": "full"})

    assert membership_table(setup.engine) == [(1, 7, "owner"), (2, 7, "admin")]
