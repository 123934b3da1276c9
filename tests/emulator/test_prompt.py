"""The prompt's steps over HTTP (the browser tests drive the same pages in Chromium)."""

from __future__ import annotations

import httpx2
import pytest

from keycloak_duo_bridge.duo import jose
from keycloak_duo_bridge.emulator.assertions import CLIENT_ASSERTION_TYPE
from keycloak_duo_bridge.emulator.state import TRANSACTION_LIFETIME
from tests.emulator.conftest import AppUnderTest
from tests.emulator.helpers import REDIRECT_URI, assertion, authorize_url


def _open(emu: AppUnderTest, username: str) -> str:
    response = emu.client.get(authorize_url(emu.app, duo_uname=username))
    location: str = response.headers["location"]
    assert location.startswith("/frame/prompt/")
    return location


def _claims(emu: AppUnderTest, callback: httpx2.Response) -> dict[str, object]:
    assert callback.status_code == 303
    code = httpx2.URL(callback.headers["location"]).params["duo_code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion(emu.app, "/oauth/v1/token"),
    }
    body = emu.client.post("/oauth/v1/token", data=data).json()
    return jose.decode(body["id_token"], emu.app.client_secret)


def test_enrol_then_push_approve(emu: AppUnderTest) -> None:
    """A new user registers an E.164 phone, then approves a push: allowed."""
    page = _open(emu, "nia")
    bad = emu.client.post(page, data={"action": "enroll", "phone": "0612345678"})
    assert bad.status_code == 422
    assert "international format" in bad.text
    good = emu.client.post(page, data={"action": "enroll", "phone": "+44 20 7946 0958"})
    assert good.status_code == 303
    assert emu.state.user("nia").phone == "+442079460958"  # type: ignore[union-attr]
    assert "XXX-XXX-0958" in emu.client.get(page).text
    emu.client.post(page, data={"action": "push"})
    assert "Approve" in emu.client.get(page).text
    claims = _claims(emu, emu.client.post(page, data={"action": "approve"}))
    assert claims["auth_result"] == {
        "result": "allow",
        "status": "allow",
        "status_msg": "Login Successful",
    }


def test_push_deny(emu: AppUnderTest) -> None:
    """Denying the push shows Duo's denial; the code then says deny."""
    emu.state.put_user("dee", behavior="prompt", enrolled=True, phone="+15555550199")
    page = _open(emu, "dee")
    emu.client.post(page, data={"action": "push"})
    emu.client.post(page, data={"action": "deny"})
    assert "Access denied" in emu.client.get(page).text
    claims = _claims(emu, emu.client.post(page, data={"action": "return"}))
    assert claims["auth_result"]["status"] == "deny"  # type: ignore[index]


def test_passcode(emu: AppUnderTest) -> None:
    """A wrong passcode is refused on the page; the current one passes and is then replaced."""
    user = emu.state.put_user("pat", behavior="prompt", enrolled=True, phone="+15555550100")
    page = _open(emu, "pat")
    wrong = emu.client.post(page, data={"action": "passcode", "passcode": "000000x"})
    assert wrong.status_code == 303
    assert "Incorrect passcode" in emu.client.get(page).text
    claims = _claims(
        emu, emu.client.post(page, data={"action": "passcode", "passcode": user.passcode})
    )
    context = claims["auth_context"]
    assert context["factor"] == "duo_mobile_passcode"  # type: ignore[index]
    assert context["reason"] == "valid_passcode"  # type: ignore[index]
    assert emu.state.user("pat").passcode != user.passcode  # type: ignore[union-attr]


def test_policy_deny_page_returns_a_deny_code(emu: AppUnderTest) -> None:
    """Leaving a policy denial page gives a code whose token says deny."""
    from keycloak_duo_bridge.emulator.model import Integration  # noqa: PLC0415

    emu.state.add_integration(Integration(emu.app.client_id, emu.app.client_secret, "deny"))
    page = _open(emu, "nobody-yet")
    claims = _claims(emu, emu.client.post(page, data={"action": "return"}))
    assert claims["auth_context"]["reason"] == "deny_unenrolled_user"  # type: ignore[index]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unknown_prompt(emu: AppUnderTest, method: str) -> None:
    """An unknown prompt id shows that the login request expired."""
    response = emu.client.request(method, "/frame/prompt/nope", data={"action": "push"})
    assert response.status_code == 404
    assert "expired" in response.text


