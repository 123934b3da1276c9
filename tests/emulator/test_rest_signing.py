"""Duo's request signatures: the emulator's checks against ``duo_client``'s own signing."""

from __future__ import annotations

import base64
import email.utils
import hashlib
import time
from typing import Any

import duo_client
import duo_client.client as duo
import httpx2
import pytest

from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.emulator.client import ApiCredentials
from keycloak_duo_bridge.emulator.errors import RestApiError
from keycloak_duo_bridge.emulator.signing import (
    SKEW_LIMIT,
    SignedRequest,
    canon_params,
    canon_x_duo_headers,
    canonicalize,
    check_date,
    parse_authorization,
    signed_date,
    verify_signature,
)
from tests.emulator.conftest import RestClients

# duo_client 5.7's https_wrapper builds ssl.SSLContext(ssl.PROTOCOL_TLS), which Python
# deprecates; the client is used unmodified, so only that warning is ignored.
pytestmark = pytest.mark.filterwarnings("ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning")

IKEY = "DIWJ8X6AEYOR5OMC6TQ1"
SKEY = "Zh5eGmUq9zpfQnyUIu5OL9iWoMMv5ZNmk3zLJ4Ep"
HOST = "api-xxxxxxxx.duosecurity.com"
PARAMS: list[dict[str, Any]] = [
    {},
    {"username": "ada"},
    {"realname": "First Last", "username": "root", "~tilde": "a~b"},
    {"list": ["b", "a", "c"], "email": "x@example.com", "ünï": "cödé"},
    {"async": "1", "factor": "push", "pushinfo": "from=login%20portal&domain=example.com"},
]


def _date(offset: float = 0) -> str:
    return email.utils.formatdate(time.time() + offset)


def _request(
    method: str, path: str, params: dict[str, Any], version: int, **headers: str
) -> tuple[SignedRequest, str]:
    """What ``duo_client``'s ``api_call`` would send, as the server sees it, and its date."""
    date = _date()
    in_body = method in {"POST", "PUT", "PATCH"}
    extra = {k.replace("_", "-"): v for k, v in headers.items()}
    if version in {4, 5} and in_body:
        body, query, signed_params = duo.Client.canon_json(params), "", {}
    else:
        body, signed_params = (None if version == 2 else ""), duo.normalize_params(params)
        query = "" if in_body else httpx2.QueryParams(params).__str__()
    form = ""
    if version == 2 and in_body:
        form = httpx2.QueryParams(params).__str__()
    auth = duo.sign(
        IKEY,
        SKEY,
        method,
        HOST,
        path,
        date,
        version,
        signed_params,
        body=body,
        additional_headers=extra if version == 5 else None,
    )
    request = SignedRequest(
        method=method,
        hosts=frozenset({HOST}),
        path=path,
        query=query,
        body=(form or body or "").encode(),
        form_body=bool(form),
        headers={"date": date, **{k.lower(): v for k, v in extra.items()}},
    )
    return request, auth


def _signature(auth: str) -> str:
    return parse_authorization(auth)[1]


@pytest.mark.parametrize("params", PARAMS)
def test_canon_params_matches_duo_client(params: dict[str, Any]) -> None:
    """Parameters canonicalize byte for byte as duo_client's canon_params does."""
    listed = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    assert canon_params(listed) == duo.canon_params(duo.normalize_params(params))


def test_canon_x_duo_headers_matches_duo_client() -> None:
    """The X-Duo-* header digest matches duo_client's, whatever the names' case."""
    headers = {"X-Duo-Zeta": "z", "x-duo-alpha": "a b"}
    assert canon_x_duo_headers(headers) == duo.canon_x_duo_headers(headers)
    assert canon_x_duo_headers({}) == duo.canon_x_duo_headers(None)
    assert canon_x_duo_headers({"Other": "x"}) == duo.canon_x_duo_headers({})


