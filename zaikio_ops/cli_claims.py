"""``zaikio-ops claims``: issue, export, revoke and serve claim links."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

import click

from zaikio_ops.cli_common import pass_config


@click.group()
def claims() -> None:
    """Issue claim links in batches, revoke them, and run the claim service."""


@claims.command()
@click.option("--kind", type=click.Choice(["person", "organization"]), default="person", show_default=True,
              help="Claim persons, or organizations through their already mapped owners.")
@click.option("--organization", "organization_id", help="Only this organization (or its members).")
@click.option("--last-login-after", type=click.DateTime(["%Y-%m-%d"]),
              help="Only persons who logged in on or after this date (YYYY-MM-DD, UTC).")
@click.option("--locale", help="Only persons whose locale starts with this, e.g. de.")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many links.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Links per batch [default: [claims] batch_size].")
@click.option("--rotate", is_flag=True, help="Revoke live links of the selected subjects and issue new ones.")
@click.option("--dry-run", is_flag=True, help="Only count what would be issued; write nothing.")
@click.option("--export", "export_path", type=click.Path(dir_okay=False),
              help="Write the plain links to this CSV file (mode 0600). Without it, links are lost.")
@click.option("--delimiter", type=click.Choice([",", ";"]), help="CSV delimiter [default: [export] delimiter].")
@click.option("--bom/--no-bom", default=None, help="Start the CSV with a UTF-8 BOM (Excel).")
@click.option("--mail-language", type=click.Choice(["de", "en", "auto"]),
              help="Add mail-merge subject and text columns in this language (auto: by locale).")
@click.option("--include-unmailable", is_flag=True,
              help="Also issue links to persons whose e-mail address is missing or malformed.")
@pass_config
def generate(config, kind: str, organization_id: str | None, last_login_after: datetime | None,
             locale: str | None, limit: int | None, batch_size: int | None, rotate: bool, dry_run: bool,
             export_path: str | None, delimiter: str | None, bom: bool | None,
             mail_language: str | None, include_unmailable: bool) -> None:
    """Issue claim links for unmapped persons or organizations; running it again issues nothing new.

    The export is the only copy of the plain links, so it must be a new file in a
    writable folder; this is checked before any link is issued. If writing it fails
    anyway, the links just issued are revoked.
    """
    from zaikio_ops.claims import generate_organization_claims, generate_person_claims

    if not dry_run and not export_path:
        raise click.UsageError("Links are stored only as hashes; pass --export FILE to keep them, "
                               "or --dry-run to only count.")
    if export_path and not dry_run:
        check_new_export(Path(export_path))

    if kind == "person":
        links = generate_person_claims(config, organization_id=organization_id,
                                       last_login_after=last_login_after, locale=locale, limit=limit,
                                       rotate=rotate, dry_run=dry_run, batch_size=batch_size, progress=True,
                                       require_email=not include_unmailable)
    else:
        links = generate_organization_claims(config, organization_id=organization_id, limit=limit,
                                             rotate=rotate, dry_run=dry_run, batch_size=batch_size,
                                             progress=True)

    verb = "Would issue" if dry_run else "Issued"
    click.echo(f"{verb} {len(links)} {kind} claim link(s); {links.skipped} skipped (live link exists).")
    if links.unmailable:
        click.echo(f"Left out {links.unmailable} person(s) without a usable e-mail address "
                   f"(see the audit's missing_email and malformed_email findings; --include-unmailable "
                   f"issues links for them too).")
    if export_path and not dry_run:
        _export_or_revoke(config, links, Path(export_path), delimiter=delimiter, bom=bom,
                          mail_language=mail_language)
    for batch_id in links.batch_ids:
        click.echo(f"Batch:  {batch_id}")


def check_new_export(path: Path) -> None:
    """Raise unless ``path`` is a new file in a folder that can be written."""
    from zaikio_ops.errors import ExportError

    if path.exists():
        raise ExportError(f"{path} exists already and may hold the only copy of earlier links. "
                          f"Choose a new file name.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".zaikio-ops-check-"):
            pass
    except OSError as exc:
        raise ExportError(f"Cannot write the export {path}: {exc.strerror}. Choose a writable "
                          f"folder; no link was issued.") from None


def _export_or_revoke(config, links, path: Path, **options) -> None:
    from zaikio_ops.claims import revoke as revoke_links
    from zaikio_ops.errors import ExportError

    try:
        written = links.export(path, settings=config.export, **options)
    except ExportError as exc:
        revoked = sum(revoke_links(config, batch_id=batch_id) for batch_id in links.batch_ids)
        raise ExportError(f"{exc} The {revoked} link(s) just issued were revoked because nobody "
                          f"has a copy; run the command again with a writable --export.") from None
    click.echo(f"Export: {written}")


@claims.command()
@click.option("--batch", "batch_id", help="Revoke the live links of this batch.")
@click.option("--person", "person_id", help="Revoke the live links of this person.")
@click.option("--organization", "organization_id", help="Revoke the live links of this organization.")
@click.option("--all", "everything", is_flag=True, help="Revoke every live link.")
@pass_config
def revoke(config, batch_id, person_id, organization_id, everything: bool) -> None:
    """Revoke live claim links; used links stay as they are."""
    from zaikio_ops.claims import revoke as revoke_links

    count = revoke_links(config, batch_id=batch_id, person_id=person_id,
                         organization_id=organization_id, everything=everything)
    click.echo(f"Revoked {count} claim link(s).")
    if count == 0:
        subject = "The database"
        if batch_id:
            subject = f"Batch {batch_id}"
        elif person_id:
            subject = f"Person {person_id}"
        elif organization_id:
            subject = f"Organization {organization_id}"
        click.echo(f"{subject} has no live links (unknown ID, or all links used, revoked or expired).")


@claims.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8766, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@pass_config
def serve(config, host: str, port: int) -> None:
    """Run the claim service: the claim landing page and the OAuth callback."""
    import uvicorn

    from zaikio_ops.web.app import create_claim_app

    click.echo(f"Claim service on http://{host}:{port}/ (Zaikio at {config.hub.url})")
    uvicorn.run(create_claim_app(config), host=host, port=port, log_level="info")


COMMANDS = [claims]
