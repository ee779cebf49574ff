"""``zaikio-ops hub`` commands: run the local Zaikio Hub stand-in.

``hub serve`` registers one demo app whose credentials come from
``ZAIKIO_CLIENT_ID`` / ``ZAIKIO_CLIENT_SECRET``. Without them it generates a
pair, prints the client id and ``***`` in place of the secret, and writes both
to the file named by ``--credentials-file`` (mode 0600).

``--from-app`` seeds the stand-in from the app database named by the top-level
``--config``: every local person and organization gets a Zaikio account (the
already mapped ones keep their UUID), so the demo has accounts to claim. The
app's ``[hub] client_id``, ``app_name`` and ``redirect_uri`` are registered.

``--standin-config FILE`` reads a TOML file whose ``[standin]`` table may set ``host``,
``port``, ``seed``, ``fault_429``, ``fault_5xx``, ``latency_ms``, ``fault_seed``,
``app_name``, ``redirect_uris`` (list) and ``desired_scopes`` (list). Command
line options override the file.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import uuid
from pathlib import Path
from typing import Any

import click
import uvicorn

from zaikio_ops.secret import Secret
from zaikio_ops.standin.app import create_app
from zaikio_ops.standin.faults import FaultConfig
from zaikio_ops.standin.seed import DEFAULT_DESIRED_SCOPES, load_seed_file
from zaikio_ops.standin.state import HubState, StandinApp

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["hub"]

DEFAULT_REDIRECT_URI = "http://127.0.0.1:8000/auth/zaikio/callback"


def _read_config(path: str | None) -> dict[str, Any]:
    if path is None:
        return {}

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise click.BadParameter(f"{path} does not exist.", param_hint="--config") from None
    except tomllib.TOMLDecodeError as exc:
        raise click.BadParameter(f"{path} is not valid TOML: {exc}.", param_hint="--config") from None

    table = data.get("standin", {})
    if not isinstance(table, dict):
        raise click.BadParameter(f"{path}: [standin] must be a table.", param_hint="--config")
    return table


def _pick(option: Any, config: dict[str, Any], key: str, default: Any) -> Any:
    if option is not None and option != ():
        return option
    return config.get(key, default)


def _write_credentials(path: Path, client_id: str, client_secret: Secret) -> None:
    """Write generated credentials as ``KEY=value`` lines to a new file with mode 0600."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(f"ZAIKIO_CLIENT_ID={client_id}\nZAIKIO_CLIENT_SECRET={client_secret.reveal()}\n")
    os.chmod(path, 0o600)


def _demo_credentials(credentials_file: str | None) -> tuple[str, Secret, bool]:
    """Return ``(client_id, secret, generated)`` from the environment or newly generated."""
    client_id = os.environ.get("ZAIKIO_CLIENT_ID")
    client_secret = os.environ.get("ZAIKIO_CLIENT_SECRET")
    if client_id and client_secret:
        return client_id, Secret(client_secret), False

    if credentials_file is None:
        raise click.UsageError(
            "Set ZAIKIO_CLIENT_ID and ZAIKIO_CLIENT_SECRET, or pass --credentials-file FILE so the generated "
            "secret can be written there (it is never printed)."
        )

    return str(uuid.uuid4()), Secret(secrets.token_hex(16)), True


def _serve_app(ctx: click.Context, state: HubState, host: str, port: int, credentials_file: str | None) -> None:
    """Seed from the app database of the top-level ``--config`` and serve, with the app's own client ID."""
    from zaikio_ops.config import load_config
    from zaikio_ops.source import Source
    from zaikio_ops.standin.from_app import seed_from_app

    config = load_config((ctx.find_root().obj or {}).get("config_path"))
    secret = config.hub.client_secret
    if secret is None:
        if credentials_file is None:
            raise click.UsageError("Set ZAIKIO_CLIENT_SECRET (the secret the kit will use with this "
                                   "stand-in), or pass --credentials-file FILE to have one generated there.")
        secret = Secret(secrets.token_urlsafe(32))
    app = seed_from_app(state, Source(config), config, secret)
    if config.hub.client_secret is None:
        _write_credentials(Path(credentials_file), app.client_id, secret)
        click.echo(f"Generated a client secret for {app.client_id}; it is in {credentials_file} (mode 0600).")

    click.echo(json.dumps({
        "hub_url": f"http://{host}:{port}", "app_name": app.name, "client_id": app.client_id,
        "client_secret": "***", "redirect_uris": app.redirect_uris, "persons": len(state.persons),
        "organizations": len(state.organizations), "connections": len(state.connections),
    }, indent=2))
    if config.hub.url.rstrip("/") != f"http://{host}:{port}":
        click.echo(f"Note: [hub] url in {config.path} is {config.hub.url}; point it (or "
                   f"ZAIKIO_OPS_HUB_URL) at http://{host}:{port} to use this stand-in.")
    uvicorn.run(create_app(state), host=host, port=port, log_level="info", lifespan="off")


