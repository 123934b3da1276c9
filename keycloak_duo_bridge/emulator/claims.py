"""Pure construction of the token endpoint's answer and the id_token's claims (§4)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from keycloak_duo_bridge.emulator.model import Grant, Integration, User

__all__ = ["ID_TOKEN_LIFETIME", "access_device", "id_token_claims"]

ID_TOKEN_LIFETIME = 3600
_UNKNOWN_LOCATION = {"city": None, "state": None, "country": None}
# Most specific first: Edge and Opera announce Chrome too, Chrome announces Safari.
_BROWSERS = (
    ("Edge", r"Edg/([\d.]+)"),
    ("Opera", r"OPR/([\d.]+)"),
    ("Chrome", r"(?:Chrome|Chromium|HeadlessChrome)/([\d.]+)"),
    ("Firefox", r"Firefox/([\d.]+)"),
    ("Safari", r"Version/([\d.]+).*Safari/"),
)
_SYSTEMS = (
    ("Windows", r"Windows NT ([\d.]+)"),
    ("Android", r"Android ([\d.]+)"),
    ("iOS", r"iPhone OS ([\d_]+)"),
    ("Mac OS X", r"Mac OS X ([\d_.]+)"),
    ("Linux", r"Linux()"),
)


def _match(table: tuple[tuple[str, str], ...], user_agent: str) -> tuple[str, str | None]:
    for name, pattern in table:
        found = re.search(pattern, user_agent)
        if found:
            return name, found.group(1).replace("_", ".") or None
    return "Unknown", None


def access_device(ip: str, user_agent: str) -> dict[str, Any]:
    """The ``access_device`` object: where the browser came from and what it is."""
    browser, browser_version = _match(_BROWSERS, user_agent)
    system, system_version = _match(_SYSTEMS, user_agent)
    return {
        "ip": ip,
        "location": dict(_UNKNOWN_LOCATION),
        "hostname": None,
        "epkey": None,
        "os": system,
        "os_version": system_version,
        "browser": browser,
        "browser_version": browser_version,
        "flash_version": "uninstalled",
        "java_version": "uninstalled",
        "is_encryption_enabled": "unknown",
        "is_firewall_enabled": "unknown",
        "is_password_set": "unknown",
        "security_agents": "unknown",
    }


def _auth_device(user: User | None) -> dict[str, Any]:
    if user is None or not user.enrolled:
        return {"ip": None, "location": dict(_UNKNOWN_LOCATION), "name": None, "key": None}
    return {
        "ip": None,
        "location": dict(_UNKNOWN_LOCATION),
        "name": user.phone,
        "key": user.device_key,
    }


def id_token_claims(
    grant: Grant,
    *,
    issuer: str,
    integration: Integration,
    user: User | None,
    now: float,
) -> dict[str, Any]:
    """The id_token claims for ``grant``, issued at ``now`` by ``issuer``.

    ``preferred_username`` is the name Duo resolved: the user's own spelling when Duo knows
    the user (usernames are case-insensitive at Duo), else the ``duo_uname`` sent.
    """
    outcome = grant.outcome
    iat = int(now)
    username = grant.username if user is None else user.username
    verdict = "allow" if outcome.allowed else "deny"
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": username,
        "aud": grant.client_id,
        "iat": iat,
        "exp": iat + ID_TOKEN_LIFETIME,
        "auth_time": int(grant.issued_at),
        "preferred_username": username,
        "auth_result": {"result": verdict, "status": verdict, "status_msg": outcome.status_msg},
        "auth_context": {
            "txid": grant.txid,
            "timestamp": int(grant.issued_at),
            "isotimestamp": datetime.fromtimestamp(grant.issued_at, UTC).isoformat(),
            "event_type": outcome.event_type,
            "factor": outcome.factor,
            "result": "success" if outcome.allowed else "denied",
            "reason": outcome.reason,
            "user": {
                "name": username,
                "key": None if user is None else user.key,
                "groups": [],
            },
            "application": {"name": integration.name, "key": integration.client_id},
            "access_device": access_device(grant.access_ip, grant.user_agent),
            "auth_device": _auth_device(user),
            "alias": "",
            "email": "",
            "ood_software": None,
            "trusted_endpoint_status": "unknown",
        },
    }
    if grant.nonce is not None:
        claims["nonce"] = grant.nonce
    return claims
