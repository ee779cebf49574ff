"""The claim-links notebook run with papermill, with a canary search for leaked tokens, and with nbval."""

from __future__ import annotations

import csv
import logging
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from zaikio_ops import schema
from zaikio_ops.config import load_config
from zaikio_ops.demo import build_demo_database, write_demo_config
from zaikio_ops.demo_flow import clear_shared_zaikio_ids
from zaikio_ops.runs import PACKAGE_NOTEBOOKS, REPOSITORY_NOTEBOOKS, RunResult, run_notebook
from zaikio_ops.source import Source

NOTEBOOK = "02_claim_links"
PERSONS = 120
ORGANIZATIONS = 10

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("claims-notebook")
    database = folder / "demo.db"
    build_demo_database(database, persons=PERSONS, organizations=ORGANIZATIONS, seed=23)
    path = write_demo_config(folder, database)
    config = load_config(path, environ={})
    source = Source(config)
    # The demo plants Zaikio UUIDs shared by two rows, which the schema step's unique index rejects.
    clear_shared_zaikio_ids(source.engine, config)
    schema.apply(source.engine, config)
    source.engine.dispose()
    return path


@pytest.fixture(scope="module")
def canary_run(demo_config: Path) -> tuple[RunResult, Path, str]:
    """Run the notebook for real; return the run, the export and every log line of the run."""
    export = demo_config.parent / "links" / "claim_links.csv"
    export.parent.mkdir()
    handler = _ListHandler()
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        run = run_notebook(NOTEBOOK, config_path=demo_config, output_root=demo_config.parent / "out",
                           parameters={"dry_run": False, "export_path": str(export), "mail_language": "auto"},
                           progress=False)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
    return run, export, "\n".join(handler.lines)


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def exported_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


MAILABLE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def claimable_persons(config: Path) -> int:
    """Count unmapped active persons with a usable e-mail address, straight from the demo database."""
    with sqlite3.connect(config.parent / "demo.db") as connection:
        emails = connection.execute(
            "SELECT email FROM users WHERE zaikio_id IS NULL AND is_active = 1").fetchall()
    return sum(1 for (email,) in emails if email and MAILABLE.match(email.strip()))


def test_run_exports_every_candidate(canary_run, demo_config: Path) -> None:
    _, export, _ = canary_run
    rows = exported_rows(export)
    assert len(rows) == claimable_persons(demo_config)
    assert len({row["link"] for row in rows}) == len(rows)


def test_export_private(canary_run) -> None:
    _, export, _ = canary_run
    assert stat.S_IMODE(export.stat().st_mode) == 0o600


def test_export_has_mail_text(canary_run) -> None:
    _, export, _ = canary_run
    rows = exported_rows(export)
    assert all(row["link"] in row["mail_text"] for row in rows)


def test_canary_tokens_stay_in_export(canary_run) -> None:
    run, export, log_text = canary_run
    links = [row["link"] for row in exported_rows(export)]
    tokens = [link.rsplit("/", 1)[-1] for link in links]
    notebook_text = run.notebook_path.read_text(encoding="utf-8")
    html_text = run.html_path.read_text(encoding="utf-8")

    assert len(tokens) > 20
    assert "Running notebook" in log_text
    assert [token for token in tokens if len(token) < 43] == []
    assert [token for token in tokens if token in notebook_text] == []
    assert [token for token in tokens if token in html_text] == []
    assert [token for token in tokens if token in log_text] == []


def test_run_prints_export_path(canary_run) -> None:
    run, export, _ = canary_run
    assert f"Export: {export}" in run.notebook_path.read_text(encoding="utf-8")
    assert f"Export: {export}" in run.html_path.read_text(encoding="utf-8")


def test_run_shows_masked_links(canary_run) -> None:
    run, _, _ = canary_run
    html = run.html_path.read_text(encoding="utf-8")
    assert "&lt;ClaimLinks" in html
    assert "<td>http://127.0.0.1:8766/cl…</td>" in html


def test_run_skips_widgets(canary_run) -> None:
    run, _, _ = canary_run
    notebook = nbformat.read(run.notebook_path, as_version=4)
    interactive = next(cell for cell in notebook.cells if cell.get("id") == "interactive")
    texts = [output.get("text", "") for output in interactive.outputs]
    assert texts == ["Interactive controls skipped: this is a scheduled run (interactive=False).\n"]


def test_run_folder_named_claims(canary_run, demo_config: Path) -> None:
    run, _, _ = canary_run
    assert run.out_dir.parent == (demo_config.parent / "out" / "claims").resolve()
    assert run.csv_paths == []


def test_second_run_issues_nothing(canary_run, demo_config: Path, tmp_path: Path) -> None:
    export = tmp_path / "again.csv"
    run_notebook(NOTEBOOK, config_path=demo_config, output_root=tmp_path / "out",
                 parameters={"dry_run": False, "export_path": str(export)}, progress=False)
    assert exported_rows(export) == []


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
    names = []
    for line in tagged[0].source.splitlines():
        assert re.fullmatch(r"\w+: (str|int|float|bool) = .+  # .+", line), line
        names.append(line.split(":", 1)[0])
    assert names == ["config_path", "output_dir", "kind", "organization_id", "locale", "last_login_after",
                     "limit", "rotate", "dry_run", "export_path", "mail_language", "interactive"]


def test_nbval_runs_notebook(demo_config: Path, tmp_path: Path) -> None:
    environ = {**os.environ, "ZAIKIO_OPS_CONFIG": str(demo_config)}
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(tmp_path), str(REPOSITORY_NOTEBOOKS / f"{NOTEBOOK}.ipynb")],
        cwd=tmp_path, env=environ, capture_output=True, text=True, timeout=240,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
