"""Settings: one TOML file plus environment variables for secrets.

The TOML file (``zaikio_ops.toml`` by default) maps the app's own schema onto the
kit's canonical names and sets the non-secret options. Connection strings and
secrets come from the environment so that they never land in a committed file
or a notebook parameter:

``ZAIKIO_OPS_DATABASE_URL``
    SQLAlchemy URL of the app's database; overrides ``[database] url``.
``ZAIKIO_CLIENT_ID`` / ``ZAIKIO_CLIENT_SECRET``
    OAuth credentials of the app at Zaikio; the ID may also be set in ``[hub]``.
``ZAIKIO_OPS_HUB_URL``
    Base URL of the Zaikio Hub; overrides ``[hub] url``.

Every validation error names the file, the key, the bad value and what is
expected, and is raised as :class:`~zaikio_ops.errors.ConfigError`.
"""

from __future__ import annotations

import difflib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from zaikio_ops.errors import ConfigError
from zaikio_ops.secret import Secret

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DEFAULT_CONFIG_NAME = "zaikio_ops.toml"
CALLBACK_PATH = "/claims/callback"  # the claim service's OAuth callback route

PERSON_COLUMNS = (
    "person_id", "email", "first_name", "last_name", "locale",
    "active", "last_login_at", "zaikio_person_id",
)
ORGANIZATION_COLUMNS = ("organization_id", "name", "zaikio_organization_id")
MEMBERSHIP_COLUMNS = ("person_id", "organization_id", "role")

# Columns a mapping must provide; the others read as NULL (``active`` as true) when unmapped.
REQUIRED_COLUMNS = {
    "persons": ("person_id", "email"),
    "organizations": ("organization_id", "name"),
    "memberships": ("person_id", "organization_id", "role"),
}
CANONICAL_COLUMNS = {
    "persons": PERSON_COLUMNS,
    "organizations": ORGANIZATION_COLUMNS,
    "memberships": MEMBERSHIP_COLUMNS,
}

TOP_LEVEL_KEYS = ("database", "hub", "schema", "audit", "export", "output", "claims", "roles",
                  "reconcile")

# Hub role ids in the Hub's own order (GET /api/v1/roles); the default priority of [roles].
HUB_ROLE_ORDER = ("owner", "admin", "member", "purchaser", "production_planner",
                  "customer_service_representative", "sales_representative", "designer", "developer")
RECONCILE_POLICIES = ("report", "add_update", "full")


@dataclass(frozen=True)
class EntityMapping:
    """The source of one canonical entity (persons, organizations or memberships).

    Either ``table`` with ``columns`` (canonical name to the app's column name)
    or ``query``, a SELECT whose result has the canonical column names. A query
    mapping may still name ``table`` and ``columns`` for the columns the kit
    writes (the Zaikio UUID), because a SELECT cannot be written to.
    """

    entity: str
    table: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    query: str | None = None
    where: str | None = None
    active_values: tuple[Any, ...] | None = None

    @property
    def key(self) -> str:
        """The TOML key of this mapping, for messages."""
        return f"schema.{self.entity}"


@dataclass(frozen=True)
class ExportSettings:
    """CSV export options for support teams."""

    delimiter: str = ","
    bom: bool = False


@dataclass(frozen=True)
class HubSettings:
    """The Zaikio Hub location and the app credentials the kit uses."""

    url: str = "http://127.0.0.1:8765"
    client_id: str | None = None
    client_secret: Secret | None = None
    app_name: str | None = None
    redirect_uri: str | None = None


@dataclass(frozen=True)
class ClaimSettings:
    """Claim link settings: link style, lifetime, claim service URL and batch size.

    ``link_style`` ``hub`` puts the claim token into the Zaikio authorize URL as
    ``state`` (Zaikio's documented way). ``app`` links to the kit's claim
    endpoint at ``base_url``, which starts the OAuth flow with a fresh state, so
    the token never reaches Zaikio and a mail scanner opening the link uses
    nothing up.
    """

    link_style: str = "app"
    expiry_days: int = 7
    # Defaults to [hub] redirect_uri without its /claims/callback path, where it has one.
    base_url: str = "http://127.0.0.1:8766"
    batch_size: int = 500


@dataclass(frozen=True)
class RoleSettings:
    """How Zaikio role ids become one local role (the ``[roles]`` table).

    ``map`` sends a Zaikio role id to a local role name. A person who holds
    several Zaikio roles gets the local role of the first held role in
    ``priority`` that ``map`` names; held roles missing from ``priority`` come
    after the listed ones, in the order the Hub sent them. A person none of whose
    roles is mapped gets ``default``.
    """

    map: Mapping[str, str] = field(default_factory=lambda: {
        "owner": "owner", "admin": "admin", "member": "member"})
    default: str = "member"
    priority: tuple[str, ...] = HUB_ROLE_ORDER


