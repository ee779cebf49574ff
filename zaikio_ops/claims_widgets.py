"""Issuing claim links from a notebook: one call for the parameters, and ipywidgets controls.

:func:`issue_links` turns the notebook's plain parameters (strings, with ``""``
for "not set") into a call of :func:`~zaikio_ops.claims.generate_person_claims`
or :func:`~zaikio_ops.claims.generate_organization_claims`, and
:func:`export_links` writes the plain links. :class:`ClaimLinksPanel` offers the
same with filters, a batch size, a preview button (a dry run) and a generate
button that issues and exports in one step, so the plain links only ever go to
the 0600 CSV file. Every output shows :class:`~zaikio_ops.claims.ClaimLinks`,
whose reprs mask the links.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import ipywidgets as widgets
from IPython.display import display

from zaikio_ops.claims import ClaimLinks, generate_organization_claims, generate_person_claims
from zaikio_ops.config import Config
from zaikio_ops.errors import ConfigError, ZaikioOpsError
from zaikio_ops.source import Source

logger = logging.getLogger(__name__)

KINDS = ("person", "organization")
MAIL_LANGUAGES = ("", "de", "en", "auto")


def issue_links(config: Config, *, kind: str = "person", organization_id: str = "", locale: str = "",
                last_login_after: str | date = "", limit: int = 0, rotate: bool = False,
                dry_run: bool = True, export_path: str = "", batch_size: int | None = None,
                source: Source | None = None) -> ClaimLinks:
    """Issue (or, with ``dry_run``, count) claim links from notebook parameters.

    Parameters
    ----------
    config : Config
    kind : {"person", "organization"}
    organization_id, locale : str
        Filters; ``""`` means no filter. ``locale`` applies to persons only.
    last_login_after : str or date
        ``YYYY-MM-DD`` (UTC) or ``""``; applies to persons only.
    limit : int
        At most this many links; 0 means no limit.
    rotate, dry_run : bool
        As for :func:`~zaikio_ops.claims.generate_person_claims`.
    export_path : str
        Checked here, before anything is written: without it only a dry run is allowed,
        because the database keeps only token hashes.
    batch_size : int, optional
        Links per batch; defaults to ``[claims] batch_size``.
    source : Source, optional

    Raises
    ------
    ConfigError
        When ``kind``, ``last_login_after`` or ``limit`` is invalid, or ``export_path``
        is empty for a real run.
    """
    if kind not in KINDS:
        raise ConfigError(f"kind must be 'person' or 'organization', got {kind!r}.")
    if limit < 0:
        raise ConfigError(f"limit must be 0 (no limit) or a positive number, got {limit}.")
    if not dry_run and not str(export_path).strip():
        raise ConfigError("export_path is empty, but dry_run is False. The database keeps only token "
                          "hashes, so set export_path to the CSV file for the links, or set dry_run=True.")

    common = {"source": source, "organization_id": organization_id or None, "limit": limit or None,
              "rotate": rotate, "dry_run": dry_run, "batch_size": batch_size}
    if kind == "organization":
        return generate_organization_claims(config, **common)
    return generate_person_claims(config, locale=locale or None,
                                  last_login_after=_login_date(last_login_after), **common)


def export_links(links: ClaimLinks, export_path: str, config: Config, *,
                 mail_language: str = "") -> Path | None:
    """Write the plain links to ``export_path`` (mode 0600) and return the path; None for a dry run.

    Raises
    ------
    ConfigError
        When ``mail_language`` is not ``""``, ``de``, ``en`` or ``auto``.
    """
    if mail_language not in MAIL_LANGUAGES:
        raise ConfigError(f"mail_language must be '', 'de', 'en' or 'auto', got {mail_language!r}.")
    if links.dry_run:
        return None
    return links.export(export_path, settings=config.export, mail_language=mail_language or None)


def _login_date(value: str | date | None) -> datetime | None:
    if not value:
        return None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.strptime(str(value).strip(), "%Y-%m-%d")
    except ValueError:
        raise ConfigError(f"last_login_after must be a date like 2025-01-31, got {value!r}.") from None


class ClaimLinksPanel:
    """Filters, a batch size, a preview and a generate button, and an output area.

    Preview runs a dry run and shows the masked candidates. Generate issues the
    links and exports them to the CSV path in one step. Errors of the kit
    appear in the output area instead of a traceback. The results stay on the
    panel (:attr:`last_links`, :attr:`last_export`) for the cells below.

    Parameters
    ----------
    config : Config
    source : Source, optional
        Reuse an existing source (and its engine).
    export_path : str
        Initial value of the export field.
    """

    def __init__(self, config: Config, *, source: Source | None = None, export_path: str = "") -> None:
        self.config = config
        self.source = source
        self.last_links: ClaimLinks | None = None
        self.last_export: Path | None = None

        self.kind = widgets.Dropdown(options=[("Persons", "person"), ("Organizations", "organization")],
                                     value="person", description="Claim")
        self.organization_id = widgets.Text(description="Organization", placeholder="all")
        self.locale = widgets.Text(description="Locale", placeholder="all, or e.g. de")
        self.last_login_after = widgets.DatePicker(description="Login after")
        self.limit = widgets.BoundedIntText(value=0, min=0, max=10_000_000, description="Limit",
                                            tooltip="0 means no limit")
        self.batch_size = widgets.BoundedIntText(value=config.claims.batch_size, min=1, max=1_000_000,
                                                 description="Batch size")
        self.rotate = widgets.Checkbox(value=False, description="Rotate live links")
        self.export_path = widgets.Text(value=export_path, description="Export CSV",
                                        placeholder="path of the CSV file for the links")
        self.mail_language = widgets.Dropdown(options=[("none", ""), ("German", "de"), ("English", "en"),
                                                       ("by locale", "auto")], value="", description="Mail text")
        self.preview_button = widgets.Button(description="Preview", icon="eye")
        self.generate_button = widgets.Button(description="Generate and export", button_style="warning",
                                              icon="key")
        self.output = widgets.Output()

        self.preview_button.on_click(lambda _: self._run(dry_run=True))
        self.generate_button.on_click(lambda _: self._run(dry_run=False))

    @property
    def widget(self) -> widgets.Widget:
        """The panel as one widget for ``display``."""
        filters = widgets.VBox([self.kind, self.organization_id, self.locale, self.last_login_after,
                                self.limit])
        options = widgets.VBox([self.batch_size, self.rotate, self.export_path, self.mail_language])
        buttons = widgets.HBox([self.preview_button, self.generate_button])
        return widgets.VBox([widgets.HBox([filters, options]), buttons, self.output])

    def preview(self) -> ClaimLinks:
        """Count and list the candidates with the current filters (a dry run)."""
        links = self._issue(dry_run=True)
        self.last_links = links
        return links

    def generate(self) -> tuple[ClaimLinks, Path]:
        """Issue links with the current filters and export them; return the links and the CSV path."""
        links = self._issue(dry_run=False)
        path = export_links(links, self.export_path.value, self.config, mail_language=self.mail_language.value)
        self.last_links, self.last_export = links, path
        logger.info("Panel issued %d %s claim link(s) into %s", len(links), self.kind.value, path)
        return links, path

    def _issue(self, *, dry_run: bool) -> ClaimLinks:
        return issue_links(
            self.config, kind=self.kind.value, organization_id=self.organization_id.value.strip(),
            locale=self.locale.value.strip(), last_login_after=self.last_login_after.value or "",
            limit=self.limit.value, rotate=self.rotate.value, dry_run=dry_run,
            export_path=self.export_path.value, batch_size=self.batch_size.value, source=self.source)

    def _run(self, *, dry_run: bool) -> None:
        self.output.clear_output()
        with self.output:
            try:
                if dry_run:
                    display(self.preview())
                    return
                links, path = self.generate()
                display(links)
                print(f"Export: {path}")
            except ZaikioOpsError as exc:
                logger.warning("Claim links panel: %s", exc)
                print(f"Error: {exc}")


def show_panel(config: Config, interactive: bool, *, export_path: str = "") -> ClaimLinksPanel | None:
    """Display a :class:`ClaimLinksPanel` when ``interactive`` is true; return it, or None."""
    if not interactive:
        print("Interactive controls skipped: this is a scheduled run (interactive=False).")
        return None
    panel = ClaimLinksPanel(config, export_path=export_path)
    display(panel.widget)
    return panel
