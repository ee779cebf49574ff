"""Zaikio scope grammar: ``[Org|Per[/<uuid>].]app.scope.(r|w|rw)``, comma-separated.

The Hub app was called ``directory`` until 2023, so ``directory.person.r`` and
``zaikio.person.r`` name the same scope; the stand-in accepts both and emits
``zaikio.``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ScopeProblem", "RequestedScope", "normalize_scope", "parse_scopes", "scope_covered", "HUB_APP"]

HUB_APP = "zaikio"
_LEGACY_HUB_APP = "directory"

_SCOPE_RE = re.compile(
    r"^(?:(?P<kind>Org|Per)(?:/(?P<bearer_id>[A-Za-z0-9-]+))?\.)?"
    r"(?P<app>[a-z][a-z0-9_]{2,})\.(?P<name>[a-z][a-z_]{2,})\.(?P<permission>rw|r|w)$"
)

# Hub scopes that exist for one bearer kind only; others fail with unavailable_scope_for_bearer_type.
_BEARER_ONLY = {
    "zaikio.person": "Per",
    "zaikio.organizations": "Per",
    "zaikio.organization": "Org",
    "zaikio.organization_members": "Org",
    "zaikio.connections_and_subscriptions": "Org",
}


class ScopeProblem(Exception):
    """A scope string breaks a rule; ``error_id`` is the Hub's scope error id."""

    def __init__(self, error_id: str) -> None:
        super().__init__(error_id)
        self.error_id = error_id


@dataclass(frozen=True)
class RequestedScope:
    """One parsed scope: bearer kind (``Per`` or ``Org``), optional bearer id, plain scope."""

    kind: str
    bearer_id: str | None
    plain: str

    @property
    def resource(self) -> str:
        """The scope without its permission, e.g. ``zaikio.person``."""
        return self.plain.rsplit(".", 1)[0]


def normalize_scope(plain: str) -> str:
    """Rewrite a ``directory.`` scope to its ``zaikio.`` name; other scopes pass unchanged."""
    prefix = _LEGACY_HUB_APP + "."
    return HUB_APP + "." + plain[len(prefix):] if plain.startswith(prefix) else plain


def parse_scopes(value: str | None) -> list[RequestedScope]:
    """Parse a comma- or space-separated scope list.

    Raises
    ------
    ScopeProblem
        ``malformed_scope``, ``different_bearer_types``, ``different_bearer_ids``
        or ``unavailable_scope_for_bearer_type``.
    """
    parts = [p for p in (value or "").replace(" ", ",").split(",") if p]
    if not parts:
        raise ScopeProblem("malformed_scope")

    scopes = []
    for part in parts:
        match = _SCOPE_RE.match(part)
        if match is None:
            raise ScopeProblem("malformed_scope")

        plain = normalize_scope(f"{match['app']}.{match['name']}.{match['permission']}")
        scopes.append(RequestedScope(match["kind"] or "Per", match["bearer_id"], plain))

    if len({s.kind for s in scopes}) > 1:
        raise ScopeProblem("different_bearer_types")
    if len({s.bearer_id for s in scopes}) > 1:
        raise ScopeProblem("different_bearer_ids")

    for scope in scopes:
        only = _BEARER_ONLY.get(scope.resource)
        if only is not None and only != scope.kind:
            raise ScopeProblem("unavailable_scope_for_bearer_type")
    return scopes


def scope_covered(granted: set[str] | list[str], required: str) -> bool:
    """Return True when ``granted`` includes ``required`` or its ``rw`` form."""
    required = normalize_scope(required)
    normalized = {normalize_scope(s) for s in granted}
    if required in normalized:
        return True

    resource, permission = required.rsplit(".", 1)
    return permission in ("r", "w") and f"{resource}.rw" in normalized
