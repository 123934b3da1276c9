"""Duo's OIDC Auth API as pure functions: what to send, and how to judge what came back.

No I/O here. The shapes follow Duo's official Universal Prompt SDKs: client
assertions are HS512 JWTs with ``aud`` = the endpoint URL; the authorization request is an
HS512 JWT in ``request``; the id_token is HS512 with ``iss`` = the token URL and ``aud`` =
the client id, checked with 60 s of leeway.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlencode

from keycloak_duo_bridge.duo import jose
from keycloak_duo_bridge.errors import DuoConfigError, DuoProtocolError, DuoUnavailableError

CLIENT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME: Final = 300
LEEWAY: Final = 60
# Duo's API hostnames: api-XXXXXXXX.duosecurity.com, and Duo Federal's .duofederal.com.
DUO_API_HOST: Final = re.compile(
    r"api-[a-z0-9]{1,32}\.(duosecurity|duofederal)\.com", re.IGNORECASE
)
_HTTP_OK: Final = 200
_SERVER_ERROR: Final = 500


@dataclass(frozen=True)
class ApplicationKeys:
    """The keys of any one Duo application: integration key, secret key and API host."""

    ikey: str
    skey: str = field(repr=False)
    api_host: str

    def url(self, path: str) -> str:
        return f"https://{self.api_host}{path}"


@dataclass(frozen=True)
class DuoCredentials(ApplicationKeys):
    """One Duo Web SDK (OIDC) application: client id (ikey), secret (skey) and API host."""

    @property
    def health_url(self) -> str:
        return self.url("/oauth/v1/health_check")

    @property
    def authorize_endpoint(self) -> str:
        return self.url("/oauth/v1/authorize")

    @property
    def token_url(self) -> str:
        return self.url("/oauth/v1/token")


def check_api_host(api_host: str, *, allow_any_host: bool) -> None:
    """Refuse any host but Duo's API hostnames, unless ``allow_any_host`` (an emulator).

    A tenant admin writes the API host; without this check the bridge would POST signed
    assertions to any ``host:port`` it names, inside the network (server-side request
    forgery), at login and in the console's Test connection.
    """
    if not allow_any_host and not DUO_API_HOST.fullmatch(api_host):
        raise DuoConfigError(
            f"the API host {api_host[:80]!r} is not a Duo API hostname "
            "(api-XXXXXXXX.duosecurity.com or api-XXXXXXXX.duofederal.com); "
            "KDB_DUO_ALLOW_ANY_HOST=true allows others, for an emulator only"
        )


def new_jti() -> str:
    return secrets.token_urlsafe(27)


def client_assertion(creds: DuoCredentials, audience: str, *, now: float, jti: str) -> str:
    """The HS512 client assertion for the health check and token endpoints."""
    claims = {
        "iss": creds.ikey,
        "sub": creds.ikey,
        "aud": audience,
        "exp": int(now) + ASSERTION_LIFETIME,
        "iat": int(now),
        "jti": jti,
    }
    return jose.encode(claims, creds.skey)


def health_form(creds: DuoCredentials, *, now: float, jti: str) -> dict[str, str]:
    """The form body of ``POST /oauth/v1/health_check``."""
    return {
        "client_id": creds.ikey,
        "client_assertion": client_assertion(creds, creds.health_url, now=now, jti=jti),
    }


def authorize_url(
    creds: DuoCredentials,
    *,
    redirect_uri: str,
    state: str,
    username: str,
    nonce: str,
    now: float,
) -> str:
    """The browser URL of Duo's prompt, with the signed request and ``duo_code`` callbacks."""
    request = jose.encode(
        {
            "scope": "openid",
            "redirect_uri": redirect_uri,
            "client_id": creds.ikey,
            "iss": creds.ikey,
            "aud": f"https://{creds.api_host}",
            "exp": int(now) + ASSERTION_LIFETIME,
            "state": state,
            "response_type": "code",
            "duo_uname": username,
            "use_duo_code_attribute": True,
            "nonce": nonce,
        },
        creds.skey,
    )
    query = {"response_type": "code", "client_id": creds.ikey, "request": request, "nonce": nonce}
    return f"{creds.authorize_endpoint}?{urlencode(query)}"


