"""Structured JSON logs, and `keycloak-duo-bridge serve` wiring uvicorn."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from keycloak_duo_bridge import logs
from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.sandbox import secrets


def test_json_lines_with_fields(capsys: pytest.CaptureFixture[str]) -> None:
    """configure() writes one JSON object per event, with the event's fields."""
    logs.configure()
    logger = logging.getLogger("keycloak_duo_bridge.test")
    logs.event(logger, "step-up verdict", realm="acme", result="allow")
    logging.getLogger("keycloak_duo_bridge.test").info("plain")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["event"] == "step-up verdict"
    assert (lines[0]["realm"], lines[0]["result"], lines[0]["level"]) == ("acme", "allow", "info")
    assert lines[1]["event"] == "plain"
    logging.getLogger("keycloak_duo_bridge").handlers.clear()
    logging.getLogger("keycloak_duo_bridge").propagate = True


def test_serve_runs_uvicorn_without_access_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """serve validates settings, then runs uvicorn on the given address, access log off; an
    unset KDB_BRIDGE_URL follows that address, and serve says so."""
    for name, value in secrets.ensure(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("KDB_BRIDGE_URL", raising=False)
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(kw, app=app))
    assert main(["serve", "--host", "127.0.0.2", "--port", "8123"]) == 0
    assert (seen["host"], seen["port"], seen["access_log"]) == ("127.0.0.2", 8123, False)
    assert "KDB_BRIDGE_URL is not set; using http://127.0.0.2:8123" in capsys.readouterr().err
    logging.getLogger("keycloak_duo_bridge").handlers.clear()
    logging.getLogger("keycloak_duo_bridge").propagate = True


def test_serve_refuses_missing_keys(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without its keys the bridge does not start; the error names the variable."""
    monkeypatch.delenv("KDB_BRIDGE_COOKIE_SECRET", raising=False)
    assert main(["serve"]) == 1
    assert "KDB_BRIDGE_COOKIE_SECRET must be set" in capsys.readouterr().err
