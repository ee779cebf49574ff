"""Seeding the stand-in from the kit's canonical DataFrames and from JSON."""

from __future__ import annotations

import json
import uuid

import pandas as pd
import pytest

from zaikio_ops.errors import ConfigError
from zaikio_ops.standin import load_seed_file, seed_from_frames
from zaikio_ops.standin.seed import STANDIN_NAMESPACE

CLAIMED = "0c6a3f7e-6a55-4a8e-8d0e-5b2f7c9d1e01"


def _frames():
    persons = pd.DataFrame([
        {"person_id": 1, "email": "anna@example.com", "first_name": "Anna", "last_name": "Alt", "locale": "de_DE",
         "zaikio_person_id": None},
        {"person_id": 2, "email": "bob@example.com", "first_name": "Bob", "last_name": "Bau", "locale": "en_US",
         "zaikio_person_id": CLAIMED},
        {"person_id": 3, "email": "cem@example.com", "first_name": None, "last_name": "Cem", "locale": "fr",
         "zaikio_person_id": float("nan")},
    ])
    organizations = pd.DataFrame([{"organization_id": 10, "name": "Acme Print", "zaikio_organization_id": None}])
    memberships = pd.DataFrame([
        {"person_id": 1, "organization_id": 10, "role": "owner"},
        {"person_id": 2, "organization_id": 10, "role": "Manager"},
        {"person_id": 3, "organization_id": 10, "role": "admin"},
        {"person_id": 99, "organization_id": 10, "role": "owner"},
    ])
    return persons, organizations, memberships


def test_frames_unclaimed_get_uuid5():
    state = seed_from_frames(*_frames())
    expected = str(uuid.uuid5(STANDIN_NAMESPACE, "person:1"))

    assert state.persons[expected].email == "anna@example.com"


def test_frames_uuid5_deterministic():
    first = seed_from_frames(*_frames())
    second = seed_from_frames(*_frames())

    assert sorted(first.persons) == sorted(second.persons)
    assert sorted(first.organizations) == sorted(second.organizations)


def test_frames_claimed_id_kept():
    state = seed_from_frames(*_frames())

    assert state.persons[CLAIMED].email == "bob@example.com"


def test_frames_default_role_map():
    state = seed_from_frames(*_frames())
    org_id = str(uuid.uuid5(STANDIN_NAMESPACE, "organization:10"))
    roles = {state.persons[m.person_id].email: m.roles for m in state.memberships_of_organization(org_id)}

    assert roles == {"anna@example.com": ["owner"], "bob@example.com": ["member"], "cem@example.com": ["admin"]}


def test_frames_custom_role_map():
    state = seed_from_frames(*_frames(), role_map={"manager": "admin"})

    assert state.membership_of(CLAIMED, str(uuid.uuid5(STANDIN_NAMESPACE, "organization:10"))).roles == ["admin"]


def test_frames_locale_mapped():
    state = seed_from_frames(*_frames())
    locales = {p.email: p.locale for p in state.persons.values()}

    assert locales == {"anna@example.com": "de", "bob@example.com": "en-US", "cem@example.com": "en"}


def test_frames_dangling_membership_skipped(caplog):
    state = seed_from_frames(*_frames())

    assert len(state.memberships) == 3
    assert "Skipped 1 membership" in caplog.text


def test_seed_file_missing_key(tmp_path):
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({"persons": [{"email": "x@example.com"}]}))

    with pytest.raises(ConfigError, match="'id'"):
        load_seed_file(path)


def test_seed_file_not_found(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_seed_file(tmp_path / "absent.json")
