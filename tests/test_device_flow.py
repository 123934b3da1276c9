"""The device authorization grant (RFC 8628) with the Duo step, on real Keycloak: a client
shows a URL and a code, a person signs in with Duo in Chromium on "another device", and the
polling client gets the tokens (#16)."""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import httpx2
import jwt
import pytest
from playwright.sync_api import Page

from keycloak_duo_bridge.admin import apps
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.cli import main
from tests.browser_steps import device_grant_consent, device_sign_in, visits_duo
from tests.fixtures_bridge import TenantFactory
from tests.fixtures_browser import screenshot
from tests.fixtures_ciba import DEVICE_CLIENT, DeviceClient, add_device_client

pytestmark = [pytest.mark.keycloak, pytest.mark.browser]


def _error(answer: httpx2.Response) -> str | None:
    body = answer.json()
    return body.get("error") if isinstance(body, dict) else None


def _settled(client: DeviceClient, started: dict[str, Any]) -> httpx2.Response:
    """Poll as RFC 8628 says (the interval, 5 s more after slow_down) until the answer is
    neither authorization_pending nor slow_down; a fast browser walk otherwise meets
    slow_down on the next poll."""
    interval = float(started["interval"])
    deadline = time.monotonic() + 60
    while (answer := client.poll(started["device_code"])).status_code != 200:
        error = _error(answer)
        if error not in {"authorization_pending", "slow_down"}:
            break
        assert time.monotonic() < deadline, answer.text
        interval += 5 if error == "slow_down" else 0
        time.sleep(interval)
    return answer


def test_device_login_passes_duo_and_the_tokens_say_so(
    page: Page, duo_tenant: TenantFactory
) -> None:
    """Code entered, password, Duo prompt approved, consent: the polling client's tokens
    carry the duo claim (result allow); before that it saw authorization_pending."""
    tenant = duo_tenant()
    tenant.user("devin", behavior="prompt", enrolled=True)
    client = add_device_client(tenant)
    started = client.start()
    assert _error(client.poll(started["device_code"])) == "authorization_pending"
    device_sign_in(page, started["verification_uri"], started["user_code"], "devin")
    page.wait_for_url(f"https://{tenant.integration.api_host}/**")
    page.get_by_role("button", name="Send Me a Push").click()
    page.get_by_role("button", name="Approve").click()
    device_grant_consent(page)
    screenshot(page, "device-flow-signed-in")
    answer = _settled(client, started)
    assert answer.status_code == 200, answer.text
    claims = jwt.decode(answer.json()["id_token"], options={"verify_signature": False})
    assert claims["preferred_username"] == "devin"
    assert claims["duo"]["result"] == "allow"


def test_a_duo_deny_leaves_the_client_without_tokens(page: Page, duo_tenant: TenantFactory) -> None:
    """Deny at Duo: the person sees Duo's refusal; the client never gets tokens. Keycloak
    marks a device code denied only when the person refuses consent, so the client keeps
    seeing authorization_pending until the code expires (expired_token)."""
    tenant = duo_tenant()
    tenant.user("dena", behavior="prompt", enrolled=True)
    client = add_device_client(tenant, lifespan=25)
    started = client.start()
    device_sign_in(page, started["verification_uri"], started["user_code"], "dena")
    page.get_by_role("button", name="Send Me a Push").click()
    page.get_by_role("button", name="Deny").click()
    page.get_by_role("button", name="Return to the application").click()
    page.get_by_text("Duo denied the sign-in.").wait_for()
    assert _error(client.poll(started["device_code"])) == "authorization_pending"
    deadline = time.monotonic() + 45
    waiting = {"authorization_pending", "slow_down"}
    while (error := _error(client.poll(started["device_code"]))) in waiting:
        assert time.monotonic() < deadline
        time.sleep(started["interval"] + 0.5)
    assert error == "expired_token"


def test_refusing_consent_after_duo_gives_access_denied(
    page: Page, duo_tenant: TenantFactory
) -> None:
    """Duo approved but the person answers "No" to the device's access: access_denied."""
    tenant = duo_tenant()
    tenant.user("nora")
    client = add_device_client(tenant)
    started = client.start()
    device_sign_in(page, started["verification_uri"], started["user_code"], "nora")
    page.locator("#kc-cancel").click()
    assert _error(_settled(client, started)) == "access_denied"


def test_an_app_with_duo_off_signs_in_without_a_duo_hop(
    page: Page, duo_tenant: TenantFactory
) -> None:
    """The device client's Duo mode is off: password and consent only, no Duo hop, tokens
    without a duo claim."""
    tenant = duo_tenant()
    tenant.user("olly")
    client = add_device_client(tenant)
    apps.set_mode(Keycloak.from_settings(tenant.settings), tenant.realm, DEVICE_CLIENT, "off")
    duo = visits_duo(page, tenant)
    started = client.start()
    device_sign_in(page, started["verification_uri"], started["user_code"], "olly")
    device_grant_consent(page)
    answer = _settled(client, started)
    assert answer.status_code == 200, answer.text
    assert duo == []
    assert "duo" not in jwt.decode(answer.json()["id_token"], options={"verify_signature": False})


def test_the_login_command_runs_the_device_grant(
    page: Page, duo_tenant: TenantFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """`login --device`: it shows the URI and the code, the person signs in with Duo in the
    browser, and the command prints the tokens."""
    tenant = duo_tenant()
    tenant.user("cleo")
    add_device_client(tenant)
    argv = [
        "login", "--device", "--realm", tenant.realm, "--client", DEVICE_CLIENT,
        "--keycloak-url", tenant.settings.keycloak_url,
    ]  # fmt: skip
    codes: list[int] = []
    command = threading.Thread(target=lambda: codes.append(main(argv)))
    command.start()
    err = ""
    deadline = time.monotonic() + 30
    while not (shown := re.search(r"open (\S+) and enter the code (\S+)", err)):
        assert time.monotonic() < deadline, err
        time.sleep(0.2)
        err += capsys.readouterr().err
    device_sign_in(page, shown[1], shown[2], "cleo")
    device_grant_consent(page)
    command.join(timeout=30)
    assert codes == [0]
    out = capsys.readouterr().out
    claims = jwt.decode(json.loads(out)["id_token"], options={"verify_signature": False})
    assert claims["duo"]["result"] == "allow"
