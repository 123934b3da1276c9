"""Walk a login without a browser: an HTTP client that follows Keycloak's forms.

Used by ``keycloak-duo-bridge demo --walk`` and the benchmarks. It records every hop with
the server's time for it, so the Duo hop (bridge plus Duo) can be told apart from Keycloak.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.cookiejar
import re
import secrets
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx2

from keycloak_duo_bridge import jws
from keycloak_duo_bridge.errors import BridgeError

_FORM_ACTION = re.compile(r'<form[^>]*\baction="([^"]+)"', re.IGNORECASE)
_ERROR = re.compile(
    r'(?:class="[^"]*(?:kc-feedback-text|alert-error|pf-m-danger)[^"]*"[^>]*>'
    r'|<div id="kc-error-message">\s*<p class="instruction">)(.*?)<',
    re.DOTALL,
)
_MAX_HOPS = 30


class LoopbackCookiePolicy(http.cookiejar.DefaultCookiePolicy):
    """Send ``Secure`` cookies to ``http://`` loopback hosts, as browsers do.

    Browsers treat ``http://127.0.0.1`` and ``http://localhost`` as secure contexts, and
    Keycloak marks its session cookies ``Secure``; without this the sandbox's plain-HTTP
    Keycloak would never get its cookies back from a scripted client.
    """

    def return_ok_secure(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        host = urlsplit(request.get_full_url()).hostname or ""
        if host in _LOOPBACK:
            return True
        return bool(super().return_ok_secure(cookie, request))


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def browser_like_client(verify: ssl.SSLContext | bool = True) -> httpx2.Client:  # noqa: FBT001, FBT002
    """An HTTP client that keeps cookies the way a browser on this machine would."""
    client = httpx2.Client(verify=verify, timeout=httpx2.Timeout(30.0))
    client.cookies.jar.set_policy(LoopbackCookiePolicy())
    return client


class WalkError(BridgeError):
    """The login did not reach the application."""


@dataclass(frozen=True)
class Hop:
    method: str
    url: str
    status: int
    seconds: float

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc


@dataclass
class Walk:
    hops: list[Hop] = field(default_factory=list)
    tokens: dict[str, Any] = field(default_factory=dict)
    id_claims: dict[str, Any] = field(default_factory=dict)
    access_claims: dict[str, Any] = field(default_factory=dict)
    # The query the application got back besides the code, e.g. ``kc_action_status``.
    returned: dict[str, str] = field(default_factory=dict)

    def seconds_at(self, *hosts: str) -> float:
        """Server time spent at these hosts (``host:port``)."""
        return sum(h.seconds for h in self.hops if h.host in hosts)


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    names = list(parse_qs(parts.query, keep_blank_values=True))
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{'&'.join(n + '=…' for n in names)}"


def _page_problem(body: str) -> str:
    match = _ERROR.search(body)
    if match:
        return html.unescape(match.group(1)).strip()
    title = re.search(r"<title>(.*?)</title>", body, re.DOTALL)
    return html.unescape(title.group(1)).strip() if title else "an unexpected page"


def walk_login(
    *,
    keycloak_url: str,
    realm: str,
    client_id: str,
    redirect_uri: str,
    username: str,
    password: str,
    verify: ssl.SSLContext | bool = True,
    extra_form: Callable[[str], dict[str, str] | None] | None = None,
    client: httpx2.Client | None = None,
    extra_query: Mapping[str, str] | None = None,
) -> Walk:
    """Log ``username`` in to ``client_id`` and return the hops, tokens and claims.

    ``extra_form(page_html)`` may answer a further Keycloak form (e.g. an OTP code).
    ``extra_query`` adds authorization request parameters (e.g. ``kc_action``); with a
    ``client`` that holds an SSO session, the login needs no password form.
    """
    own = client is None
    session = client or browser_like_client(verify)
    try:
        return _walk(
            session,
            keycloak_url=keycloak_url,
            realm=realm,
            client_id=client_id,
            redirect_uri=redirect_uri,
            username=username,
            password=password,
            extra_form=extra_form,
            extra_query=extra_query or {},
        )
    finally:
        if own:
            session.close()


def _walk(
    session: httpx2.Client,
    *,
    keycloak_url: str,
    realm: str,
    client_id: str,
    redirect_uri: str,
    username: str,
    password: str,
    extra_form: Callable[[str], dict[str, str] | None] | None,
    extra_query: Mapping[str, str],
) -> Walk:
    walk = Walk()
    base = f"{keycloak_url.rstrip('/')}/realms/{realm}/protocol/openid-connect"
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": "openid",
        "state": secrets.token_urlsafe(16),
        "nonce": secrets.token_urlsafe(16),
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
        **extra_query,
    }
    response = _send(session, walk, "GET", f"{base}/auth?{urlencode(query)}")
    form: dict[str, str] | None = {"username": username, "password": password}
    for _ in range(_MAX_HOPS):
        if response.is_redirect:
            location = urljoin(str(response.url), response.headers["location"])
            if location.startswith(redirect_uri):
                returned = parse_qs(urlsplit(location).query)
                code = returned.pop("code", None)
                walk.returned = {name: values[0] for name, values in returned.items()}
                if not code:
                    raise WalkError(f"the application got no code: {_redact(location)}")
                return _finish(
                    session,
                    walk,
                    base=base,
                    client_id=client_id,
                    redirect_uri=redirect_uri,
                    code=code[0],
                    verifier=verifier,
                )
            response = _send(session, walk, "GET", location)
            continue
        body = response.text
        if form is None and extra_form is not None:  # a further form, e.g. OTP set-up
            form = extra_form(body)
        action = _FORM_ACTION.search(body)
        if response.status_code != httpx2.codes.OK or action is None or form is None:
            raise WalkError(
                f"the login stopped at {_redact(str(response.url))}: {_page_problem(body)}"
            )
        target = urljoin(str(response.url), html.unescape(action.group(1)))
        response = _send(session, walk, "POST", target, data=form)
        form = None
    raise WalkError("the login went round in circles")


def _send(
    session: httpx2.Client, walk: Walk, method: str, url: str, data: dict[str, str] | None = None
) -> httpx2.Response:
    try:
        response = session.request(method, url, data=data, follow_redirects=False)
    except httpx2.HTTPError as exc:
        raise WalkError(f"{method} {_redact(url)} failed: {type(exc).__name__}") from exc
    walk.hops.append(
        Hop(method, _redact(url), response.status_code, response.elapsed.total_seconds())
    )
    return response


def _finish(
    session: httpx2.Client,
    walk: Walk,
    *,
    base: str,
    client_id: str,
    redirect_uri: str,
    code: str,
    verifier: str,
) -> Walk:
    form = {
        "grant_type": "authorization_code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "code": code,
        "code_verifier": verifier,
    }
    response = _send(session, walk, "POST", f"{base}/token", data=form)
    if response.status_code != httpx2.codes.OK:
        raise WalkError(f"the token request failed: {response.text[:200]}")
    walk.tokens = response.json()
    try:  # shown, not trusted: the walk only reports what Keycloak issued
        walk.id_claims = jws.parse(walk.tokens["id_token"]).claims
        walk.access_claims = jws.parse(walk.tokens["access_token"]).claims
    except jws.JwsError as exc:  # pragma: no cover - Keycloak never repeats a member
        raise WalkError(f"Keycloak issued a token this reader refuses: {exc}") from None
    return walk
