"""Two bridge processes: the step-up starts on one and Duo's callback lands on the other."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from playwright.sync_api import Page

from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.server import start_bridge
from keycloak_duo_bridge.settings import Settings
from tests.browser_steps import sign_in, tokens_for
from tests.fixtures_bridge import TenantFactory

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


def environment(settings: Settings) -> dict[str, str]:
    """The KDB_* variables that reproduce ``settings`` in another process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KDB_")}
    for name, value in settings.model_dump().items():
        if value is None or name == "jvm_search_dirs":
            continue
        text = value.get_secret_value() if hasattr(value, "get_secret_value") else value
        env[f"KDB_{name.upper()}"] = str(text)
    return env


@pytest.fixture
def second_bridge(stack_settings: Settings, tmp_path: Path) -> Iterator[str]:
    """`keycloak-duo-bridge serve` in its own process, sharing the first's keys."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = stack_settings.model_copy(update={"bridge_url": url, "bridge_port": port})
    log = (tmp_path / "bridge.log").open("wb")
    script = Path(sys.executable).parent / "keycloak-duo-bridge"
    child = subprocess.Popen([script, "serve"], env=environment(settings), stdout=log, stderr=log)
    try:
        for _ in range(100):
            try:
                if httpx2.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx2.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail((tmp_path / "bridge.log").read_text())
        yield url
    finally:
        child.terminate()
        child.wait(timeout=10)
        log.close()


def test_callback_served_by_another_process(
    page: Page, duo_tenant: TenantFactory, stack_settings: Settings, second_bridge: str
) -> None:
    """Bridge A starts the step-up, bridge B (another process) finishes it: the login passes."""
    server, first = start_bridge(
        # A's Duo redirect points at B, as a load balancer would route the callback.
        lambda _url: stack_settings.model_copy(update={"bridge_url": second_bridge})
    )
    with server:
        tenant = duo_tenant()
        tenant.user("quinn")
        tenant.set_attributes(**{"kdb.bridge.url": f"http://127.0.0.1:{server.port}"})
        hosts: list[str] = []
        page.on("request", lambda r: hosts.append(r.url.split("/")[2]))
        sign_in(page, tenant, "quinn")
        claims = tokens_for(page, tenant)
    assert claims["duo"]["result"] == "allow"  # type: ignore[index]
    assert f"127.0.0.1:{server.port}" in hosts
    assert second_bridge.removeprefix("http://") in hosts
    assert first.bridge_url == second_bridge
