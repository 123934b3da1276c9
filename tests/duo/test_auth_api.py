"""The bridge's Duo Auth API client: signing proven by the emulator's verifier and by
``duo_client``'s own canonical request, calls against the running emulator over TLS."""

from __future__ import annotations

import email.utils
import json
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import duo_client.client
import httpx2
import pytest

from keycloak_duo_bridge.duo import auth_protocol as proto
from keycloak_duo_bridge.duo import signing
from keycloak_duo_bridge.duo.auth_api import AuthApiClient
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials, PollResult, PreauthResult
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.emulator.signing import SignedRequest, parse_authorization
from keycloak_duo_bridge.emulator.signing import verify_signature as emulator_verify
from keycloak_duo_bridge.errors import DuoConfigError, DuoProtocolError, DuoUnavailableError
from tests.aio import run as run_async

T = TypeVar("T")
PHONE = "+14155550123"
CREDS = AuthApiCredentials("DIXXXXXXXXXXXXXXXXXX", "s" * 40, "api-test.duosecurity.com")


def run(
    emulator: RunningEmulator | None,
    work: Callable[[AuthApiClient], Awaitable[T]],
    transport: httpx2.AsyncBaseTransport | None = None,
) -> T:
    """Run ``work`` with a fresh client trusting the emulator's CA, on its own loop."""

    async def main() -> T:
        client = AuthApiClient(
            ca_file=emulator.ca_path if emulator else None,
            allow_any_host=True,
            transport=transport,
        )
        try:
            return await work(client)
        finally:
            await client.aclose()

    return run_async(main())


@pytest.fixture
def creds(auth_api_creds: AuthApiCredentials) -> AuthApiCredentials:
    """Fresh Auth API credentials at the emulator."""
    return auth_api_creds


@pytest.fixture
def username(ciba_username: str) -> str:
    """A username no other test uses."""
    return ciba_username


@pytest.fixture
def enrolled(duo_emulator: RunningEmulator, username: str) -> str:
    """A user enrolled with a phone; the username."""
    duo_emulator.control.set_user(username, enrolled=True, phone=PHONE)
    return username


def _as_received(call: proto.SignedCall) -> SignedRequest:
    url = urllib.parse.urlsplit(call.url)
    return SignedRequest(
        method=call.method,
        hosts=frozenset({url.netloc}),
        path=url.path,
        query=url.query,
        body=call.body,
        form_body=False,
        headers={k.lower(): v for k, v in call.headers.items()},
    )


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/auth/v2/auth_status", {"txid": "a b/c~d"}),
        ("POST", "/auth/v2/auth", {"username": "ann", "pushinfo": "binding_message=A1+B2"}),
        ("GET", "/auth/v2/check", {}),
    ],
)
def test_signature_is_version_5_by_the_emulators_verifier(
    method: str, path: str, params: dict[str, str]
) -> None:
    """Every call is signed with duo_client's default (v5), as the emulator's verifier finds."""
    now = time.time()
    call = proto.sign_call(CREDS, method, path, params, now=now)
    ikey, signature = parse_authorization(call.headers["Authorization"])
    assert ikey == CREDS.ikey
    assert emulator_verify(_as_received(call), CREDS.skey, signature, now) == 5


def test_canonical_request_is_duo_clients() -> None:
    """The canonical request equals duo_client's own canonicalize for v5, byte for byte."""
    date = email.utils.formatdate(0)
    params = {"txid": "x y", "a": "~1"}
    ours = signing.canonicalize(
        date=date, method="get", host="API-x.duosecurity.com", path="/p", params=params, body=""
    )
    theirs = duo_client.client.canonicalize(
        "GET",
        "API-x.duosecurity.com",
        "/p",
        duo_client.client.normalize_params(params),
        date,
        5,
        body="",
    )
    assert ours == theirs
    body = json.dumps({"username": "u"}, sort_keys=True, separators=(",", ":"))
    assert signing.canonicalize(
        date=date, method="POST", host="h", path="/p", params={}, body=body
    ) == duo_client.client.canonicalize("POST", "h", "/p", {}, date, 5, body=body)


def test_a_wrong_date_is_refused_by_the_verifier() -> None:
    """A signed call replayed 10 minutes later no longer verifies (the date is covered)."""
    now = time.time()
    call = proto.sign_call(CREDS, "GET", "/auth/v2/check", {}, now=now)
    _, signature = parse_authorization(call.headers["Authorization"])
    with pytest.raises(Exception, match="too old"):
        emulator_verify(_as_received(call), CREDS.skey, signature, now + 600)


def test_the_skey_never_shows_in_repr() -> None:
    """Credentials and signed calls keep the secret key out of their repr."""
    call = proto.sign_call(CREDS, "GET", "/auth/v2/check", {}, now=0)
    assert CREDS.skey not in repr(CREDS)
    assert "Basic" not in repr(call)


def test_check_accepts_good_credentials(
    duo_emulator: RunningEmulator, creds: AuthApiCredentials
) -> None:
    """/auth/v2/check passes with the emulator's credentials over TLS."""
    run(duo_emulator, lambda c: c.check(creds))