@pytest.mark.parametrize("version", [2, 4, 5])
@pytest.mark.parametrize("params", PARAMS)
def test_canonicalize_matches_duo_client(version: int, params: dict[str, Any]) -> None:
    """Each signature version's canonical request equals duo_client's canonicalize."""
    date = _date()
    body = duo.Client.canon_json(params) if version != 2 else ""
    listed = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    extra = {"X-Duo-Test": "1"}
    ours = canonicalize(
        version,
        date=date,
        method="post",
        host=HOST.upper(),
        path="/auth/v2/auth",
        params=listed,
        body=body,
        x_duo_headers=extra,
    )
    theirs = duo.canonicalize(
        "post",
        HOST.upper(),
        "/auth/v2/auth",
        duo.normalize_params(params),
        date,
        version,
        body=body if version != 2 else None,
        additional_headers=extra,
    )
    assert ours == theirs


@pytest.mark.parametrize("version", [1, 3, 6])
def test_canonicalize_refuses_other_versions(version: int) -> None:
    """Only v2, v4 and v5 bind the date; other versions are not canonicalized."""
    with pytest.raises(ValueError, match="unsupported"):
        canonicalize(version, date="", method="GET", host=HOST, path="/", params={})


@pytest.mark.parametrize(
    ("method", "version", "expected"),
    [
        ("GET", 2, 2),
        ("POST", 2, 2),
        ("DELETE", 2, 2),
        ("GET", 4, 4),
        ("POST", 4, 4),
        ("GET", 5, 5),
        ("POST", 5, 5),
    ],
)
def test_verify_accepts_duo_client_signatures(method: str, version: int, expected: int) -> None:
    """A request signed by duo_client.sign verifies and reports its signature version."""
    params = {"username": "ada", "factor": "push", "pushinfo": "a=b c"}
    request, auth = _request(method, "/auth/v2/auth", params, version, X_Duo_Trace="t1")
    assert verify_signature(request, SKEY, _signature(auth), time.time()) == expected


def test_verify_accepts_v2_hmac_sha1() -> None:
    """v2 signed with HMAC-SHA1 (Duo's documented digest) verifies too."""
    date = _date()
    params = duo.normalize_params({"username": "ada"})
    auth = duo.sign(
        IKEY, SKEY, "GET", HOST, "/auth/v2/check", date, 2, params, digestmod=hashlib.sha1
    )
    request = SignedRequest(
        "GET",
        frozenset({HOST}),
        "/auth/v2/check",
        "username=ada",
        b"",
        form_body=False,
        headers={"date": date},
    )
    assert verify_signature(request, SKEY, _signature(auth), time.time()) == 2


def test_verify_refuses_v1() -> None:
    """A v1 signature (no date in it, so replayable) is refused as an invalid signature."""
    date = _date()
    auth = duo.sign(IKEY, SKEY, "GET", HOST, "/auth/v2/check", date, 1, {})
    request = SignedRequest(
        "GET", frozenset({HOST}), "/auth/v2/check", "", b"", form_body=False, headers={"date": date}
    )
    with pytest.raises(RestApiError) as caught:
        verify_signature(request, SKEY, _signature(auth), time.time())
    assert caught.value.body() == {
        "stat": "FAIL",
        "code": 40103,
        "message": "Invalid signature in request credentials",
    }
    assert caught.value.status == 401


@pytest.mark.parametrize("tamper", ["skey", "param", "host", "path", "header"])
def test_verify_refuses_tampering(tamper: str) -> None:
    """Another key, parameter, host, path or X-Duo header breaks the signature (40103)."""
    request, auth = _request("POST", "/auth/v2/auth", {"username": "ada"}, 5, X_Duo_A="1")
    skey = SKEY
    if tamper == "skey":
        skey = SKEY[::-1]
    elif tamper == "param":
        request = SignedRequest(**{**request.__dict__, "body": b'{"username":"eve"}'})
    elif tamper == "host":
        request = SignedRequest(**{**request.__dict__, "hosts": frozenset({"evil.example"})})
    elif tamper == "path":
        request = SignedRequest(**{**request.__dict__, "path": "/auth/v2/preauth"})
    else:
        request = SignedRequest(
            **{**request.__dict__, "headers": {**request.headers, "x-duo-a": "2"}}
        )
    with pytest.raises(RestApiError, match="40103"):
        verify_signature(request, skey, _signature(auth), time.time())