def token_form(
    creds: DuoCredentials, *, code: str, redirect_uri: str, now: float, jti: str
) -> dict[str, str]:
    """The form body of ``POST /oauth/v1/token``."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": creds.ikey,
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": client_assertion(creds, creds.token_url, now=now, jti=jti),
    }


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _detail(parsed: dict[str, Any]) -> str:
    message = str(parsed.get("message") or parsed.get("error") or "error")
    detail = parsed.get("message_detail") or parsed.get("error_description")
    return f"{message}: {detail}" if detail else message


def judge_health(status: int, body: bytes) -> None:
    """Raise unless a health-check answer says OK. Outage and misconfiguration differ."""
    if status >= _SERVER_ERROR:
        raise DuoUnavailableError(f"Duo health check answered HTTP {status}")
    parsed = _json_object(body)
    if parsed is None:
        # Duo's API answers JSON; anything else below 500 is a wrong host or path, or a
        # proxy in between: a configuration fault, never an outage (no fail-open).
        raise DuoConfigError(f"Duo health check answered HTTP {status} without JSON")
    if parsed.get("stat") == "OK":
        return
    raise DuoConfigError(f"Duo refused the integration: {_detail(parsed)}")


def judge_token_response(status: int, body: bytes) -> str:
    """The id_token from a token-endpoint answer, or the right kind of error."""
    if status >= _SERVER_ERROR:
        raise DuoUnavailableError(f"Duo token endpoint answered HTTP {status}")
    parsed = _json_object(body)
    if parsed is None:
        raise DuoProtocolError(f"Duo token endpoint answered HTTP {status} without JSON")
    if status != _HTTP_OK:
        error = str(parsed.get("error", ""))
        if error == "invalid_grant":
            raise DuoProtocolError(f"Duo refused the code: {_detail(parsed)}")
        raise DuoConfigError(f"Duo refused the token request: {_detail(parsed)}")
    token = parsed.get("id_token")
    if not isinstance(token, str) or parsed.get("token_type") != "Bearer":
        raise DuoProtocolError("Duo's token answer lacks an id_token or a Bearer token_type")
    return token


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DuoProtocolError(f"Duo's id_token has no numeric {name!r}")
    return float(value)


def verify_id_token(
    token: str, creds: DuoCredentials, *, username: str, nonce: str, now: float
) -> dict[str, Any]:
    """Verify Duo's id_token as the official SDKs do, and a little more; return its claims.

    HS512 only; ``iss`` = the token URL; ``aud`` = the client id; ``exp`` and ``iat`` with 60 s
    leeway; ``nonce`` echoed; ``preferred_username`` equal to the user, ignoring case (Duo
    stores aliases in lower case).
    """
    try:
        verified = jose.decode_complete(token, creds.skey)
    except jose.JoseError:
        raise DuoProtocolError(
            "Duo's id_token does not verify with the integration's secret"
        ) from None
    header, claims = verified.header, verified.claims
    if header.get("alg") != "HS512":
        raise DuoProtocolError("Duo's id_token is not signed HS512")
    if claims.get("iss") != creds.token_url:
        raise DuoProtocolError("Duo's id_token has the wrong issuer")
    audience = claims.get("aud")
    if audience != creds.ikey and not (isinstance(audience, list) and creds.ikey in audience):
        raise DuoProtocolError("Duo's id_token is for another client")
    if _number(claims, "exp") < now - LEEWAY:
        raise DuoProtocolError("Duo's id_token has expired")
    if _number(claims, "iat") > now + LEEWAY:
        raise DuoProtocolError("Duo's id_token was issued in the future")
    if claims.get("nonce") != nonce:
        raise DuoProtocolError("Duo's id_token does not echo this login's nonce")
    preferred = claims.get("preferred_username")
    if not isinstance(preferred, str) or preferred.casefold() != username.casefold():
        raise DuoProtocolError("Duo's id_token names another user")
    return claims


def auth_status(claims: dict[str, Any]) -> str:
    """``auth_result.status`` of a verified id_token ("allow", "deny", ...)."""
    result = claims.get("auth_result")
    status = result.get("status") if isinstance(result, dict) else None
    return str(status) if status else "unknown"