def test_prompt_expires(emu: AppUnderTest) -> None:
    """An open prompt expires after its lifetime."""
    page = _open(emu, "slow")
    emu.clock.now += TRANSACTION_LIFETIME + 1
    assert emu.client.get(page).status_code == 404


def test_finished_prompt_cannot_be_replayed(emu: AppUnderTest) -> None:
    """After the redirect back, the prompt is closed."""
    emu.state.put_user("once", behavior="prompt", enrolled=True, phone=None)
    page = _open(emu, "once")
    emu.client.post(page, data={"action": "push"})
    assert emu.client.post(page, data={"action": "approve"}).status_code == 303
    assert emu.client.post(page, data={"action": "approve"}).status_code == 404


def test_back_to_a_finished_prompt_says_one_thing(emu: AppUnderTest) -> None:
    """Back to a finished prompt says the login is finished, and blames no application."""
    emu.state.put_user("back", behavior="prompt", enrolled=True, phone=None)
    page = _open(emu, "back")
    emu.client.post(page, data={"action": "push"})
    emu.client.post(page, data={"action": "approve"})
    again = emu.client.get(page)
    assert again.status_code == 404
    assert "already finished" in again.text
    assert "expired" not in again.text
    assert "invalid request" not in again.text
    emu.clock.now += TRANSACTION_LIFETIME + 1
    later = emu.client.get(page)
    assert "expired" in later.text
    assert "already finished" not in later.text


def test_finished_prompts_are_forgotten_after_their_lifetime(emu: AppUnderTest) -> None:
    """The record of finished prompts does not grow without end."""
    emu.state.put_user("old", behavior="prompt", enrolled=True, phone=None)
    first = _open(emu, "old")
    emu.client.post(first, data={"action": "push"})
    emu.client.post(first, data={"action": "approve"})
    emu.clock.now += TRANSACTION_LIFETIME + 1
    later = emu.client.get(authorize_url(emu.app, duo_uname="old", exp=emu.clock.now + 300))
    second = later.headers["location"]
    emu.client.post(second, data={"action": "push"})
    emu.client.post(second, data={"action": "approve"})
    assert list(emu.state._finished) == [second.rsplit("/", 1)[-1]]


def test_action_out_of_step(emu: AppUnderTest) -> None:
    """A form from a page the login moved past shows the current step, with a note."""
    page = _open(emu, "eve")
    response = emu.client.post(page, data={"action": "approve"})
    assert (response.status_code, response.headers["location"]) == (303, page)
    shown = emu.client.get(page).text
    assert "That page was out of date" in shown
    assert "Protect your account" in shown
    assert emu.state.user("eve") is None


def test_passcode_option_says_where_passcodes_come_from(emu: AppUnderTest) -> None:
    """The passcode field links to the control API entry that holds the user's passcode."""
    emu.state.put_user("pia", behavior="prompt", enrolled=True, phone=None)
    shown = emu.client.get(_open(emu, "pia")).text
    assert 'href="/emulator/users/pia"' in shown
    assert "Duo Mobile app" in shown
    passcode = emu.client.get("/emulator/users/pia").json()["passcode"]
    assert passcode == emu.state.user("pia").passcode  # type: ignore[union-attr]


def test_home_page(emu: AppUnderTest) -> None:
    """The root URL is a small page naming the API host and the control API."""
    response = emu.client.get("/")
    assert response.status_code == 200
    assert '<code id="api-host">testserver</code>' in response.text
    assert 'href="/emulator/events"' in response.text


def test_prompt_events(emu: AppUnderTest) -> None:
    """Each step of the prompt is in the events list."""
    page = _open(emu, "ev")
    emu.client.post(page, data={"action": "enroll", "phone": "+15555550123"})
    emu.client.post(page, data={"action": "passcode", "passcode": "1"})
    emu.client.post(page, data={"action": "push"})
    emu.client.post(page, data={"action": "deny"})
    outcomes = [e["outcome"] for e in emu.state.events() if e["kind"] == "prompt"]
    assert outcomes == ["enrolled", "invalid_passcode", "pushed", "denied"]