def test_x_duo_date_is_the_signed_date() -> None:
    """X-Duo-Date, when sent, is the date the signature covers (and the one checked)."""
    assert signed_date({"date": "a", "x-duo-date": "b"}) == "b"
    assert signed_date({"date": "a"}) == "a"
    with pytest.raises(RestApiError, match="40105") as caught:
        signed_date({})
    assert caught.value.detail == "the Date header is missing"


@pytest.mark.parametrize(
    ("offset", "detail"),
    [
        (-SKEW_LIMIT - 30, "the request date is too old"),
        (SKEW_LIMIT + 30, "the request date is too new"),
    ],
)
def test_check_date_refuses_skew(offset: float, detail: str) -> None:
    """A date more than five minutes off is refused with 401 40105."""
    with pytest.raises(RestApiError) as caught:
        check_date(_date(offset), time.time())
    assert (caught.value.status, caught.value.code, caught.value.detail) == (401, 40105, detail)
    check_date(_date(offset / 2), time.time())


def test_check_date_refuses_garbage() -> None:
    """A date that does not parse is refused with 40105."""
    with pytest.raises(RestApiError, match="unparsable"):
        check_date("yesterday", time.time())


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer abc",
        "Basic",
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Basic " + base64.b64encode(b":sig").decode(),
        "Basic " + base64.b64encode(b"ikey:").decode(),
        "Basic " + base64.b64encode("ïkey:sig".encode()).decode(),
    ],
)
def test_parse_authorization_refuses_malformed(header: str | None) -> None:
    """A missing or malformed Authorization header is 401 40101, Missing request credentials."""
    with pytest.raises(RestApiError) as caught:
        parse_authorization(header)
    assert caught.value.body() == {
        "stat": "FAIL",
        "code": 40101,
        "message": "Missing request credentials",
    }


# Through the running emulator, with the unmodified client ------------------------------
@pytest.mark.parametrize("version", [2, 4, 5])
def test_every_signature_version_is_accepted(
    rest: RestClients, auth_creds: ApiCredentials, version: int
) -> None:
    """duo_client signing with v2, v4 or v5 is accepted on GET and POST calls."""
    client = rest.make(duo_client.Auth, auth_creds, sig_version=version)
    assert abs(client.check()["time"] - time.time()) < 5
    assert client.preauth(username="nobody-at-all")["result"] == "enroll"


def test_v2_with_hmac_sha1_is_accepted(rest: RestClients, auth_creds: ApiCredentials) -> None:
    """duo_client with sig_version=2 and digestmod=sha1 (Duo's documented v2) is accepted."""
    client = rest.make(duo_client.Auth, auth_creds, sig_version=2, digestmod=hashlib.sha1)
    assert "time" in client.check()


def test_v5_covers_additional_x_duo_headers(rest: RestClients, auth_creds: ApiCredentials) -> None:
    """v5 signs additional X-Duo-* headers; the emulator includes them in its check."""
    client = rest.make(duo_client.Auth, auth_creds)
    response, data = client.api_call(
        "POST", "/auth/v2/preauth", {"username": "x"}, additional_headers={"X-Duo-Trace": "abc"}
    )
    assert client.parse_json_response(response, data)["result"] == "enroll"


