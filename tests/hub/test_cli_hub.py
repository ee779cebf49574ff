"""``hub serve``: credentials handling and state assembly (uvicorn.run replaced by a recorder)."""

from __future__ import annotations

import json
import stat

import pytest
from click.testing import CliRunner

from zaikio_ops import cli_hub


@pytest.fixture
def served(monkeypatch):
    calls = []
    monkeypatch.setattr(cli_hub.uvicorn, "run", lambda app, **kwargs: calls.append((app, kwargs)))
    monkeypatch.delenv("ZAIKIO_CLIENT_ID", raising=False)
    monkeypatch.delenv("ZAIKIO_CLIENT_SECRET", raising=False)
    return calls


def test_serve_needs_credentials_source(served):
    result = CliRunner().invoke(cli_hub.hub, ["serve"])

    assert result.exit_code == 2
    assert "--credentials-file" in result.output
    assert served == []


def test_serve_writes_generated_secret_0600(served, tmp_path):
    target = tmp_path / "creds.env"
    result = CliRunner().invoke(cli_hub.hub, ["serve", "--port", "0", "--credentials-file", str(target)])
    values = dict(line.split("=", 1) for line in target.read_text().splitlines())

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert values["ZAIKIO_CLIENT_SECRET"] not in result.output
    assert values["ZAIKIO_CLIENT_ID"] in result.output


def test_serve_env_credentials_and_faults(served, monkeypatch, tmp_path):
    monkeypatch.setenv("ZAIKIO_CLIENT_ID", "env-client")
    monkeypatch.setenv("ZAIKIO_CLIENT_SECRET", "env-secret-value")
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"persons": [{"id": "p-1", "email": "a@example.com", "name": "A"}]}))

    result = CliRunner().invoke(cli_hub.hub, ["serve", "--seed", str(seed), "--fault-429", "0.3",
                                              "--fault-5xx", "0.1", "--latency-ms", "5", "--port", "9999"])
    app, kwargs = served[0]
    state = app.state.hub

    assert result.exit_code == 0, result.output
    assert "env-secret-value" not in result.output
    assert kwargs["port"] == 9999
    assert state.app_by_client_id("env-client") is not None
    assert state.faults.config.rate_429 == 0.3
    assert state.faults.config.latency_ms == 5
    assert "p-1" in state.persons


def test_serve_reads_config_table(served, monkeypatch, tmp_path):
    monkeypatch.setenv("ZAIKIO_CLIENT_ID", "env-client")
    monkeypatch.setenv("ZAIKIO_CLIENT_SECRET", "env-secret-value")
    config = tmp_path / "kit.toml"
    config.write_text('[standin]\nport = 7001\nfault_5xx = 0.2\nredirect_uris = ["http://127.0.0.1:5000/cb"]\n')

    result = CliRunner().invoke(cli_hub.hub, ["serve", "--standin-config", str(config)])
    app, kwargs = served[0]

    assert result.exit_code == 0, result.output
    assert kwargs["port"] == 7001
    assert app.state.hub.faults.config.rate_5xx == 0.2
    assert app.state.hub.app_by_client_id("env-client").redirect_uris == ["http://127.0.0.1:5000/cb"]


def test_serve_rejects_bad_rates(served, tmp_path):
    result = CliRunner().invoke(cli_hub.hub, ["serve", "--fault-429", "0.9", "--fault-5xx", "0.5",
                                              "--credentials-file", str(tmp_path / "c.env")])

    assert result.exit_code == 2
    assert "at most 1.0" in result.output
