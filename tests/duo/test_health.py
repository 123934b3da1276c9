"""The administrators' "do these keys work?" check: every answer in words, never a class name."""

from __future__ import annotations

import httpx2
import pytest

from keycloak_duo_bridge.duo import health
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from keycloak_duo_bridge.sandbox.ports import free_port


def check(creds: IntegrationCredentials, **options: object) -> health.HealthVerdict:
    """The check of ``creds`` against the emulator (not Duo's host, so allowed explicitly)."""
    return health.check_credentials(
        creds.client_id,
        creds.client_secret,
        creds.api_host,
        allow_any_host=True,
        **options,  # type: ignore[arg-type]
    )


def test_an_untrusted_certificate_says_so_and_how_to_trust_it(
    duo_integration: IntegrationCredentials, duo_emulator: RunningEmulator
) -> None:
    """A host whose certificate this machine does not trust is 'untrusted', with the fix."""
    verdict = check(duo_integration)
    assert verdict.status == "untrusted"
    assert "certificate" in verdict.message
    assert "KDB_DUO_CA_FILE" in verdict.message
    assert "Error" not in verdict.message
    trusted = check(duo_integration, ca_file=duo_emulator.ca_path)
    assert trusted.status == "ok"


def test_nothing_listening_is_unreachable_in_words(duo_integration: IntegrationCredentials) -> None:
    """A host where nothing answers is 'unreachable', said in words."""
    verdict = health.check_credentials(
        duo_integration.client_id,
        duo_integration.client_secret,
        f"127.0.0.1:{free_port()}",
        allow_any_host=True,
    )
    assert verdict.status == "unreachable"
    assert "cannot be reached" in verdict.message
    assert "ConnectError" not in verdict.message


def test_a_slow_duo_is_unreachable_with_the_timeout(
    duo_integration: IntegrationCredentials, duo_emulator: RunningEmulator
) -> None:
    """A Duo that does not answer in time is 'unreachable', naming the wait."""
    duo_emulator.control.set_faults(latency_ms=1500)
    verdict = check(duo_integration, ca_file=duo_emulator.ca_path, timeout=0.5)
    assert (verdict.status, verdict.message.endswith("did not answer within 0.5 seconds")) == (
        "unreachable",
        True,
    )


def test_another_http_failure_is_unreachable_in_words(
    duo_integration: IntegrationCredentials, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any other failure of the request is 'unreachable', without an exception's name."""

    def broken(*args: object, **kwargs: object) -> httpx2.Response:
        raise httpx2.RemoteProtocolError("peer closed connection")

    monkeypatch.setattr(httpx2.Client, "post", broken)
    verdict = check(duo_integration)
    assert (verdict.status, verdict.message.endswith("did not answer properly")) == (
        "unreachable",
        True,
    )