@dataclass(frozen=True)
class ReconcileSettings:
    """Membership reconciliation settings: write target, policy and concurrency (``[reconcile]``).

    The write target defaults to the ``[schema.memberships]`` table and its
    column names. A query mapping needs ``table`` and the three columns here,
    because a SELECT cannot be written to. ``None`` means "take it from the
    memberships mapping".
    """

    table: str | None = None
    person_column: str | None = None
    organization_column: str | None = None
    role_column: str | None = None
    policy: str = "report"
    concurrency: int = 4


@dataclass(frozen=True)
class Config:
    """The validated configuration of one zaikio-ops installation."""

    path: Path | None
    database_url: str
    persons: EntityMapping
    organizations: EntityMapping
    memberships: EntityMapping
    hub: HubSettings = field(default_factory=HubSettings)
    export: ExportSettings = field(default_factory=ExportSettings)
    output_dir: Path = Path("out")
    owner_roles: tuple[str, ...] = ("owner",)
    inactive_login_days: int = 365
    claims: ClaimSettings = field(default_factory=ClaimSettings)
    roles: RoleSettings = field(default_factory=RoleSettings)
    reconcile: ReconcileSettings = field(default_factory=ReconcileSettings)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def mapping(self, entity: str) -> EntityMapping:
        """Return the mapping of ``entity`` (``persons``, ``organizations`` or ``memberships``)."""
        return {"persons": self.persons, "organizations": self.organizations,
                "memberships": self.memberships}[entity]

    def where(self, key: str) -> str:
        """Describe where a key lives, for error messages: ``zaikio_ops.toml: schema.persons``."""
        return f"{self.path}: {key}" if self.path else key


def load_config(path: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate a configuration file.

    Parameters
    ----------
    path : path-like, optional
        The TOML file. Defaults to ``$ZAIKIO_OPS_CONFIG`` or ``zaikio_ops.toml``
        in the working directory.
    environ : mapping, optional
        Environment to read secrets and overrides from; defaults to ``os.environ``.

    Returns
    -------
    Config

    Raises
    ------
    ConfigError
        When the file is missing or not valid TOML, or a key is invalid.
    """
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("ZAIKIO_OPS_CONFIG") or DEFAULT_CONFIG_NAME)
    data = _read_toml(path)
    return config_from_dict(data, path=path, environ=environ)


def config_from_dict(data: Mapping[str, Any], path: Path | None = None,
                     environ: Mapping[str, str] | None = None) -> Config:
    """Validate an already parsed configuration (the TOML file's content as a dict)."""
    environ = os.environ if environ is None else environ
    where = _Where(path)
    _check_keys(data, TOP_LEVEL_KEYS, "", where)

    database_url = _database_url(data, environ, where)
    schema = _table(data, "schema", where, required=True)
    _check_keys(schema, tuple(CANONICAL_COLUMNS), "schema", where)
    mappings = {entity: _entity_mapping(schema, entity, where) for entity in CANONICAL_COLUMNS}

    audit = _table(data, "audit", where)
    _check_keys(audit, ("owner_roles", "inactive_login_days"), "audit", where)
    owner_roles = _string_list(audit, "owner_roles", "audit", where, default=["owner"])
    inactive_days = _integer(audit, "inactive_login_days", "audit", where, default=365, minimum=1)

    return Config(
        path=path,
        database_url=database_url,
        hub=_hub_settings(data, environ, where),
        export=_export_settings(data, where),
        output_dir=Path(_string(_table(data, "output", where), "dir", "output", where) or "out"),
        owner_roles=tuple(owner_roles),
        inactive_login_days=inactive_days,
        claims=_claim_settings(data, where),
        roles=_role_settings(data, where),
        reconcile=_reconcile_settings(data, where),
        raw=dict(data),
        **mappings,
    )


class _Where:
    """Formats the location of a key for error messages."""

    def __init__(self, path: Path | None) -> None:
        self.path = path

    def __call__(self, key: str) -> str:
        return f"{self.path}: '{key}'" if self.path else f"'{key}'"


def _read_toml(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ConfigError(
            f"Configuration file {path} not found. Pass --config FILE, set ZAIKIO_OPS_CONFIG, "
            f"or run 'zaikio-ops demo' to try the kit on a demo database."
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 (invalid byte at position {exc.start}). "
                          f"Save the file as UTF-8.") from None
    except OSError as exc:
        raise ConfigError(f"Could not read {path}: {exc.strerror}.") from None
    if text.startswith("\ufeff"):
        raise ConfigError(f"{path} starts with a byte order mark, which TOML does not allow. "
                          f"Save it as UTF-8 without BOM.")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}. Fix the syntax at that line.") from None


def _check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], prefix: str, where: _Where) -> None:
    for key in table:
        if key in allowed:
            continue
        full = f"{prefix}.{key}" if prefix else key
        hint = difflib.get_close_matches(key, allowed, n=1)
        suggestion = f" Did you mean '{hint[0]}'?" if hint else f" Expected one of: {', '.join(allowed)}."
        raise ConfigError(f"{where(full)}: unknown key.{suggestion}")


