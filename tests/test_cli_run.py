"""``zaikio-ops run audit`` as a subprocess: outputs on success, a non-zero exit on a failing cell."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from zaikio_ops.demo import build_demo_database, write_demo_config


def _demo(folder: Path) -> Path:
    database = folder / "demo.db"
    build_demo_database(database, persons=200, organizations=20, seed=7)
    return write_demo_config(folder, database)


def test_run_audit_writes_report(tmp_path, run_cli):
    config = _demo(tmp_path)

    completed = run_cli("--config", str(config), "run", "audit", "--output-root", str(tmp_path / "runs"))

    assert completed.returncode == 0, completed.stderr
    run_folders = list((tmp_path / "runs" / "audit").iterdir())
    assert len(run_folders) == 1
    html = run_folders[0] / "01_audit_unmapped.html"
    assert html.is_file()
    assert str(html) in completed.stdout
    with sqlite3.connect(tmp_path / "demo.db") as connection:
        unmapped = connection.execute("SELECT count(*) FROM users WHERE zaikio_id IS NULL").fetchone()[0]
    rows = (run_folders[0] / "unmapped_persons.csv").read_text(encoding="utf-8").strip().splitlines()
    assert len(rows) - 1 == unmapped


def test_run_audit_failing_cell_exits_nonzero(tmp_path, run_cli):
    config = _demo(tmp_path)
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('email = "email"', 'email = "e_mail"'), encoding="utf-8")

    completed = run_cli("--config", str(config), "run", "audit", "--output-root", str(tmp_path / "runs"))

    assert completed.returncode != 0
    assert "Error:" in completed.stderr
    assert "e_mail" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_run_rejects_secret_parameter(tmp_path, run_cli):
    config = _demo(tmp_path)

    completed = run_cli("--config", str(config), "run", "audit", "-p", "client_secret=abc",
                        "--output-root", str(tmp_path / "runs"))

    assert completed.returncode == 2
    assert "client_secret" in completed.stderr
    assert not (tmp_path / "runs").exists()


def test_run_rejects_unknown_parameter(tmp_path, run_cli):
    config = _demo(tmp_path)

    completed = run_cli("--config", str(config), "run", "audit", "-p", "chunk_size=10",
                        "--output-root", str(tmp_path / "runs"))

    assert completed.returncode == 2
    assert "chunk_size" in completed.stderr
    assert "chunksize" in completed.stderr
    assert not (tmp_path / "runs").exists()


def test_parameters_converted_to_declared_types():
    from zaikio_ops.runs import check_known_parameters, find_notebook

    converted = check_known_parameters(find_notebook("02_claim_links"),
                                       {"dry_run": "False", "rotate": "true", "limit": "25", "organization_id": 7})

    assert converted["dry_run"] is False
    assert converted["rotate"] is True
    assert converted["limit"] == 25
    assert converted["organization_id"] == "7"


def test_run_rejects_wrongly_typed_parameter(tmp_path, run_cli):
    config = _demo(tmp_path)

    completed = run_cli("--config", str(config), "run", "audit", "-p", "chunksize=abc",
                        "--output-root", str(tmp_path / "runs"))

    assert completed.returncode == 2
    assert "whole number" in completed.stderr
    assert "Traceback" not in completed.stderr
