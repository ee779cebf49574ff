"""The audit notebook run with papermill (HTML report, CSV files, failures) and with nbval."""

from __future__ import annotations

import csv
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from zaikio_ops.demo import build_demo_database, write_demo_config
from zaikio_ops.errors import ConfigError, RunError
from zaikio_ops.runs import PACKAGE_NOTEBOOKS, REPOSITORY_NOTEBOOKS, RunResult, run_notebook

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "01_audit_unmapped"
PERSONS = 300
ORGANIZATIONS = 25

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("notebook-demo")
    database = folder / "demo.db"
    build_demo_database(database, persons=PERSONS, organizations=ORGANIZATIONS, seed=11)
    return write_demo_config(folder, database)


@pytest.fixture(scope="module")
def run(demo_config: Path) -> RunResult:
    return run_notebook(NOTEBOOK, config_path=demo_config, output_root=demo_config.parent / "out",
                        progress=False)


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def demo_count(config: Path, sql: str) -> int:
    with sqlite3.connect(config.parent / "demo.db") as connection:
        return connection.execute(sql).fetchone()[0]


def test_run_folder_layout(run: RunResult, demo_config: Path) -> None:
    assert run.out_dir.parent == (demo_config.parent / "out" / "audit").resolve()
    assert re.fullmatch(r"\d{8}T\d{6}Z", run.out_dir.name)
    assert run.notebook_path.is_file()
    assert run.html_path.is_file()


def test_html_embeds_charts(run: RunResult) -> None:
    html = run.html_path.read_text(encoding="utf-8")
    assert len(re.findall(r'<img[^>]*src="data:image/png;base64,', html)) >= 2


def test_html_without_code(run: RunResult) -> None:
    html = run.html_path.read_text(encoding="utf-8")
    assert "run_audit(" not in html
    assert "import " not in html
    assert 'class="jp-CodeMirrorEditor' not in html
    assert "config_path" not in html


def test_html_shows_summary(run: RunResult) -> None:
    html = run.html_path.read_text(encoding="utf-8")
    assert "persons_unmapped" in html


def test_csv_files_written(run: RunResult) -> None:
    names = sorted(path.name for path in run.csv_paths)
    assert names == ["findings.csv", "organizations.csv", "summary.csv", "unmapped_persons.csv"]


def test_unmapped_csv_matches_sql(run: RunResult, demo_config: Path) -> None:
    expected = demo_count(demo_config, "SELECT count(*) FROM users WHERE zaikio_id IS NULL")
    assert len(csv_rows(run.out_dir / "unmapped_persons.csv")) == expected


def test_organizations_csv_matches_sql(run: RunResult, demo_config: Path) -> None:
    expected = demo_count(demo_config, "SELECT count(*) FROM companies")
    assert len(csv_rows(run.out_dir / "organizations.csv")) == expected


def test_summary_csv_values(run: RunResult, demo_config: Path) -> None:
    summary = {row["metric"]: row["value"] for row in csv_rows(run.out_dir / "summary.csv")}
    assert summary["persons_total"] == str(PERSONS)
    assert summary["memberships_total"] == str(demo_count(demo_config, "SELECT count(*) FROM company_users"))


def test_executed_notebook_parameters(run: RunResult, demo_config: Path) -> None:
    notebook = nbformat.read(run.notebook_path, as_version=4)
    injected = [cell for cell in notebook.cells if "injected-parameters" in cell.metadata.get("tags", [])]
    assert len(injected) == 1
    assert str(demo_config.resolve()) in injected[0].source
    assert str(run.out_dir) in injected[0].source


def test_failing_run_raises(tmp_path: Path) -> None:
    with pytest.raises(RunError) as caught:
        run_notebook(NOTEBOOK, config_path=tmp_path / "missing.toml", output_root=tmp_path / "out",
                     progress=False)
    message = str(caught.value)
    partial = next((tmp_path / "out" / "audit").glob("*/01_audit_unmapped.ipynb"))
    assert "failed in cell [" in message
    assert "ConfigError" in message
    assert str(partial) in message


def test_failing_run_keeps_report(tmp_path: Path) -> None:
    with pytest.raises(RunError):
        run_notebook(NOTEBOOK, config_path=tmp_path / "missing.toml", output_root=tmp_path / "out",
                     progress=False)
    assert len(list((tmp_path / "out" / "audit").glob("*/01_audit_unmapped.html"))) == 1


@pytest.mark.parametrize("name", ["client_secret", "access_token", "db_password", "api_key"])
def test_secret_parameter_rejected(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match=f"parameter '{name}' looks like a secret"):
        run_notebook(NOTEBOOK, config_path=None, output_root=tmp_path, parameters={name: "x"},
                     progress=False)
    assert list(tmp_path.iterdir()) == []


def test_unknown_notebook_rejected(tmp_path: Path) -> None:
    with pytest.raises(RunError, match="Notebook '99_nothing' not found"):
        run_notebook("99_nothing", config_path=None, output_root=tmp_path, progress=False)


def test_package_copy_identical() -> None:
    canonical = REPOSITORY_NOTEBOOKS / f"{NOTEBOOK}.ipynb"
    shipped = PACKAGE_NOTEBOOKS / f"{NOTEBOOK}.ipynb"
    assert shipped.read_bytes() == canonical.read_bytes()


def test_committed_notebook_without_outputs() -> None:
    notebook = nbformat.read(REPOSITORY_NOTEBOOKS / f"{NOTEBOOK}.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert [cell.outputs for cell in code] == [[] for _ in code]
    assert [cell.execution_count for cell in code] == [None for _ in code]


def test_parameters_cell_documented() -> None:
    notebook = nbformat.read(REPOSITORY_NOTEBOOKS / f"{NOTEBOOK}.ipynb", as_version=4)
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    for line in tagged[0].source.splitlines():
        assert re.fullmatch(r"\w+: (str|int|float|bool) = .+  # .+", line), line


def test_nbval_runs_notebook(demo_config: Path, tmp_path: Path) -> None:
    environ = {**os.environ, "ZAIKIO_OPS_CONFIG": str(demo_config)}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(tmp_path), str(REPOSITORY_NOTEBOOKS / f"{NOTEBOOK}.ipynb")],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=240,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert (demo_config.parent / "out" / "audit" / "manual" / "unmapped_persons.csv").is_file()