def _table(data: Mapping[str, Any], key: str, where: _Where, required: bool = False,
           prefix: str = "") -> Mapping[str, Any]:
    full = f"{prefix}.{key}" if prefix else key
    value = data.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where(full)}: missing table. Add a [{full}] section.")
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where(full)}: expected a table, got {value!r}.")
    return value


def _string(table: Mapping[str, Any], key: str, prefix: str, where: _Where,
            default: str | None = None) -> str | None:
    value = table.get(key, default)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(f"{where(prefix + '.' + key)}: expected a non-empty string, got {value!r}.")
    return value


def _string_list(table: Mapping[str, Any], key: str, prefix: str, where: _Where,
                 default: list[str]) -> list[str]:
    value = table.get(key, default)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(
            f"{where(prefix + '.' + key)}: expected a non-empty list of strings, got {value!r}."
        )
    return value


def _integer(table: Mapping[str, Any], key: str, prefix: str, where: _Where,
             default: int, minimum: int) -> int:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"{where(prefix + '.' + key)}: expected a whole number >= {minimum}, got {value!r}."
        )
    return value


def _database_url(data: Mapping[str, Any], environ: Mapping[str, str], where: _Where) -> str:
    database = _table(data, "database", where)
    _check_keys(database, ("url",), "database", where)
    url = environ.get("ZAIKIO_OPS_DATABASE_URL") or _string(database, "url", "database", where)
    if not url:
        raise ConfigError(
            f"{where('database.url')}: missing. Set ZAIKIO_OPS_DATABASE_URL to a SQLAlchemy URL "
            f"such as postgresql+psycopg://user@host/db (keep passwords out of the file)."
        )
    return url


def _hub_settings(data: Mapping[str, Any], environ: Mapping[str, str], where: _Where) -> HubSettings:
    hub = _table(data, "hub", where)
    keys = ("url", "client_id", "app_name", "redirect_uri", "client_secret")
    _check_keys(hub, keys, "hub", where)
    if "client_secret" in hub:
        raise ConfigError(
            f"{where('hub.client_secret')}: secrets do not belong in the configuration file. "
            f"Remove the key and set ZAIKIO_CLIENT_SECRET in the environment."
        )
    secret = environ.get("ZAIKIO_CLIENT_SECRET")
    return HubSettings(
        url=(environ.get("ZAIKIO_OPS_HUB_URL") or _string(hub, "url", "hub", where)
             or HubSettings.url).rstrip("/"),
        client_id=environ.get("ZAIKIO_CLIENT_ID") or _string(hub, "client_id", "hub", where),
        client_secret=Secret(secret) if secret else None,
        app_name=_string(hub, "app_name", "hub", where),
        redirect_uri=_string(hub, "redirect_uri", "hub", where),
    )


def _export_settings(data: Mapping[str, Any], where: _Where) -> ExportSettings:
    export = _table(data, "export", where)
    _check_keys(export, ("delimiter", "bom"), "export", where)
    delimiter = export.get("delimiter", ",")
    if delimiter not in (",", ";"):
        raise ConfigError(f"{where('export.delimiter')}: expected \",\" or \";\", got {delimiter!r}.")
    bom = export.get("bom", False)
    if not isinstance(bom, bool):
        raise ConfigError(f"{where('export.bom')}: expected true or false, got {bom!r}.")
    return ExportSettings(delimiter=delimiter, bom=bom)


def _claim_service_url(data: Mapping[str, Any]) -> str:
    """Return the claim service's base URL implied by ``[hub] redirect_uri``, else the local default."""
    redirect_uri = (data.get("hub") or {}).get("redirect_uri")
    if isinstance(redirect_uri, str) and redirect_uri.endswith(CALLBACK_PATH):
        return redirect_uri[: -len(CALLBACK_PATH)]
    return ClaimSettings.base_url


