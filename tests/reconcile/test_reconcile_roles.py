"""Role mapping and the [roles] / [reconcile] configuration tables."""

from __future__ import annotations

import pytest

from reconcile_world import make_config
from zaikio_ops.config import ReconcileSettings, RoleSettings
from zaikio_ops.errors import ConfigError
from zaikio_ops.reconcile import target_role

DEFAULT = RoleSettings()


def test_target_role_single() -> None:
    assert target_role(["admin"], DEFAULT) == "admin"


def test_target_role_priority_wins() -> None:
    assert target_role(["member", "owner", "admin"], DEFAULT) == "owner"


def test_target_role_unmapped_uses_default() -> None:
    assert target_role(["purchaser", "designer"], DEFAULT) == "member"


def test_target_role_no_roles_uses_default() -> None:
    assert target_role([], DEFAULT) == "member"


def test_target_role_skips_unmapped_higher_role() -> None:
    settings = RoleSettings(map={"purchaser": "buyer", "member": "user"}, default="guest",
                            priority=("owner", "purchaser", "member"))

    assert target_role(["member", "purchaser", "owner"], settings) == "buyer"


def test_target_role_unlisted_roles_after_listed() -> None:
    settings = RoleSettings(map={"designer": "design", "member": "user"}, default="guest", priority=("member",))

    assert target_role(["designer", "member"], settings) == "user"
    assert target_role(["designer", "developer"], settings) == "design"


def test_config_roles_section() -> None:
    config = make_config("sqlite://", "http://127.0.0.1:1", "out",
                         roles={"map": {"owner": "manager", "admin": "manager"}, "default": "staff",
                                "priority": ["admin", "owner"]})

    assert config.roles == RoleSettings(map={"owner": "manager", "admin": "manager"}, default="staff",
                                        priority=("admin", "owner"))


def test_config_roles_default() -> None:
    config = make_config("sqlite://", "http://127.0.0.1:1", "out")

    assert config.roles.map == {"owner": "owner", "admin": "admin", "member": "member"}
    assert config.roles.default == "member"
    assert config.roles.priority[:3] == ("owner", "admin", "member")


def test_config_roles_bad_value() -> None:
    with pytest.raises(ConfigError, match=r"roles\.map\.owner.*local role name"):
        make_config("sqlite://", "http://127.0.0.1:1", "out", roles={"map": {"owner": 3}})


def test_config_reconcile_section() -> None:
    config = make_config("sqlite://", "http://127.0.0.1:1", "out",
                         reconcile={"table": "members", "role_column": "kind", "policy": "full", "concurrency": 8})

    assert config.reconcile == ReconcileSettings(table="members", role_column="kind", policy="full", concurrency=8)


def test_config_reconcile_bad_policy() -> None:
    with pytest.raises(ConfigError, match="reconcile.policy.*report, add_update, full"):
        make_config("sqlite://", "http://127.0.0.1:1", "out", reconcile={"policy": "everything"})


def test_config_reconcile_unknown_key() -> None:
    with pytest.raises(ConfigError, match="Did you mean 'role_column'"):
        make_config("sqlite://", "http://127.0.0.1:1", "out", reconcile={"role_colum": "kind"})
