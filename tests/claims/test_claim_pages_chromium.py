"""The claim pages as headless Chromium renders them.

Chromium is Debian's ``chromium`` package; ``.ci/run`` installs it when missing,
and these tests fail (never skip) without it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from claims_testkit import ClaimSetup, link_of, random_token
from zaikio_ops.claims import generate_person_claims

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chromium(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail("Chromium not found. Install Debian's chromium package (apt-get install chromium); "
                    ".ci/run does this.", pytrace=False)
    return subprocess.run(
        [executable, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *arguments],
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_landing_page_renders_german(claim_setup: ClaimSetup, tmp_path: Path) -> None:
    links = generate_person_claims(claim_setup.config)

    rendered = chromium(tmp_path, "--accept-lang=de-DE,de", "--dump-dom", link_of(links, 1))

    assert rendered.returncode == 0, rendered.stderr[-2000:]
    assert "Konto mit Zaikio verknüpfen" in rendered.stdout
    assert 'method="post"' in rendered.stdout
    assert "Weiter zu Zaikio" in rendered.stdout


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_error_page_screenshot(claim_setup: ClaimSetup, tmp_path: Path) -> None:
    screenshot = tmp_path / "error.png"

    rendered = chromium(tmp_path, "--accept-lang=en-GB,en", "--window-size=900,600",
                        f"--screenshot={screenshot}", f"{claim_setup.service_url}/claims/{random_token()}")

    assert rendered.returncode == 0, rendered.stderr[-2000:]
    data = screenshot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 5_000, "a blank page compresses to a few hundred bytes"
