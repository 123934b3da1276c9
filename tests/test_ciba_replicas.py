"""Two bridge replicas as Keycloak's CIBA channel (#16), on the real sandbox Keycloak: any
replica takes any request, and what a replayed channel token does at each."""

from __future__ import annotations

import logging
import time

import pytest

from tests.fixtures_ciba import CibaTenantFactory, Replicas

pytestmark = pytest.mark.keycloak


def _refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        str(getattr(r, "fields", {}).get("reason"))
        for r in caplog.records
        if r.getMessage() == "ciba callback refused"
    ]


def test_either_replica_takes_a_login(
    ciba_replica_tenant: CibaTenantFactory, ciba_replicas: Replicas, ciba_username: str
) -> None:
    """The balancer sends one login to A and the next to B: both pass (nothing is kept
    between a channel request and its callback)."""
    tenant = ciba_replica_tenant()
    tenant.user(ciba_username)
    tenant.emulator.control.script_push(ciba_username, "approve")
    for replica in ("A", "B"):
        ciba_replicas.route_to = replica
        answer = tenant.login(ciba_username)
        assert answer.status_code == 200, (replica, answer.text)
    assert len(tenant.emulator.control.pushes(ciba_username)) == 2


def test_a_replayed_channel_token(
    ciba_replica_tenant: CibaTenantFactory,
    ciba_replicas: Replicas,
    ciba_username: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Keycloak's token replayed after the login: the replica that took it refuses it (401,
    no push); the other replica, which has no memory of it, sends a second push, and
    Keycloak refuses that replica's callback (403: the request is gone), so the replay
    yields nothing more."""
    tenant = ciba_replica_tenant()
    tenant.user(ciba_username)
    tenant.emulator.control.script_push(ciba_username, "approve")
    ciba_replicas.route_to = "A"
    assert tenant.login(ciba_username).status_code == 200
    assert len(tenant.emulator.control.pushes(ciba_username)) == 1
    caplog.set_level(logging.INFO, logger="keycloak_duo_bridge.ciba")
    assert ciba_replicas.replay("A").status_code == 401
    assert len(tenant.emulator.control.pushes(ciba_username)) == 1
    assert ciba_replicas.replay("B").status_code == 201
    deadline = time.monotonic() + 15
    while not _refusals(caplog):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert len(tenant.emulator.control.pushes(ciba_username)) == 2
    assert set(_refusals(caplog)) == {"HTTP 403"}
