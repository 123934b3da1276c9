"""Configuration, from ``KDB_*`` environment variables and an optional ``.env`` file.

One :class:`Settings` class holds everything. :func:`load_settings` turns pydantic's
validation errors into a :class:`~keycloak_duo_bridge.errors.ConfigError` whose message
names the environment variable at fault, so a bad value fails at start, not at first use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from keycloak_duo_bridge.envelope import KeyRing, decode_key
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.signing import SigningKey

ENV_PREFIX = "KDB_"
KEYCLOAK_VERSION = "26.7.3"

Port = Annotated[int, Field(ge=1, le=65535)]


def _xdg_dir(variable: str, fallback: str) -> Path:
    base = os.environ.get(variable) or str(Path.home() / fallback)
    return Path(base) / "keycloak-duo-bridge"


def default_cache_dir() -> Path:
    """Where downloads (the Keycloak distribution) are cached, outside any repository."""
    return _xdg_dir("XDG_CACHE_HOME", ".cache")


def default_state_dir() -> Path:
    """Where the sandbox keeps its running state: pid files, logs, the Keycloak home."""
    return _xdg_dir("XDG_STATE_HOME", ".local/state")


class Settings(BaseSettings):
    """Every setting of keycloak-duo-bridge. Environment variables are ``KDB_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    # The Keycloak that the admin service and the bridge talk to.
    keycloak_url: str = "http://127.0.0.1:8080"
    keycloak_admin_realm: str = "master"
    keycloak_admin_username: str = "admin"
    keycloak_admin_password: SecretStr = SecretStr("")
    # The admin service's own service account (client credentials) instead of a user's
    # password: a confidential client in the admin realm (docs/deploy.md lists its roles).
    keycloak_admin_client_id: str | None = None
    keycloak_admin_client_secret: SecretStr | None = None

    # The local sandbox.
    cache_dir: Path = Field(default_factory=default_cache_dir)
    state_dir: Path = Field(default_factory=default_state_dir)
    keycloak_version: str = KEYCLOAK_VERSION
    maven_repository: str = "https://repo1.maven.org/maven2"
    sandbox_host: str = "127.0.0.1"
    sandbox_http_port: Port = 8080
    sandbox_management_port: Port = 9000
    sandbox_admin_username: str = "admin"
    sandbox_admin_password: SecretStr = SecretStr("admin")
    sandbox_start_timeout: float = Field(default=300.0, gt=0)
    jvm_search_dirs: list[Path] = Field(default_factory=lambda: [Path("/usr/lib/jvm")])

    # Envelope encryption of the Duo skey: {"<key id>": "<base64 32-byte key>", ...}.
    keyring: SecretStr | None = None
    active_key_id: str | None = None

    # The admin service: realm templates (default: the bundled realm_templates/) and the CA
    # bundle to trust for Duo's API host during health checks (default: the system's).
    template_dir: Path | None = None
    duo_ca_file: Path | None = None

    # The bridge (step-up endpoint). Unset, the URL is http://KDB_BRIDGE_HOST:KDB_BRIDGE_PORT
    # (127.0.0.1 for a wildcard host), so a moved port moves what realms are wired to.
    bridge_url: str = "http://127.0.0.1:8000"
    bridge_signing_key: SecretStr | None = None  # PEM, EC P-256 (ES256)
    # Seals the pending step-up in the browser's cookie; every replica needs the same value.
    bridge_cookie_secret: SecretStr | None = None  # base64 of 32 random bytes
    # Earlier cookie secrets, comma-separated, still opened (never sealed with) during a roll.
    bridge_cookie_previous_secrets: SecretStr | None = None
    # The bridge's own Keycloak identity for reading realms on the login path: a confidential
    # client in the admin realm with a service account holding only view-realm of each
    # tenant's <realm>-realm client. Unset, the bridge falls back to the admin password.
    bridge_client_id: str | None = None
    bridge_client_secret: SecretStr | None = None
    bridge_host: str = "127.0.0.1"
    bridge_port: Port = 8000
    # `serve` over TLS itself: a PEM certificate chain and its private key (both or neither).
    bridge_tls_cert_file: Path | None = None
    bridge_tls_key_file: Path | None = None
    # Behind a reverse proxy: the proxy addresses (comma-separated IPs or CIDRs) whose
    # X-Forwarded-For / -Proto headers `serve` trusts. Unset, no address is trusted.
    forwarded_allow_ips: str | None = None
    bridge_settings_ttl: float = Field(default=300.0, gt=0)  # seconds a realm's settings are cached
    # An unknown key id re-reads a realm's JWKS at most this often (seconds).
    bridge_jwks_refresh_interval: float = Field(default=2.0, ge=0)
    # A realm's cached JWKS is read again after this many seconds, so a key Keycloak no
    # longer publishes stops being accepted within that time.
    bridge_jwks_max_age: float = Field(default=300.0, gt=0)
    # Realms and issuers found unknown are refused without asking Keycloak for this long.
    bridge_negative_ttl: float = Field(default=60.0, ge=0)
    # Bearer token that /metrics requires; unset, /metrics answers 404.
    metrics_token: SecretStr | None = None
    bridge_verdict_lifetime: int = Field(default=120, gt=0, le=600)
    # More public keys to publish to realms next to the current one, during a key roll.
    bridge_extra_jwks: str | None = None  # JSON Web Key Set, public keys only
    # The console (/admin) and self-service (/account/duo) pages.
    keycloak_public_url: str | None = None  # the Keycloak URL browsers use (default keycloak_url)
    console_session_lifetime: int = Field(default=3600, gt=0, le=86400)  # seconds
    # The demo stack (`keycloak-duo-bridge demo`).
    demo_duo_port: Port = 8443
    demo_app_port: Port = 8001
    # Duo calls go only to Duo's API hostnames (api-*.duosecurity.com, ...); true allows
    # any host:port, for the emulator in tests, the sandbox and users' own CI.
    duo_allow_any_host: bool = False
    duo_connect_timeout: float = Field(default=3.0, gt=0)
    duo_read_timeout: float = Field(default=5.0, gt=0)
    duo_health_ttl: float = Field(default=60.0, ge=0)  # seconds a good health check is reused
    duo_breaker_cooldown: float = Field(default=30.0, gt=0)  # seconds an open circuit stays open
    # Consecutive failed health checks of one integration that open its circuit.
    duo_breaker_failures: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _bridge_url_follows_the_port(self) -> Self:
        if (self.bridge_tls_cert_file is None) != (self.bridge_tls_key_file is None):
            raise ValueError(
                "KDB_BRIDGE_TLS_CERT_FILE and KDB_BRIDGE_TLS_KEY_FILE go together: set both"
            )
        if "bridge_url" not in self.model_fields_set:
            # kept out of model_fields_set, so the CLI can still say the URL was not given
            self.__dict__["bridge_url"] = local_bridge_url(
                self.bridge_host, self.bridge_port, tls=self.bridge_tls_cert_file is not None
            )
        return self


_WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})  # noqa: S104 - names, not a bind


def local_bridge_url(host: str, port: int, *, tls: bool = False) -> str:
    """The URL of a bridge listening on ``host:port``, as a browser on this machine sees it."""
    shown = "127.0.0.1" if host in _WILDCARDS else f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


# The addresses a command may use, and the variables that give them.
ADDRESS_VARIABLES = {"keycloak_url": "KDB_KEYCLOAK_URL", "bridge_url": "KDB_BRIDGE_URL"}


def defaulted_address(settings: Settings, field: str) -> str | None:
    """A note that ``field`` (a key of :data:`ADDRESS_VARIABLES`) was not given and what
    is used instead; None when it was given."""
    if field in settings.model_fields_set:
        return None
    value = getattr(settings, field)
    return (
        f"note: {ADDRESS_VARIABLES[field]} is not set; using {value}"
        ' (for the sandbox: eval "$(keycloak-duo-bridge sandbox env)")'
    )


def key_ring(settings: Settings) -> KeyRing:
    """The envelope key ring from ``KDB_KEYRING`` and ``KDB_ACTIVE_KEY_ID``."""
    if settings.keyring is None or not settings.active_key_id:
        raise ConfigError(
            "KDB_KEYRING and KDB_ACTIVE_KEY_ID must be set to store or read Duo secret keys "
            "(`keycloak-duo-bridge sandbox env` prints a sandbox key ring)"
        )
    return KeyRing.from_json(settings.keyring.get_secret_value(), settings.active_key_id)


def cookie_ring(settings: Settings) -> KeyRing:
    """The key ring browsers' sealed values use: ``KDB_BRIDGE_COOKIE_SECRET`` seals, it and
    ``KDB_BRIDGE_COOKIE_PREVIOUS_SECRETS`` open."""
    if settings.bridge_cookie_secret is None:
        raise ConfigError("KDB_BRIDGE_COOKIE_SECRET must be set (base64 of 32 random bytes)")
    previous = settings.bridge_cookie_previous_secrets
    return KeyRing.of_keys(
        decode_key(settings.bridge_cookie_secret.get_secret_value(), "KDB_BRIDGE_COOKIE_SECRET"),
        [
            decode_key(secret.strip(), "KDB_BRIDGE_COOKIE_PREVIOUS_SECRETS")
            for secret in (previous.get_secret_value().split(",") if previous else [])
            if secret.strip()
        ],
    )


def signing_key(settings: Settings) -> SigningKey:
    """The bridge's verdict-signing key from ``KDB_BRIDGE_SIGNING_KEY``."""
    if settings.bridge_signing_key is None:
        raise ConfigError("KDB_BRIDGE_SIGNING_KEY must be set (a PEM EC P-256 private key)")
    return SigningKey.from_pem(settings.bridge_signing_key.get_secret_value())


def _variable_name(location: tuple[int | str, ...]) -> str:
    return f"{ENV_PREFIX}{str(location[0]).upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Build :class:`Settings`; raise :class:`ConfigError` naming the bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_variable_name(err['loc'])}: {err['msg']}" if err["loc"] else err["msg"]
            for err in exc.errors(include_input=False)
        )
        # Not chained: pydantic's own message repeats the input, which may be a secret.
        raise ConfigError(f"invalid settings: {problems}") from None
