"""Fixtures for the admin service's tests: the sandbox Keycloak through our adapter."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.settings import Settings, key_ring, load_settings
from tests.keycloak_writes import write_methods

Names = Callable[[str], str]


@pytest.fixture(scope="session")
def sandbox_env(keycloak_sandbox: SandboxKeycloak) -> dict[str, str]:
    """The KDB_* variables that point commands at the session's sandbox."""
    return keycloak_sandbox.environment()


@pytest.fixture(scope="session")
def admin_settings(sandbox_env: dict[str, str]) -> Settings:
    """Settings for the sandbox: admin login, key ring and bridge key."""
    prefix = "KDB_"
    return load_settings(**{k[len(prefix) :].lower(): v for k, v in sandbox_env.items()})


@pytest.fixture(scope="session")
def kc(admin_settings: Settings) -> Keycloak:
    """Our adapter, logged in to the sandbox as its master admin."""
    return Keycloak.from_settings(admin_settings)


@pytest.fixture(scope="session")
def ring(admin_settings: Settings) -> KeyRing:
    """The sandbox's envelope key ring."""
    return key_ring(admin_settings)


@pytest.fixture(scope="session")
def wires() -> Wiring:
    """A bridge URL and JWKS to publish."""
    return Wiring(bridge_url="https://bridge.example.test", jwks='{"keys":[]}')


@pytest.fixture
def names() -> Names:
    """Realm names unique to this test (the sandbox Keycloak is shared)."""
    suffix = uuid.uuid4().hex[:8]
    return lambda base: f"{base}-{suffix}"


@pytest.fixture
def writes(kc: Keycloak, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts calls to the adapter's write methods (idempotence: a re-run writes nothing)."""
    counts: Counter[str] = Counter()
    for name in write_methods():
        original = getattr(kc, name)

        def spy(*args: object, _name: str = name, _original: object = original) -> object:
            counts[_name] += 1
            return _original(*args)  # type: ignore[operator]

        monkeypatch.setattr(kc, name, spy)
    return counts


@pytest.fixture
def integration(duo_emulator: RunningEmulator) -> Iterator[IntegrationCredentials]:
    """Fresh Duo credentials on the emulator; faults cleared afterwards."""
    yield duo_emulator.control.add_integration()
    duo_emulator.control.set_faults()


@pytest.fixture
def cli(
    sandbox_env: dict[str, str],
    duo_emulator: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., tuple[int, str, str]]:
    """Run ``keycloak-duo-bridge ARGS`` against the sandbox; returns (exit code, out, err)."""
    for name, value in sandbox_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KDB_DUO_CA_FILE", str(duo_emulator.ca_path))
    monkeypatch.setenv("KDB_BRIDGE_URL", "https://bridge.example.test")

    def run(*argv: str | Path) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


Expect = Callable[..., str]


@pytest.fixture
def expect(cli: Callable[..., tuple[int, str, str]]) -> Expect:
    """``expect(*ARGS, code=0)``: run the command, assert its exit code; its output, or on
    failure what it printed to stderr."""

    def run(*argv: str | Path, code: int = 0) -> str:
        got, out, err = cli(*argv)
        assert got == code, (argv, out, err)
        return out if code == 0 else err

    return run


@pytest.fixture
def partner_realm(kc: Keycloak, names: Names) -> Iterator[str]:
    """A partner realm with the user ``member-one``, deleted afterwards with what it holds."""
    name = names("oc")
    tenants.create_partner(kc, name)
    kc._admin.change_current_realm(name)
    kc._admin.create_user({"username": "member-one", "enabled": True})
    yield name
    tenants.delete_tenant(kc, name, cascade=True)
