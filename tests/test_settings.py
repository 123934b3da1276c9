"""Settings come from KDB_* variables and .env; bad values fail naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import (
    default_cache_dir,
    default_state_dir,
    defaulted_address,
    load_settings,
)


def test_defaults() -> None:
    """Without configuration, the sandbox targets Keycloak 26.7.3 on the usual ports."""
    settings = load_settings()
    assert settings.keycloak_version == "26.7.3"
    assert (settings.sandbox_http_port, settings.sandbox_management_port) == (8080, 9000)
    assert settings.maven_repository == "https://repo1.maven.org/maven2"


def test_environment_variables_use_the_kdb_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """KDB_<FIELD> sets a field."""
    monkeypatch.setenv("KDB_SANDBOX_HTTP_PORT", "18080")
    monkeypatch.setenv("KDB_KEYCLOAK_URL", "http://kc.example:8080")
    settings = load_settings()
    assert settings.sandbox_http_port == 18080
    assert settings.keycloak_url == "http://kc.example:8080"


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A .env file in the working directory is read."""
    (tmp_path / ".env").write_text("KDB_SANDBOX_ADMIN_USERNAME=root\n")
    monkeypatch.chdir(tmp_path)
    assert load_settings().sandbox_admin_username == "root"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("KDB_SANDBOX_HTTP_PORT", "http"), ("KDB_SANDBOX_MANAGEMENT_PORT", "70000")],
)
def test_invalid_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    """An invalid value fails with a message that names the variable, not the value."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=rf"^invalid settings: {variable}: ") as caught:
        load_settings()
    assert value not in str(caught.value)
    assert caught.value.__cause__ is None


def test_secret_values_are_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords are SecretStr: neither repr nor str of the settings shows them."""
    monkeypatch.setenv("KDB_KEYCLOAK_ADMIN_PASSWORD", "hunter2-very-secret")
    settings = load_settings()
    assert "hunter2-very-secret" not in repr(settings)
    assert "hunter2-very-secret" not in str(settings)
    assert settings.keycloak_admin_password.get_secret_value() == "hunter2-very-secret"


def test_default_dirs_follow_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Cache and state dirs follow the XDG variables, else ~/.cache and ~/.local/state."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "s"))
    assert default_cache_dir() == tmp_path / "c" / "keycloak-duo-bridge"
    assert default_state_dir() == tmp_path / "s" / "keycloak-duo-bridge"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / ".cache" / "keycloak-duo-bridge"
    assert default_state_dir() == tmp_path / ".local" / "state" / "keycloak-duo-bridge"


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8100"),
        ("0.0.0.0", "http://127.0.0.1:8100"),  # noqa: S104 - a setting, not a bind
        ("::1", "http://[::1]:8100"),
        ("bridge.internal", "http://bridge.internal:8100"),
    ],
)
def test_bridge_url_follows_host_and_port_unless_given(
    host: str, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without KDB_BRIDGE_URL, the bridge URL is KDB_BRIDGE_HOST:KDB_BRIDGE_PORT; given, it wins."""
    monkeypatch.delenv("KDB_BRIDGE_URL", raising=False)
    monkeypatch.setenv("KDB_BRIDGE_HOST", host)
    monkeypatch.setenv("KDB_BRIDGE_PORT", "8100")
    settings = load_settings()
    assert settings.bridge_url == url
    assert defaulted_address(settings, "bridge_url") == (
        f"note: KDB_BRIDGE_URL is not set; using {url}"
        ' (for the sandbox: eval "$(keycloak-duo-bridge sandbox env)")'
    )
    monkeypatch.setenv("KDB_BRIDGE_URL", "https://bridge.example")
    given = load_settings()
    assert given.bridge_url == "https://bridge.example"
    assert defaulted_address(given, "bridge_url") is None
