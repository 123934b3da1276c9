"""Duo's REST request signatures, checked the way Duo's server must (pure functions).

Every call to the Auth, Admin and Accounts APIs carries ``Authorization: Basic
base64(ikey:hex HMAC)`` over a canonical request, and a ``Date`` (or ``X-Duo-Date``) that the
signature covers. ``duo_client`` 5.x (``client.py``: ``canonicalize``, ``sign``) sends:

* v2: ``date, METHOD, host, path, params`` joined by newlines; HMAC-SHA1 in Duo's documents,
  HMAC-SHA512 by ``duo_client``'s default ``digestmod``. POST parameters go in a form body.
* v4: v2's lines plus ``sha512(body)``; POST parameters go in a JSON body (sorted keys, no
  spaces); always HMAC-SHA512.
* v5 (``duo_client``'s default): v4's lines plus ``sha512`` of the NUL-joined, lower-cased
  ``X-Duo-*`` headers; always HMAC-SHA512.

v1 (no date in the canonical request, so a captured request could be replayed for ever) is
refused: the emulator accepts only signatures that bind the date.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from keycloak_duo_bridge.emulator.errors import RestApiError

__all__ = [
    "SKEW_LIMIT",
    "SignedRequest",
    "bad_signature",
    "canon_params",
    "canon_x_duo_headers",
    "canonicalize",
    "check_date",
    "hmac_hex",
    "parse_authorization",
    "signed_date",
    "verify_signature",
]

SKEW_LIMIT = 300  # seconds either way; duo_unix's official mock (mockduo.py) allows ±300 s


@dataclass(frozen=True)
class SignedRequest:
    """What of an HTTP request the signature covers, as the server received it."""

    method: str
    hosts: frozenset[str]  # spellings of the API host the client may have signed
    path: str  # raw (still percent-encoded) path, no query
    query: str  # raw query string
    body: bytes
    form_body: bool  # application/x-www-form-urlencoded (v2 POST)
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names


def _missing_credentials() -> RestApiError:
    return RestApiError(401, 40101, "Missing request credentials")


def bad_signature() -> RestApiError:
    """401 40103: Duo's answer for a signature that does not verify."""
    return RestApiError(401, 40103, "Invalid signature in request credentials")


def parse_authorization(value: str | None) -> tuple[str, str]:
    """``(ikey, signature)`` from ``Basic base64(ikey:signature)``; 401 40101 otherwise."""
    if not value:
        raise _missing_credentials()
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "basic" or not token:
        raise _missing_credentials()
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise _missing_credentials() from exc
    ikey, sep, signature = decoded.partition(":")
    if not sep or not ikey or not signature:
        raise _missing_credentials()
    return ikey, signature


def signed_date(headers: Mapping[str, str]) -> str:
    """The date the signature covers: ``X-Duo-Date`` when sent, else ``Date``."""
    date = headers.get("x-duo-date") or headers.get("date")
    if not date:
        raise RestApiError(401, 40105, "Invalid request date", "the Date header is missing")
    return date


def check_date(date: str, now: float, limit: float = SKEW_LIMIT) -> None:
    """Refuse (401 40105) a date that does not parse or lies more than ``limit`` from ``now``."""
    try:
        when = parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError) as exc:
        raise RestApiError(401, 40105, "Invalid request date", "unparsable date") from exc
    if when < now - limit:
        raise RestApiError(401, 40105, "Invalid request date", "the request date is too old")
    if when > now + limit:
        raise RestApiError(401, 40105, "Invalid request date", "the request date is too new")


def canon_params(params: Mapping[str, Sequence[str]]) -> str:
    """Sorted ``quote(key, '~')=quote(value, '~')`` pairs joined by ``&`` (OAuth 1.0 style)."""
    pairs: list[str] = []
    for key, values in sorted((urllib.parse.quote(k, "~"), v) for k, v in params.items()):
        pairs.extend(
            f"{key}={value}" for value in sorted(urllib.parse.quote(v, "~") for v in values)
        )
    return "&".join(pairs)


def canon_x_duo_headers(headers: Mapping[str, str]) -> str:
    """SHA-512 (hex) of the ``X-Duo-*`` headers: lower-cased names, sorted, NUL-joined."""
    lowered = {k.lower(): v for k, v in headers.items() if k.lower().startswith("x-duo-")}
    parts: list[str] = []
    for name in sorted(lowered):
        parts.extend([name, lowered[name]])
    return hashlib.sha512("\x00".join(parts).encode()).hexdigest()


def canonicalize(
    version: int,
    *,
    date: str,
    method: str,
    host: str,
    path: str,
    params: Mapping[str, Sequence[str]],
    body: str = "",
    x_duo_headers: Mapping[str, str] | None = None,
) -> str:
    """The canonical request of signature ``version`` 2, 4 or 5."""
    if version not in {2, 4, 5}:
        raise ValueError(f"unsupported signature version {version}")
    lines = [date, method.upper(), host.lower(), path, canon_params(params)]
    if version in {4, 5}:
        lines.append(hashlib.sha512(body.encode()).hexdigest())
    if version == 5:  # noqa: PLR2004 - the version number
        lines.append(canon_x_duo_headers(x_duo_headers or {}))
    return "\n".join(lines)


def hmac_hex(skey: str, canonical: str, digest: str) -> str:
    """The hex HMAC of ``canonical`` keyed with ``skey`` (``digest``: sha1 or sha512)."""
    return hmac.new(skey.encode(), canonical.encode(), digest).hexdigest()


def _parse(text: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(text, keep_blank_values=True)


def _candidates(request: SignedRequest, date: str) -> Iterator[tuple[int, str, str]]:
    """Every ``(version, canonical request, digest)`` the client may have signed."""
    query = _parse(request.query)
    text = request.body.decode("utf-8", errors="replace")
    v2_params = {**query, **_parse(text)} if request.form_body else query
    date_, method, path = date, request.method, request.path
    for host in sorted(request.hosts):
        for digest in ("sha1", "sha512"):
            v2 = canonicalize(2, date=date_, method=method, host=host, path=path, params=v2_params)
            yield 2, v2, digest
        v4 = canonicalize(
            4, date=date_, method=method, host=host, path=path, params=query, body=text
        )
        yield 4, v4, "sha512"
        canonical = canonicalize(
            5,
            date=date_,
            method=method,
            host=host,
            path=path,
            params=query,
            body=text,
            x_duo_headers=request.headers,
        )
        yield 5, canonical, "sha512"


def verify_signature(request: SignedRequest, skey: str, signature: str, now: float) -> int:
    """The signature version that verifies; 401 40105 for a bad date, 40103 for a bad HMAC."""
    date = signed_date(request.headers)
    check_date(date, now)
    for version, canonical, digest in _candidates(request, date):
        if hmac.compare_digest(hmac_hex(skey, canonical, digest), signature.lower()):
            return version
    raise bad_signature()