@click.group(name="hub")
def hub() -> None:
    """Work with the Zaikio Hub and its local stand-in."""


@hub.command(name="serve")
@click.option("--host", default=None, help="Interface to bind. Default 127.0.0.1.")
@click.option("--port", type=int, default=None, help="TCP port; 0 picks a free one. Default 8765.")
@click.option("--seed", "seed_path", type=click.Path(dir_okay=False), default=None,
              help="JSON seed with persons, organizations, memberships, apps and connections.")
@click.option("--from-app", is_flag=True,
              help="Seed persons, organizations and memberships from the app database of --config.")
@click.option("--standin-config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="TOML file with a [standin] table of these settings.")
@click.option("--fault-429", type=float, default=None, help="Share of API requests that get a 429 response (0-1).")
@click.option("--fault-5xx", type=float, default=None, help="Share of API requests that get a 5xx response (0-1).")
@click.option("--latency-ms", type=int, default=None, help="Milliseconds added to every API request.")
@click.option("--fault-seed", type=int, default=None, help="Seed of the fault RNG, for reproducible runs.")
@click.option("--app-name", default=None, help="Technical name of the demo app. Default demo_app.")
@click.option("--redirect-uri", "redirect_uris", multiple=True,
              help=f"Registered redirect URI of the demo app (repeatable). Default {DEFAULT_REDIRECT_URI}.")
@click.option("--credentials-file", type=click.Path(dir_okay=False), default=None,
              help="Where to write generated demo credentials (mode 0600) when the environment has none.")
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, seed_path: str | None, from_app: bool,
          config_path: str | None,
          fault_429: float | None, fault_5xx: float | None, latency_ms: int | None, fault_seed: int | None,
          app_name: str | None, redirect_uris: tuple[str, ...], credentials_file: str | None) -> None:
    """Run the stand-in Hub until interrupted (Ctrl-C)."""
    config = _read_config(config_path)
    host = _pick(host, config, "host", "127.0.0.1")
    port = int(_pick(port, config, "port", 8765))
    seed_path = _pick(seed_path, config, "seed", None)

    try:
        faults = FaultConfig(rate_429=float(_pick(fault_429, config, "fault_429", 0.0)),
                             rate_5xx=float(_pick(fault_5xx, config, "fault_5xx", 0.0)),
                             latency_ms=int(_pick(latency_ms, config, "latency_ms", 0)),
                             seed=_pick(fault_seed, config, "fault_seed", None))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None

    state = HubState(faults=faults)
    if seed_path:
        load_seed_file(seed_path, state)
    if from_app:
        _serve_app(ctx, state, host, port, credentials_file)
        return

    client_id, client_secret, generated = _demo_credentials(credentials_file)
    app = StandinApp(
        name=_pick(app_name, config, "app_name", "demo_app"), client_id=client_id, client_secret=client_secret,
        redirect_uris=list(_pick(redirect_uris, config, "redirect_uris", [DEFAULT_REDIRECT_URI])),
        desired_scopes=list(config.get("desired_scopes", DEFAULT_DESIRED_SCOPES)),
    )
    state.add_app(app)

    if generated:
        _write_credentials(Path(credentials_file), client_id, client_secret)
        click.echo(f"Generated demo credentials written to {credentials_file} (mode 0600).")

    click.echo(json.dumps({
        "hub_url": f"http://{host}:{port}" if port else "port 0: see the 'Uvicorn running on' line",
        "app_name": app.name,
        "client_id": client_id,
        "client_secret": "***",
        "redirect_uris": app.redirect_uris,
        "persons": len(state.persons),
        "organizations": len(state.organizations),
    }, indent=2))

    uvicorn.run(create_app(state), host=host, port=port, log_level="info", lifespan="off")
