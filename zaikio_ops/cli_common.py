"""Helpers shared by the command modules."""

from __future__ import annotations

import functools

import click


def pass_config(function):
    """Decorate a click command so it receives the loaded configuration as first argument."""

    @click.pass_context
    @functools.wraps(function)
    def wrapper(ctx: click.Context, *args, **kwargs):
        from zaikio_ops.config import load_config

        return function(load_config(ctx.obj["config_path"]), *args, **kwargs)

    return wrapper
