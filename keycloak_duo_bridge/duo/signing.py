"""Duo's REST request signature, as ``duo_client`` 5.x sends it by default (pure functions).

Every call to Duo's Auth, Admin and Accounts APIs carries ``Authorization: Basic
base64(ikey:hex HMAC-SHA512)`` over a canonical request, and the ``Date`` it covers.
``duo_client`` defaults to signature version 5: the lines

``date, METHOD, host, path, canonical params, sha512(body), sha512(X-Duo-* headers)``

joined by newlines. A POST sends its parameters as a JSON body (sorted keys, no spaces)
and signs no parameters; a GET or DELETE sends them in the query and signs them, with an
empty body. The host is the API host name without a port, as ``duo_client`` signs it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Final

__all__ = [
    "SIGNATURE_VERSION",
    "SignedCall",
    "authorization",
    "canon_json",
    "canon_params",
    "canon_x_duo_headers",
    "canonicalize",
    "sign_call",
]

SIGNATURE_VERSION: Final = 5
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})


def canon_params(params: Mapping[str, str]) -> str:
    """Sorted ``quote(key, '~')=quote(value, '~')`` pairs joined by ``&`` (OAuth 1.0 style)."""
    pairs = sorted(
        (urllib.parse.quote(k, "~"), urllib.parse.quote(v, "~")) for k, v in params.items()
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


def canon_x_duo_headers(headers: Mapping[str, str]) -> str:
    """SHA-512 (hex) of the ``X-Duo-*`` headers: lower-cased names, sorted, NUL-joined."""
    lowered = {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-duo-")}
    parts: list[str] = []
    for name in sorted(lowered):
        parts.extend([name, lowered[name]])
    return hashlib.sha512("\x00".join(parts).encode()).hexdigest()


def canon_json(params: Mapping[str, str]) -> str:
    """A POST body as ``duo_client`` writes it: sorted keys, no spaces."""
    return json.dumps(dict(params), sort_keys=True, separators=(",", ":"))


def canonicalize(
    *,
    date: str,
    method: str,
    host: str,
    path: str,
    params: Mapping[str, str],
    body: str,
    x_duo_headers: Mapping[str, str] | None = None,
) -> str:
    """The canonical request of signature version 5."""
    return "\n".join(
        [
            date,
            method.upper(),
            host.lower(),
            path,
            canon_params(params),
            hashlib.sha512(body.encode()).hexdigest(),
            canon_x_duo_headers(x_duo_headers or {}),
        ]
    )


def authorization(ikey: str, skey: str, canonical: str) -> str:
    """``Basic base64(ikey:hex HMAC-SHA512(skey, canonical))``."""
    signature = hmac.new(skey.encode(), canonical.encode(), hashlib.sha512).hexdigest()
    return "Basic " + base64.b64encode(f"{ikey}:{signature}".encode()).decode("ascii")


@dataclass(frozen=True)
class SignedCall:
    """A request ready to send: the target (path and query), headers and body."""

    method: str
    target: str
    headers: dict[str, str] = field(repr=False)  # the Authorization header is a credential
    body: str


def sign_call(
    *,
    ikey: str,
    skey: str,
    host: str,
    method: str,
    path: str,
    params: Mapping[str, str],
    date: str | None = None,
) -> SignedCall:
    """Sign one call as ``duo_client`` does by default; ``date`` is now unless given."""
    method = method.upper()
    date = date or formatdate()
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host  # sign without the port
    in_body = method in _BODY_METHODS
    body = canon_json(params) if in_body else ""
    signed_params: Mapping[str, str] = {} if in_body else params
    canonical = canonicalize(
        date=date, method=method, host=name, path=path, params=signed_params, body=body
    )
    headers = {"Authorization": authorization(ikey, skey, canonical), "Date": date}
    target = path
    if in_body:
        headers["Content-Type"] = "application/json"
    elif params:
        target = f"{path}?{urllib.parse.urlencode(sorted(params.items()))}"
    return SignedCall(method, target, headers, body)