def _claim_settings(data: Mapping[str, Any], where: _Where) -> ClaimSettings:
    claims = _table(data, "claims", where)
    _check_keys(claims, ("link_style", "expiry_days", "base_url", "batch_size"), "claims", where)
    style = claims.get("link_style", ClaimSettings.link_style)
    if style not in ("hub", "app"):
        raise ConfigError(f"{where('claims.link_style')}: expected \"hub\" or \"app\", got {style!r}.")
    base_url = _string(claims, "base_url", "claims", where, default=_claim_service_url(data))
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"{where('claims.base_url')}: expected an http(s) URL, got {base_url!r}.")
    return ClaimSettings(
        link_style=style,
        expiry_days=_integer(claims, "expiry_days", "claims", where, default=7, minimum=1),
        base_url=base_url.rstrip("/"),
        batch_size=_integer(claims, "batch_size", "claims", where, default=500, minimum=1),
    )


def _role_settings(data: Mapping[str, Any], where: _Where) -> RoleSettings:
    roles = _table(data, "roles", where)
    _check_keys(roles, ("map", "default", "priority"), "roles", where)
    mapping = _table(roles, "map", where, prefix="roles") if "map" in roles else RoleSettings().map
    for zaikio_role, local_role in mapping.items():
        if not isinstance(local_role, str) or not local_role.strip():
            raise ConfigError(
                f"{where('roles.map.' + zaikio_role)}: expected the local role name for Zaikio role "
                f"{zaikio_role!r}, got {local_role!r}."
            )
    default = _string(roles, "default", "roles", where, default=RoleSettings.default)
    priority = _string_list(roles, "priority", "roles", where, default=list(HUB_ROLE_ORDER))
    return RoleSettings(map=dict(mapping), default=default, priority=tuple(priority))


def _reconcile_settings(data: Mapping[str, Any], where: _Where) -> ReconcileSettings:
    reconcile = _table(data, "reconcile", where)
    columns = ("table", "person_column", "organization_column", "role_column")
    _check_keys(reconcile, (*columns, "policy", "concurrency"), "reconcile", where)
    policy = reconcile.get("policy", ReconcileSettings.policy)
    if policy not in RECONCILE_POLICIES:
        raise ConfigError(
            f"{where('reconcile.policy')}: expected one of {', '.join(RECONCILE_POLICIES)}, got {policy!r}."
        )
    return ReconcileSettings(
        **{name: _string(reconcile, name, "reconcile", where) for name in columns},
        policy=policy,
        concurrency=_integer(reconcile, "concurrency", "reconcile", where, default=4, minimum=1),
    )


def _entity_mapping(schema: Mapping[str, Any], entity: str, where: _Where) -> EntityMapping:
    prefix = f"schema.{entity}"
    table = _table(schema, entity, where, required=True, prefix="schema")
    _check_keys(table, ("table", "columns", "query", "where", "active_values"), prefix, where)

    name = _string(table, "table", prefix, where)
    query = _string(table, "query", prefix, where)
    if not name and not query:
        raise ConfigError(
            f"{where(prefix)}: needs either 'table' (with 'columns') or 'query' "
            f"(a SELECT returning {', '.join(CANONICAL_COLUMNS[entity])})."
        )
    if query and not query.lstrip().lower().startswith(("select", "with")):
        raise ConfigError(f"{where(prefix + '.query')}: expected a SELECT statement, got {query[:60]!r}.")

    columns = _columns(table, entity, prefix, where, query_mode=bool(query))
    active_values = table.get("active_values")
    if active_values is not None and (not isinstance(active_values, list) or not active_values):
        raise ConfigError(
            f"{where(prefix + '.active_values')}: expected a non-empty list of the values "
            f"that mean 'active', got {active_values!r}."
        )
    return EntityMapping(
        entity=entity, table=name, columns=columns, query=query,
        where=_string(table, "where", prefix, where),
        active_values=tuple(active_values) if active_values else None,
    )


def _columns(table: Mapping[str, Any], entity: str, prefix: str, where: _Where,
             query_mode: bool) -> dict[str, str]:
    columns = _table(table, "columns", where, prefix=prefix)
    _check_keys(columns, CANONICAL_COLUMNS[entity], prefix + ".columns", where)
    for key, value in columns.items():
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(
                f"{where(prefix + '.columns.' + key)}: expected the app's column name, got {value!r}."
            )
    if not query_mode:
        missing = [c for c in REQUIRED_COLUMNS[entity] if c not in columns]
        if missing:
            raise ConfigError(
                f"{where(prefix + '.columns')}: missing {', '.join(missing)}. Map each to the "
                f"app's column name, e.g. {missing[0]} = \"id\"."
            )
    return dict(columns)
