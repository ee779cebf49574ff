"""Fidelity tests fail, and never skip, when the reference material is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_missing_shared_fails_not_skips(tmp_path):
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "ZAIKIO_OPS_SHARED": str(tmp_path / "absent")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "tests/hub/test_recorded_responses.py::test_recorded_connections"]

    result = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode != 0
    assert "Reference material not found" in result.stdout
    assert "skipped" not in result.stdout.splitlines()[-1]
