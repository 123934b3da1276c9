"""The claims of a well-formed step-up request token, for tests that sign their own."""

from __future__ import annotations

import time
from typing import Any

from keycloak_duo_bridge.bridge import tokens


def request_claims(issuer: str, **changes: Any) -> dict[str, Any]:
    """Good request-token claims from ``issuer``'s realm ``acme``; ``None`` drops a claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "typ": tokens.REQUEST_TYPE,
        "iss": issuer,
        "aud": tokens.AUDIENCE,
        "sub": "u1",
        "iat": now,
        "exp": now + 300,
        "preferred_username": "alice",
        "nonce": "n1",
        "realm": "acme",
        "return_url": f"{issuer}/login-actions/required-action?code=c",
        **changes,
    }
    return {name: value for name, value in claims.items() if value is not None}