def test_check_refuses_a_wrong_skey(
    duo_emulator: RunningEmulator, creds: AuthApiCredentials
) -> None:
    """A wrong secret key is a configuration error (401), and the error names no secret."""
    wrong = AuthApiCredentials(creds.ikey, "w" * 40, creds.api_host)
    with pytest.raises(DuoConfigError, match="40103") as caught:
        run(duo_emulator, lambda c: c.check(wrong))
    assert "w" * 40 not in str(caught.value)


def test_a_host_that_is_not_duos_is_refused_before_any_call() -> None:
    """Without allow_any_host, an API host that is not Duo's is a configuration error."""

    async def work() -> None:
        client = AuthApiClient()
        try:
            await client.check(AuthApiCredentials("DI", "s", "internal.example:8080"))
        finally:
            await client.aclose()

    with pytest.raises(DuoConfigError, match="not a Duo API hostname"):
        run_async(work())


def test_unreachable_duo_is_unavailable() -> None:
    """A transport failure is an outage: DuoUnavailableError."""

    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    with pytest.raises(DuoUnavailableError, match="unreachable: ConnectError"):
        run(None, lambda c: c.check(CREDS), httpx2.MockTransport(refuse))


def test_preauth_tells_enrolled_from_unknown(
    duo_emulator: RunningEmulator, creds: AuthApiCredentials, enrolled: str, username: str
) -> None:
    """An enrolled user is auth with a phone that takes pushes and passcodes; an unknown one
    is enroll."""
    known = run(duo_emulator, lambda c: c.preauth(creds, enrolled))
    assert known == proto.Preauth(PreauthResult.AUTH, push_capable=True, passcode_capable=True)
    unknown = run(duo_emulator, lambda c: c.preauth(creds, username + "-new"))
    assert unknown.result is PreauthResult.ENROLL
    assert not unknown.push_capable


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("approve", PollResult.ALLOW),
        ("deny", PollResult.DENY),
        ("fraud", PollResult.FRAUD),
        ("timeout", PollResult.TIMEOUT),
    ],
)
def test_async_push_then_status_reads_the_phones_answer(
    duo_emulator: RunningEmulator,
    creds: AuthApiCredentials,
    enrolled: str,
    answer: Any,
    expected: PollResult,
) -> None:
    """An async push returns a txid at once; auth_status then reads the scripted answer."""
    duo_emulator.control.script_push(enrolled, answer)

    async def work(client: AuthApiClient) -> PollResult:
        txid = await client.push(creds, enrolled, binding_message="AB-12")
        return await client.auth_status(creds, txid)

    assert run(duo_emulator, work) is expected
    [push] = duo_emulator.control.pushes(enrolled)
    assert push["pushinfo"] == "binding_message=AB-12"


def test_status_waits_while_the_phone_has_not_answered(
    duo_emulator: RunningEmulator, creds: AuthApiCredentials, enrolled: str
) -> None:
    """Before the scripted delay is over, auth_status says waiting."""
    duo_emulator.control.script_push(enrolled, "approve", delay=30)

    async def work(client: AuthApiClient) -> PollResult:
        txid = await client.push(creds, enrolled, binding_message=None)
        return await client.auth_status(creds, txid)

    assert run(duo_emulator, work) is PollResult.WAITING
    assert duo_emulator.control.pushes(enrolled)[0]["pushinfo"] == ""


def test_an_unknown_txid_is_a_protocol_error(
    duo_emulator: RunningEmulator, creds: AuthApiCredentials
) -> None:
    """A 400 (invalid parameter) is DuoProtocolError."""
    with pytest.raises(DuoProtocolError, match="HTTP 400 40002"):
        run(duo_emulator, lambda c: c.auth_status(creds, "nosuchtxid"))


@pytest.mark.parametrize(
    ("status", "content", "error", "match"),
    [
        (500, b"oops", DuoUnavailableError, "HTTP 500"),
        (429, b"{}", DuoUnavailableError, "HTTP 429"),
        (200, b"<html>", DuoConfigError, "no JSON"),
        (200, b"[1]", DuoConfigError, "not its envelope"),
        (
            403,
            b'{"stat":"FAIL","code":40301,"message":"Access forbidden"}',
            DuoConfigError,
            "40301",
        ),
        (200, b'{"stat":"FAIL","code":40002}', DuoProtocolError, "HTTP 200 40002"),
    ],
)
def test_judge_translates_each_answer_once(
    status: int, content: bytes, error: type[Exception], match: str
) -> None:
    """Outages, refused credentials, non-envelopes and refusals map to the error tree."""
    with pytest.raises(error, match=match):
        proto.judge(status, content)


def test_answers_that_are_not_duos_are_protocol_errors() -> None:
    """Malformed preauth, auth and auth_status answers fail closed."""
    with pytest.raises(DuoProtocolError, match="not an object"):
        proto.preauth_result([])
    with pytest.raises(DuoProtocolError, match="unknown result"):
        proto.preauth_result({"result": "maybe"})
    with pytest.raises(DuoProtocolError, match="no txid"):
        proto.txid_of({"txid": ""})
    with pytest.raises(DuoProtocolError, match="not an object"):
        proto.poll_result("allow")


def test_an_unknown_status_reads_as_deny() -> None:
    """Only result and status both allow count as allow; anything else denies."""
    assert proto.poll_result({"result": "allow", "status": "bypass"}) is PollResult.DENY
    assert proto.poll_result({"result": "deny", "status": "deny"}) is PollResult.DENY
    assert proto.preauth_result({"result": "auth", "devices": "x"}).push_capable is False
