"""Duo's Admin and Accounts API answers judged: each refusal becomes an actionable error."""

from __future__ import annotations

import json

import pytest

from keycloak_duo_bridge.duo.rest_protocol import Api, judge
from keycloak_duo_bridge.errors import (
    DuoApiError,
    DuoConfigError,
    DuoNotFoundError,
    DuoPermissionError,
    DuoUnavailableError,
)


def fail(code: int, message: str, detail: str | None = None) -> bytes:
    body: dict[str, object] = {"stat": "FAIL", "code": code, "message": message}
    if detail is not None:
        body["message_detail"] = detail
    return json.dumps(body).encode()


def test_ok_gives_response_and_metadata() -> None:
    """A 200 OK answer gives its response and paging metadata (None when absent or odd)."""
    body = json.dumps({"stat": "OK", "response": [1], "metadata": {"next_offset": 1}})
    assert judge(200, body.encode(), api=Api.ADMIN, what="x", permission=None) == (
        [1],
        {"next_offset": 1},
    )
    odd = json.dumps({"stat": "OK", "response": "", "metadata": "no"}).encode()
    assert judge(200, odd, api=Api.ADMIN, what="x", permission=None) == ("", None)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_outages_are_unavailable(status: int) -> None:
    """5xx and 429 are an outage, whatever the body."""
    with pytest.raises(DuoUnavailableError, match=f"HTTP {status}"):
        judge(status, b"<html>", api=Api.ADMIN, what="list applications", permission=None)


def test_not_json_is_a_configuration_error() -> None:
    """A non-JSON (or non-object) answer means the host is not Duo's."""
    for body in (b"<html>", b"[1]"):
        with pytest.raises(DuoConfigError, match="without JSON"):
            judge(200, body, api=Api.ACCOUNTS, what="x", permission=None)


def test_bad_credentials_name_what_to_check() -> None:
    """401 says the Admin API credentials were rejected, with Duo's words."""
    body = fail(401, "Invalid signature in request credentials")
    with pytest.raises(DuoConfigError, match="rejected the Admin API credentials: Invalid sig"):
        judge(401, body, api=Api.ADMIN, what="x", permission=None)


def test_plan_refusal_names_the_paid_editions() -> None:
    """403 for the plan says the Admin API needs a paid edition."""
    body = fail(403, "Access forbidden", "Your Duo plan does not include the Admin API.")
    with pytest.raises(DuoPermissionError, match="paid editions"):
        judge(403, body, api=Api.ADMIN, what="x", permission="adminapi_integrations")


def test_accounts_refusal_names_providers() -> None:
    """403 on the Accounts API says it is for managed-service providers, enabled by Duo."""
    body = fail(403, "Access forbidden", "The Accounts API is not enabled for this account.")
    with pytest.raises(DuoPermissionError, match="managed-service providers"):
        judge(403, body, api=Api.ACCOUNTS, what="x", permission=None)
    with pytest.raises(DuoPermissionError, match="Accounts API is not enabled"):
        judge(403, fail(403, "Access forbidden"), api=Api.ACCOUNTS, what="x", permission=None)


def test_missing_permission_names_the_grant() -> None:
    """403 on an Admin API call names the permission the call needs, both ways."""
    body = fail(403, "Access forbidden", "whatever Duo says")
    with pytest.raises(DuoPermissionError, match=r"'Grant applications' \(adminapi_integr"):
        judge(403, body, api=Api.ADMIN, what="x", permission="adminapi_integrations")


def test_other_refusals_keep_duos_words() -> None:
    """Other 403s, 404 and 400 keep Duo's message and detail."""
    with pytest.raises(DuoPermissionError, match="to do it: only on request"):
        judge(403, fail(403, "F", "only on request"), api=Api.ADMIN, what="do it", permission=None)
    with pytest.raises(DuoPermissionError, match="access forbidden"):
        judge(403, fail(403, "F"), api=Api.ADMIN, what="do it", permission=None)
    with pytest.raises(DuoNotFoundError, match=r"Resource not found \(integration\)"):
        judge(
            404,
            fail(404, "Resource not found", "integration"),
            api=Api.ADMIN,
            what="x",
            permission=None,
        )
    with pytest.raises(DuoApiError, match="refused to x: refused"):
        judge(400, json.dumps({"stat": "FAIL"}).encode(), api=Api.ADMIN, what="x", permission=None)