def test_wrong_secret_is_an_invalid_signature(
    rest: RestClients, auth_creds: ApiCredentials
) -> None:
    """The wrong skey gets Duo's 401 40103 text, as duo_client reports it."""
    wrong = ApiCredentials(auth_creds.ikey, "x" * 40, auth_creds.api_host, "authapi")
    with pytest.raises(RuntimeError) as caught:
        rest.make(duo_client.Auth, wrong).check()
    assert str(caught.value) == "Received 401 Invalid signature in request credentials"
    assert caught.value.status == 401  # type: ignore[attr-defined]


def test_unknown_ikey_is_refused(rest: RestClients, auth_creds: ApiCredentials) -> None:
    """An ikey the emulator does not know gets 401 40102."""
    unknown = ApiCredentials(
        "DIUNKNOWNUNKNOWNUNKN", auth_creds.skey, auth_creds.api_host, "authapi"
    )
    with pytest.raises(
        RuntimeError, match=r"^Received 401 Invalid integration key in request credentials$"
    ):
        rest.make(duo_client.Auth, unknown).check()


def test_web_sdk_ikey_is_refused(
    duo_emulator: RunningEmulator, rest: RestClients, auth_creds: ApiCredentials
) -> None:
    """A Web SDK (OIDC) integration's keys do not open the Auth API (401 40102)."""
    app = duo_emulator.control.add_integration()
    websdk = ApiCredentials(app.client_id, app.client_secret, auth_creds.api_host, "authapi")
    with pytest.raises(RuntimeError, match="Invalid integration key"):
        rest.make(duo_client.Auth, websdk).check()


def _raw(
    duo_emulator: RunningEmulator, creds: ApiCredentials, date: str | None, auth: str | None
) -> httpx2.Response:
    headers = {"Host": creds.host}
    if date is not None:
        headers["Date"] = date
    if auth is not None:
        headers["Authorization"] = auth
    import ssl  # noqa: PLC0415

    context = ssl.create_default_context(cafile=str(duo_emulator.ca_path))
    with httpx2.Client(verify=context, timeout=10) as client:
        return client.get(f"https://localhost:{creds.port}/auth/v2/check", headers=headers)


@pytest.mark.parametrize(("offset", "word"), [(-900, "old"), (900, "new")])
def test_skewed_date_is_refused(
    duo_emulator: RunningEmulator, auth_creds: ApiCredentials, offset: float, word: str
) -> None:
    """A correctly signed request dated 15 minutes off gets 401 40105."""
    date = _date(offset)
    auth = duo.sign(
        auth_creds.ikey,
        auth_creds.skey,
        "GET",
        auth_creds.host,
        "/auth/v2/check",
        date,
        5,
        {},
        body="",
    )
    response = _raw(duo_emulator, auth_creds, date, auth)
    assert response.status_code == 401
    body = response.json()
    assert (body["stat"], body["code"], body["message"]) == ("FAIL", 40105, "Invalid request date")
    assert word in body["message_detail"]


def test_missing_credentials_and_date(
    duo_emulator: RunningEmulator, auth_creds: ApiCredentials
) -> None:
    """No Authorization is 40101; a signed request without any Date is 40105."""
    assert _raw(duo_emulator, auth_creds, _date(), None).json()["code"] == 40101
    auth = duo.sign(
        auth_creds.ikey,
        auth_creds.skey,
        "GET",
        auth_creds.host,
        "/auth/v2/check",
        "",
        5,
        {},
        body="",
    )
    assert _raw(duo_emulator, auth_creds, None, auth).json()["code"] == 40105


def test_secret_never_in_events_or_repr(
    duo_emulator: RunningEmulator, rest: RestClients, auth_creds: ApiCredentials
) -> None:
    """The skey appears in no event, no control answer and no repr."""
    rest.make(duo_client.Auth, auth_creds).check()
    assert auth_creds.skey not in repr(auth_creds)
    assert auth_creds.skey not in str(duo_emulator.control.events())
    credential = duo_emulator.state.rest.credential(auth_creds.ikey)
    assert credential is not None
    assert auth_creds.skey not in repr(credential)
    assert auth_creds.skey not in str(credential.public())
