"""The ``zaikio-ops`` command line.

Each command is a thin layer over a library call. Errors raised on purpose
(:class:`~zaikio_ops.errors.ZaikioOpsError`) are printed as one ``Error: ...``
line on stderr with the error's exit code. Any other exception is a bug, so it
keeps its traceback.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
from pathlib import Path

import click

from zaikio_ops import __version__
from zaikio_ops.errors import ZaikioOpsError

logger = logging.getLogger(__name__)

# Command groups that live in their own modules, registered when importable.
_SUBCOMMAND_MODULES = ("zaikio_ops.cli_hub", "zaikio_ops.cli_claims", "zaikio_ops.cli_schema",
                       "zaikio_ops.cli_reconcile")


class _Group(click.Group):
    """A click group that prints kit errors without a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ZaikioOpsError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar="ZAIKIO_OPS_CONFIG",
              default="zaikio_ops.toml", show_default=True,
              help="TOML configuration file. Secrets come from environment variables.")
@click.option("-v", "--verbose", count=True, help="Log more: -v for INFO, -vv for DEBUG.")
@click.version_option(__version__, prog_name="zaikio-ops")
@click.pass_context
def cli(ctx: click.Context, config_path: str, verbose: int) -> None:
    """Move an app's existing accounts onto Zaikio single sign-on."""
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = {"config_path": config_path}


def load_context_config(ctx: click.Context):
    """Load the configuration named by ``--config`` (or ``ZAIKIO_OPS_CONFIG``)."""
    from zaikio_ops.config import load_config

    return load_config(ctx.obj["config_path"])


@cli.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate the configuration and the schema mapping against the database."""
    from zaikio_ops.source import Source

    config = load_context_config(ctx)
    Source(config).check()
    click.echo(f"OK: {config.path} maps persons, organizations and memberships.")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the summary and finding counts as JSON.")
@click.option("--export", "export_dir", type=click.Path(file_okay=False),
              help="Also write the CSV files (summary, organizations, unmapped persons, findings) here.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar while reading persons (default: when stderr is a terminal).")
@click.pass_context
def audit(ctx: click.Context, as_json: bool, export_dir: str | None, progress: bool | None) -> None:
    """Count unmapped persons and organizations and list what blocks the migration."""
    from zaikio_ops.audit import run_audit
    from zaikio_ops.report import export_audit

    config = load_context_config(ctx)
    if progress is None:
        progress = sys.stderr.isatty() and not as_json
    result = run_audit(config, progress=progress)

    if export_dir:
        paths = export_audit(result, Path(export_dir), config.export)
        click.echo(f"Wrote {len(paths)} CSV files to {export_dir}", err=as_json)
    if as_json:
        click.echo(json.dumps({"summary": result.summary, "findings": result.finding_counts()}, indent=2))
        return
    click.echo(result.summary_frame().to_string(index=False))


NOTEBOOK_JOBS = {"audit": "01_audit_unmapped", "claims": "02_claim_links",
                 "reconcile": "03_reconcile_memberships"}


@cli.command()
@click.argument("job", type=click.Choice(sorted(NOTEBOOK_JOBS)))
@click.option("--output-root", default=None, type=click.Path(file_okay=False),
              help="Folder for run outputs [default: [output] dir of the configuration, or out].")
@click.option("-p", "--parameter", "parameters", multiple=True, metavar="NAME=VALUE",
              help="Notebook parameter to override (repeatable, JSON values); secrets are rejected.")
@click.pass_context
def run(ctx: click.Context, job: str, output_root: str | None, parameters: tuple[str, ...]) -> None:
    """Execute a notebook job with papermill into <output>/<job>/<UTC timestamp>/.

    JOB is audit (01_audit_unmapped), claims (02_claim_links) or reconcile
    (03_reconcile_memberships). The run writes the executed notebook, an HTML
    report without code and the job's CSV files, and exits non-zero when a cell fails.
    """
    from zaikio_ops.runs import run_notebook

    config = load_context_config(ctx)
    result = run_notebook(NOTEBOOK_JOBS[job], config_path=config.path,
                          output_root=output_root or config.output_dir,
                          parameters=_parse_parameters(parameters))
    _echo_run(result)


@cli.command()
@click.option("--dir", "directory", default="out/demo", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the demo database, its configuration and the run outputs.")
@click.option("--persons", default=4000, show_default=True, type=click.IntRange(50, 2_000_000),
              help="Number of persons in the demo database.")
@click.option("--organizations", default=300, show_default=True, type=click.IntRange(5, 200_000),
              help="Number of organizations in the demo database.")
def demo(directory: str, persons: int, organizations: int) -> None:
    """Build a SQLite demo database of a realistic app and run the audit on it."""
    from zaikio_ops.demo import build_demo_database, write_demo_config
    from zaikio_ops.demo_flow import claim_demo
    from zaikio_ops.runs import run_notebook

    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "demo.db"
    planted = build_demo_database(database, persons=persons, organizations=organizations)
    config_path = write_demo_config(folder, database)
    click.echo(f"Demo database: {database} ({persons} persons, {organizations} organizations)")
    logger.info("Planted data-quality problems: %s", planted)

    claimed = claim_demo(folder, config_path, database)
    click.echo(f"Claims: {claimed.persons_issued} person links issued, {claimed.persons_claimed} claimed "
               f"through the local Zaikio stand-in, {claimed.organizations_claimed} organizations claimed")
    click.echo(f"Links:    {claimed.export_path} (mode 0600; they point at the demo's stopped servers)")

    result = run_notebook("01_audit_unmapped", config_path=config_path, output_root=folder / "runs")
    _echo_run(result)


def _echo_run(result) -> None:
    click.echo(f"Report:   {result.html_path}")
    click.echo(f"Notebook: {result.notebook_path}")
    for path in result.csv_paths:
        click.echo(f"CSV:      {path}")


def _parse_parameters(pairs: tuple[str, ...]) -> dict[str, object]:
    parameters: dict[str, object] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--parameter")
        try:
            parameters[name] = json.loads(value)
        except json.JSONDecodeError:
            parameters[name] = value
    return parameters


def _register_subcommands() -> None:
    for module_name in _SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        default = getattr(module, module_name.rsplit("_", 1)[-1], None)
        for command in getattr(module, "COMMANDS", [default] if default else []):
            cli.add_command(command)


_register_subcommands()


def main() -> None:
    """Entry point of the ``zaikio-ops`` console script."""
    cli(prog_name="zaikio-ops")
