"""Mapping Zaikio role ids onto one local role per person.

A Zaikio membership carries a list of role ids (``["admin", "purchaser"]``);
the app usually stores one role per membership. :func:`target_role` picks it
with the ``[roles]`` settings::

    [roles]
    map = { owner = "owner", admin = "admin", member = "member" }
    default = "member"
    priority = ["owner", "admin", "member"]

The first role the person holds, in ``priority`` order, that ``map`` names
decides the local role. Held roles that ``priority`` does not list are tried
after the listed ones, in the order the Hub sent them. When ``map`` names none
of the held roles (or the person holds none), the local role is ``default``.
"""

from __future__ import annotations

from collections.abc import Sequence

from zaikio_ops.config import RoleSettings


def target_role(zaikio_roles: Sequence[str], settings: RoleSettings) -> str:
    """Return the local role of a person who holds ``zaikio_roles`` at Zaikio.

    Parameters
    ----------
    zaikio_roles : sequence of str
        Hub role ids of one membership, as the Hub sent them.
    settings : RoleSettings
        The ``[roles]`` table of the configuration.

    Returns
    -------
    str
        The local role name.
    """
    for role in ordered_roles(zaikio_roles, settings.priority):
        if role in settings.map:
            return settings.map[role]
    return settings.default


def ordered_roles(zaikio_roles: Sequence[str], priority: Sequence[str]) -> list[str]:
    """Return the distinct held roles, those in ``priority`` first and in its order."""
    held = list(dict.fromkeys(zaikio_roles))
    ranked = [role for role in priority if role in held]
    return ranked + [role for role in held if role not in ranked]
