"""`keycloak-duo-bridge keys generate`: production secrets the bridge accepts as printed."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from keycloak_duo_bridge import keygen
from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import key_ring, load_settings, signing_key


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No KDB_ variable from outside, and an empty working directory for a .env file."""
    for name in keygen.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_env_file_output_loads_back_through_settings(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The printed env file, saved as .env, gives the bridge a signing key, a key ring and a
    cookie secret that parse, with every value unchanged."""
    assert main(["keys", "generate", "--key-id", "kek1"]) == 0
    out = capsys.readouterr().out
    (clean_env / ".env").write_text(out, encoding="utf-8")
    settings = load_settings()
    assert signing_key(settings).kid
    assert key_ring(settings).active == "kek1"
    assert settings.bridge_cookie_secret is not None
    assert settings.metrics_token is not None
    keygen.check(
        {
            "KDB_BRIDGE_SIGNING_KEY": signing_key(settings).to_pem(),
            "KDB_BRIDGE_COOKIE_SECRET": settings.bridge_cookie_secret.get_secret_value(),
            "KDB_KEYRING": settings.keyring.get_secret_value() if settings.keyring else "",
            "KDB_ACTIVE_KEY_ID": "kek1",
            "KDB_METRICS_TOKEN": settings.metrics_token.get_secret_value(),
        }
    )


def test_json_output_has_every_variable(
    clean_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--json prints one object with the five variables, which check() accepts."""
    assert main(["keys", "generate", "--json"]) == 0
    values = json.loads(capsys.readouterr().out)
    assert set(values) == set(keygen.VARIABLES)
    keygen.check(values)
    assert values["KDB_ACTIVE_KEY_ID"] in json.loads(values["KDB_KEYRING"])


def test_each_run_makes_new_secrets() -> None:
    """Two runs share no secret value."""
    first, second = keygen.generate("k1"), keygen.generate("k1")
    assert all(first[n] != second[n] for n in keygen.VARIABLES if n != "KDB_ACTIVE_KEY_ID")


def test_default_key_id_names_the_day() -> None:
    """Without --key-id the envelope key is named after today's UTC date."""
    assert keygen.default_key_id(datetime(2027, 3, 4, tzinfo=UTC)) == "k20270304"
    assert keygen.default_key_id().startswith("k20")


def test_a_bad_key_id_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """A key id the key ring would refuse is a one-line error, exit 1, nothing on stdout."""
    assert main(["keys", "generate", "--key-id", "no spaces"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: key id 'no spaces' must match")


def test_check_refuses_missing_and_malformed_values() -> None:
    """check() names what is missing, and refuses a value the bridge would refuse."""
    values = keygen.generate("k1")
    with pytest.raises(ConfigError, match="missing: KDB_BRIDGE_COOKIE_SECRET"):
        keygen.check({**values, "KDB_BRIDGE_COOKIE_SECRET": ""})
    with pytest.raises(ConfigError, match="KDB_BRIDGE_COOKIE_SECRET: must be 32 bytes"):
        keygen.check({**values, "KDB_BRIDGE_COOKIE_SECRET": "c2hvcnQ="})
    with pytest.raises(ConfigError, match="KDB_BRIDGE_SIGNING_KEY"):
        keygen.check({**values, "KDB_BRIDGE_SIGNING_KEY": "not a key"})


def test_nothing_is_logged(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """The secrets go to stdout only: no log record and nothing on stderr."""
    with caplog.at_level(logging.DEBUG):
        assert main(["keys", "generate"]) == 0
    assert caplog.records == []
    assert capsys.readouterr().err == ""
