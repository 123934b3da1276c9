"""Pure checks of what clients send: client assertions and authorization requests (§1, §8).

Every SDK variant Duo accepts is accepted here: HS512 or HS256; ``exp`` as an integer, a float
(Python) or a numeric string (C#); assertions valid up to one hour (Java); ``aud`` of the
authorization request equal to ``https://{host}`` (Python, Node, Go, PHP), the authorize URL
(C#) or absent (Java, ISVA); ``use_duo_code_attribute`` as a boolean or a string; ``nonce`` in
the query (Python) or inside the request JWT (vaultwarden).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from keycloak_duo_bridge.duo import jose
from keycloak_duo_bridge.emulator.errors import InvalidClientError, InvalidRequestError
from keycloak_duo_bridge.emulator.model import Integration

__all__ = [
    "ASSERTION_LEEWAY",
    "CLIENT_ASSERTION_TYPE",
    "MAX_ASSERTION_LIFETIME",
    "MAX_REDIRECT_URI_LENGTH",
    "MAX_STATE_LENGTH",
    "MIN_STATE_LENGTH",
    "AuthorizationRequest",
    "ClientAssertion",
    "accepted_hosts",
    "redirect_with",
    "verify_authorization_request",
    "verify_client_assertion",
]

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = 3600  # Java's SDK signs assertions for one hour, and Duo accepts them.
ASSERTION_LEEWAY = 60  # clock skew allowed on "exp" (the SDKs use 60 s on id_tokens)
MIN_STATE_LENGTH = 16
MAX_STATE_LENGTH = 1024
MAX_REDIRECT_URI_LENGTH = 256
_TRUE_VALUES = (True, 1, "true", "True", "TRUE", "1")
AUTHORIZE = "/oauth/v1/authorize"
ISS_MISMATCH = "Invalid Client assertion: The `iss` claim must match the supplied client_id"

Lookup = Callable[[str], Integration | None]


@dataclass(frozen=True)
class ClientAssertion:
    """A verified client assertion."""

    integration: Integration
    jti: str
    exp: float
    audience: str

    @property
    def client_id(self) -> str:
        """The client the assertion authenticates."""
        return self.integration.client_id


@dataclass(frozen=True)
class AuthorizationRequest:
    """A verified authorization request."""

    integration: Integration
    redirect_uri: str
    state: str
    nonce: str | None
    username: str
    use_duo_code: bool

    @property
    def client_id(self) -> str:
        """The client that asks."""
        return self.integration.client_id


def accepted_hosts(host_header: str) -> frozenset[str]:
    """The spellings of this server's ``host[:port]`` a client may have used in ``aud``.

    The Host header omits ``:443``, while a client configured with ``host:443`` keeps it.
    """
    host = host_header.strip().lower()
    if host.endswith(":443"):
        return frozenset({host, host.removesuffix(":443")})
    if ":" in host.rsplit("]", 1)[-1]:
        return frozenset({host})
    return frozenset({host, f"{host}:443"})


def numeric_date(value: Any) -> float | None:
    """A NumericDate given as int, float or numeric string (C#), else ``None``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _matching_audience(aud: Any, allowed: Iterable[str]) -> str | None:
    """The value of ``aud`` (a string or a list) that names one of ``allowed``, if any."""
    wanted = {a.lower() for a in allowed}
    values = aud if isinstance(aud, list) else [aud]
    return next((v for v in values if isinstance(v, str) and v.lower() in wanted), None)


def _identify(params: Mapping[str, str], lookup: Lookup) -> tuple[Integration, str]:
    """The integration an assertion claims to come from, before its signature is checked."""
    token = params.get("client_assertion", "")
    if not token:
        raise InvalidClientError("client_assertion is missing")
    try:
        header = jose.unverified_header(token)
        unverified = jose.unverified_claims(token)
    except jose.JoseError as exc:
        raise InvalidClientError(f"client_assertion is not a JWT: {exc}") from exc
    if header.get("alg") not in jose.ALGORITHMS:
        raise InvalidClientError(
            f"client_assertion alg {header.get('alg')!r} is not HS512 or HS256"
        )
    client_id = unverified.get("iss")
    if not isinstance(client_id, str) or not client_id:
        raise InvalidClientError("client_assertion has no iss")
    given = params.get("client_id")
    if given is not None and given != client_id:
        raise InvalidClientError(
            "client_id differs from the assertion's iss", description=ISS_MISMATCH
        )
    integration = lookup(client_id)
    if integration is None:
        raise InvalidClientError(f"unknown client_id {client_id!r}", status_code=401)
    return integration, token


def verify_client_assertion(
    params: Mapping[str, str],
    *,
    lookup: Lookup,
    hosts: Iterable[str],
    path: str,
    now: float,
    require_assertion_type: bool,
) -> ClientAssertion:
    """Check a client assertion as Duo does for ``path``; raise :class:`InvalidClientError`."""
    if require_assertion_type and params.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
        raise InvalidClientError("client_assertion_type is missing or not jwt-bearer")
    integration, token = _identify(params, lookup)
    try:
        claims = jose.decode(token, integration.client_secret)
    except jose.JoseError as exc:
        raise InvalidClientError(f"client_assertion signature: {exc}") from exc
    if claims.get("sub") != integration.client_id:
        raise InvalidClientError("client_assertion sub differs from iss")
    audience = _matching_audience(claims.get("aud"), [f"https://{h}{path}" for h in hosts])
    if audience is None:
        raise InvalidClientError(f"client_assertion aud {claims.get('aud')!r} is not this endpoint")
    exp = numeric_date(claims.get("exp"))
    if exp is None:
        raise InvalidClientError("client_assertion exp is missing or not a number")
    if exp <= now - ASSERTION_LEEWAY:
        raise InvalidClientError("client_assertion has expired")
    if exp > now + MAX_ASSERTION_LIFETIME + ASSERTION_LEEWAY:
        raise InvalidClientError("client_assertion exp is more than one hour ahead")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise InvalidClientError("client_assertion jti is missing")
    return ClientAssertion(integration=integration, jti=jti, exp=exp, audience=audience)


def _is_true(value: Any) -> bool:
    return any(value == t and type(value) is type(t) for t in _TRUE_VALUES)


def _usable_redirect_uri(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequestError("redirect_uri is missing")
    if len(value) > MAX_REDIRECT_URI_LENGTH:
        raise InvalidRequestError("redirect_uri: Length must be between 1 and 256.")
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise InvalidRequestError(f"Invalid redirect URI {value}")
    return value


def _authentic(
    query: Mapping[str, str], lookup: Lookup, hosts: Iterable[str]
) -> tuple[Integration, dict[str, Any]]:
    """The integration and the verified claims of an authorization request.

    Errors here are shown on a page: nothing proves the ``redirect_uri`` is the client's.
    """
    client_id = query.get("client_id", "")
    token = query.get("request", "")
    if not client_id or not token:
        raise InvalidRequestError("client_id and request are required")
    integration = lookup(client_id)
    if integration is None:
        raise InvalidRequestError(f"unknown client_id {client_id}", error="invalid_client")
    try:
        claims = jose.decode(token, integration.client_secret)  # HS512 or HS256 only
    except jose.JoseError as exc:
        raise InvalidRequestError(f"the request JWT is invalid: {exc}") from exc
    if claims.get("client_id") != client_id:
        raise InvalidRequestError("the request JWT's client_id differs from client_id")
    if claims.get("iss", client_id) != client_id:
        raise InvalidRequestError("the request JWT's iss differs from client_id")
    hosts = list(hosts)
    allowed = [f"https://{h}" for h in hosts] + [f"https://{h}{AUTHORIZE}" for h in hosts]
    if "aud" in claims and _matching_audience(claims["aud"], allowed) is None:
        raise InvalidRequestError(f"the request JWT's aud {claims['aud']!r} is not this server")
    return integration, claims


def verify_authorization_request(
    query: Mapping[str, str],
    *,
    lookup: Lookup,
    hosts: Iterable[str],
    now: float,
) -> AuthorizationRequest:
    """Check ``GET /oauth/v1/authorize``; raise :class:`InvalidRequestError`.

    Until the request JWT verifies and its ``redirect_uri`` is usable, errors are shown on a
    page (``redirect_uri`` unset); after that they go back to the client.
    """
    integration, claims = _authentic(query, lookup, hosts)
    redirect_uri = _usable_redirect_uri(claims.get("redirect_uri"))
    state = claims.get("state")
    good_state = isinstance(state, str) and MIN_STATE_LENGTH <= len(state) <= MAX_STATE_LENGTH

    def refuse(detail: str, error: str = "invalid_request") -> InvalidRequestError:
        back = state if good_state else None
        return InvalidRequestError(detail, error=error, redirect_uri=redirect_uri, state=back)

    exp = numeric_date(claims.get("exp"))
    if exp is None or exp <= now:
        raise refuse("the request JWT has expired")
    if claims.get("response_type", query.get("response_type")) != "code":
        raise refuse("response_type must be code", "unsupported_response_type")
    if claims.get("scope", query.get("scope")) != "openid":
        raise refuse("scope must be openid", "invalid_scope")
    if not good_state:
        raise refuse(f"state must be {MIN_STATE_LENGTH} to {MAX_STATE_LENGTH} characters long")
    username = claims.get("duo_uname")
    if not isinstance(username, str) or not username:
        raise refuse("duo_uname is missing")
    nonce = claims.get("nonce", query.get("nonce"))
    return AuthorizationRequest(
        integration=integration,
        redirect_uri=redirect_uri,
        state=str(state),
        nonce=str(nonce) if nonce else None,
        username=username,
        use_duo_code=_is_true(claims.get("use_duo_code_attribute")),
    )


def redirect_with(redirect_uri: str, params: Mapping[str, str]) -> str:
    """``redirect_uri`` with ``params`` added to the query it already has."""
    parts = urlsplit(redirect_uri)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))
