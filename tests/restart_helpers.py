"""Helpers for the restart tests: a Keycloak that keeps its realms, and hooks into a walk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx2

from keycloak_duo_bridge import extension
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.sandbox.keycloak import Progress, SandboxKeycloak, _quiet
from keycloak_duo_bridge.sandbox.walk import Walk, browser_like_client, walk_login
from keycloak_duo_bridge.settings import Settings, load_settings
from tests.fixtures_bridge import APP_ID, PASSWORD, Tenant


class DurableKeycloak(SandboxKeycloak):
    """A sandbox Keycloak on an H2 file: a restart loses what production's restart loses.

    Realms, keys and users live in the database and survive; authentication sessions (a
    login in progress) live only in the server's memory and are gone, as in a real cluster
    restarted all at once.
    """

    def command(self) -> list[str]:
        return ["--db=dev-file" if part == "--db=dev-mem" else part for part in super().command()]

    def prepare(self, progress: Progress = _quiet) -> Path:
        """Build once: a restart reuses the unpacked server and the extension jar."""
        if (self.home / "providers" / extension.JAR_NAME).is_file():
            return self.home
        return super().prepare(progress)

    def restart(self, progress: Progress) -> None:
        """Stop the server and start it again on the same ports and database."""
        self.down(progress)
        self.up(progress)


def stack_settings_for(keycloak: SandboxKeycloak, emulator: RunningEmulator) -> Settings:
    """Settings for the admin service and a bridge pointed at ``keycloak`` and the emulator."""
    variables = keycloak.environment()
    return load_settings(
        duo_ca_file=emulator.ca_path,
        **{name.removeprefix("KDB_").lower(): value for name, value in variables.items()},
    )


def point_realm_at(tenant: Tenant, **attributes: str) -> None:
    """Merge ``attributes`` into the tenant realm's attributes (Keycloak replaces the set)."""
    tenant.set_attributes(**attributes)


def hooked_client(tenant: Tenant, before: Callable[[httpx2.Request], None]) -> httpx2.Client:
    """A browser-like client that calls ``before`` ahead of every request it sends."""
    client = browser_like_client(tls_context(tenant.emulator.ca_path))
    client.event_hooks = {"request": [before]}
    return client


def walk(tenant: Tenant, username: str, client: httpx2.Client, **extra: str) -> Walk:
    """Walk ``username``'s login with ``client``'s cookies: to the demo application unless
    ``client_id`` is given; other ``extra`` go into the authorization request."""
    return walk_login(
        keycloak_url=tenant.settings.keycloak_url,
        realm=tenant.realm,
        client_id=extra.pop("client_id", APP_ID),
        redirect_uri=tenant.redirect_uri,
        username=username,
        password=PASSWORD,
        client=client,
        extra_query=extra,
    )


def went_to_duo(tenant: Tenant, result: Walk) -> bool:
    """Whether the walk passed through the tenant's Duo (the emulator's API host)."""
    return any(hop.host == tenant.emulator.api_host for hop in result.hops)
