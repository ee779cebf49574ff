"""``zaikio-ops schema``: plan, apply and check the DDL the migration needs."""

from __future__ import annotations

import click

from zaikio_ops.cli_common import pass_config


@click.group()
def schema() -> None:
    """Add Zaikio UUID columns and the kit's own tables to the app's database."""


@schema.command()
@pass_config
def plan(config) -> None:
    """Print the missing DDL for the app's database without running it."""
    from zaikio_ops import schema as ddl
    from zaikio_ops.db import create_engine

    click.echo(ddl.plan(create_engine(config.database_url), config), nl=False)


@schema.command()
@click.option("--yes", is_flag=True, help="Run without asking for confirmation.")
@pass_config
def apply(config, yes: bool) -> None:
    """Run the missing DDL (in one transaction where the database allows)."""
    from zaikio_ops import schema as ddl
    from zaikio_ops.db import create_engine

    engine = create_engine(config.database_url)
    missing = ddl.check(engine, config)
    if not missing:
        click.echo("The schema is complete; nothing to do.")
        return
    click.echo("Changes:\n" + "\n".join(f"  - {item}" for item in missing))
    if not yes:
        click.confirm("Apply these changes?", abort=True)
    for item in ddl.apply(engine, config):
        click.echo(f"done: {item}")


@schema.command()
@pass_config
def check(config) -> None:
    """Exit with status 1 and list what is missing, or report that the schema is complete."""
    from zaikio_ops import schema as ddl
    from zaikio_ops.db import create_engine

    missing = ddl.check(create_engine(config.database_url), config)
    if missing:
        click.echo("Missing:\n" + "\n".join(f"  - {item}" for item in missing))
        click.echo("Run 'zaikio-ops schema plan' to see the DDL and 'zaikio-ops schema apply' to run it.")
        raise SystemExit(1)
    click.echo("The schema is complete.")


COMMANDS = [schema]
