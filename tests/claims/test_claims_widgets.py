"""The notebook's claim-link helpers and the ipywidgets panel, driven without a browser."""

from __future__ import annotations

import csv
import stat
from datetime import date
from pathlib import Path

import ipywidgets as widgets
import pytest
import sqlalchemy as sa

from claims_testkit import app_config, create_app_tables, premap_person
from zaikio_ops import schema
from zaikio_ops.claims_widgets import ClaimLinksPanel, issue_links, show_panel
from zaikio_ops.config import Config
from zaikio_ops.errors import ConfigError

LOOPBACK = "http://127.0.0.1:9"
# Active persons without a Zaikio UUID in the test app: all but 6 (mapped) and 7 (inactive).
CANDIDATES = ["1", "2", "3", "4", "5", "8", "9", "10"]
GERMAN_CANDIDATES = ["1", "4", "8"]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    engine = sa.create_engine(url)
    create_app_tables(engine)
    built = app_config(url, link_style="app", service_url=LOOPBACK, hub_url=LOOPBACK)
    schema.apply(engine, built)
    premap_person(engine)
    engine.dispose()
    return built


def issued_tokens(config: Config) -> int:
    engine = sa.create_engine(config.database_url)
    with engine.connect() as connection:
        count = connection.execute(sa.text("SELECT count(*) FROM zaikio_ops_claim_tokens")).scalar_one()
    engine.dispose()
    return count


def test_preview_lists_candidates(config: Config) -> None:
    panel = ClaimLinksPanel(config)
    links = panel.preview()
    assert links.dry_run
    assert list(links.rows["subject_id"]) == CANDIDATES
    assert issued_tokens(config) == 0


def test_preview_button_wired(config: Config) -> None:
    panel = ClaimLinksPanel(config)
    panel.locale.value = "de"
    panel.preview_button.click()
    assert list(panel.last_links.rows["subject_id"]) == GERMAN_CANDIDATES


def test_generate_exports_links(config: Config, tmp_path: Path) -> None:
    panel = ClaimLinksPanel(config, export_path=str(tmp_path / "links.csv"))
    panel.limit.value = 2
    panel.mail_language.value = "de"
    links, path = panel.generate()
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["subject_id"] for row in rows] == CANDIDATES[:2]
    assert all(row["mail_subject"] for row in rows)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert issued_tokens(config) == 2
    assert panel.last_export == path


def test_generate_button_without_path(config: Config) -> None:
    panel = ClaimLinksPanel(config)
    panel.generate_button.click()
    assert panel.last_links is None
    assert issued_tokens(config) == 0


def test_generate_batches(config: Config, tmp_path: Path) -> None:
    panel = ClaimLinksPanel(config, export_path=str(tmp_path / "links.csv"))
    panel.batch_size.value = 3
    links, _ = panel.generate()
    assert len(links.batch_ids) == 3


def test_login_date_filter(config: Config) -> None:
    panel = ClaimLinksPanel(config)
    panel.last_login_after.value = date(2026, 6, 1)
    assert len(panel.preview()) == 0


def test_organization_kind_needs_mapped_owner(config: Config) -> None:
    links = issue_links(config, kind="organization")
    assert len(links) == 0


def test_panel_widget_tree(config: Config) -> None:
    panel = ClaimLinksPanel(config)
    assert isinstance(panel.widget, widgets.VBox)
    assert panel.batch_size.value == config.claims.batch_size


@pytest.mark.parametrize("arguments, message", [
    ({"kind": "team"}, "kind must be"),
    ({"limit": -1}, "limit must be"),
    ({"last_login_after": "31.01.2025"}, "last_login_after must be a date"),
    ({"dry_run": False}, "export_path is empty"),
])
def test_issue_links_rejects(config: Config, arguments: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        issue_links(config, **arguments)
    assert issued_tokens(config) == 0


def test_panel_hidden_when_scheduled(config: Config, capsys: pytest.CaptureFixture[str]) -> None:
    assert show_panel(config, interactive=False) is None
    assert "Interactive controls skipped" in capsys.readouterr().out
