"""The prompt a person uses in a browser: enrolment, Duo Push (approve/deny), passcode."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge.duo.phone_numbers import mask, normalize_e164
from keycloak_duo_bridge.emulator._http import connection, emulator_state
from keycloak_duo_bridge.emulator.model import AuthResult, Transaction
from keycloak_duo_bridge.emulator.oauth import callback_url
from keycloak_duo_bridge.emulator.pages import render
from keycloak_duo_bridge.emulator.policy import PUSH_APPROVED, PUSH_DENIED, VALID_PASSCODE
from keycloak_duo_bridge.emulator.state import EmulatorState

__all__ = ["PROMPT_PATH", "routes"]

PROMPT_PATH = "/frame/prompt/{txn_id}"
EXPIRED = "This login request has expired. Go back to the application and sign in again."
FINISHED = (
    "This login is already finished, and the application has its answer. Go back to the"
    " application; if it did not sign you in, sign in again there."
)
STALE = "That page was out of date. This is where your login stands now."
BAD_PHONE = "Enter your mobile number in international format, for example +14155550123."
BAD_PASSCODE = "Incorrect passcode. Try again."

# Which actions each step accepts.
_ACTIONS = {
    "enroll": {"enroll"},
    "choose": {"push", "passcode"},
    "pushed": {"approve", "deny"},
    "denied": {"return"},
}


def _show(txn: Transaction, state: EmulatorState, *, status_code: int = 200) -> Response:
    user = state.user(txn.username)
    phone = mask(None if user is None else user.phone)
    context = {"txn": txn, "phone": phone, "message": txn.message}
    return render("prompt.html", context, status_code=status_code)


def _again(txn: Transaction) -> Response:
    return RedirectResponse(f"/frame/prompt/{txn.txn_id}", status_code=303)


def _finish(request: Request, txn: Transaction, outcome: AuthResult) -> Response:
    state = emulator_state(request)
    code = state.issue_code(txn, outcome)
    state.record(
        "prompt",
        "allow" if outcome.allowed else "deny",
        client_id=txn.client_id,
        username=txn.username,
        detail=outcome.reason,
        connection=connection(request),
    )
    return RedirectResponse(callback_url(txn, code), status_code=303)


def _gone(state: EmulatorState, txn_id: str) -> Response:
    """A prompt that is no longer open: finished (a Back after it ended) or expired."""
    if state.finished(txn_id):
        context = {"title": "Login finished", "message": FINISHED}
    else:
        context = {"title": "Login expired", "message": EXPIRED}
    return render("gone.html", context, status_code=404)


async def show_prompt(request: Request) -> Response:
    """``GET``: the current step of an open prompt."""
    state = emulator_state(request)
    txn = state.transaction(request.path_params["txn_id"])
    if txn is None:
        return _gone(state, request.path_params["txn_id"])
    return _show(txn, state)


async def answer_prompt(request: Request) -> Response:
    """``POST``: the person's answer to the current step."""
    state = emulator_state(request)
    txn = state.transaction(request.path_params["txn_id"])
    if txn is None:
        return _gone(state, request.path_params["txn_id"])
    form = await request.form()
    action = str(form.get("action", ""))
    if action not in _ACTIONS[txn.step]:
        # A form from a page the login has moved past (Back, a second tab): show the step.
        txn.message = STALE
        return _again(txn)
    txn.message = ""
    answer = _HANDLERS[action]
    return answer(request, txn, {k: v for k, v in form.items() if isinstance(v, str)})


def _note(request: Request, txn: Transaction, outcome: str, detail: str = "") -> None:
    emulator_state(request).record(
        "prompt",
        outcome,
        client_id=txn.client_id,
        username=txn.username,
        detail=detail,
        connection=connection(request),
    )


def _enroll(request: Request, txn: Transaction, form: dict[str, str]) -> Response:
    state = emulator_state(request)
    phone = normalize_e164(form.get("phone", ""))
    if phone is None:
        txn.message = BAD_PHONE
        return _show(txn, state, status_code=422)
    state.enroll(txn.username, phone)
    _note(request, txn, "enrolled", mask(phone))
    txn.step = "choose"
    return _again(txn)


def _push(request: Request, txn: Transaction, form: dict[str, str]) -> Response:
    del form
    _note(request, txn, "pushed")
    txn.step = "pushed"
    return _again(txn)


def _passcode(request: Request, txn: Transaction, form: dict[str, str]) -> Response:
    passcode = form.get("passcode", "").strip()
    if emulator_state(request).use_passcode(txn.username, passcode):
        return _finish(request, txn, VALID_PASSCODE)
    _note(request, txn, "invalid_passcode")
    txn.message = BAD_PASSCODE
    return _again(txn)


def _approve(request: Request, txn: Transaction, form: dict[str, str]) -> Response:
    del form
    return _finish(request, txn, PUSH_APPROVED)


def _deny(request: Request, txn: Transaction, form: dict[str, str]) -> Response:
    del form
    _note(request, txn, "denied", PUSH_DENIED.reason)
    txn.step = "denied"
    txn.outcome = PUSH_DENIED
    return _again(txn)


def _return(request: Request, txn: Transaction, form: dict[str, str]) -> Response:
    """Leave the denial page: the client learns of the denial from the token."""
    del form
    return _finish(request, txn, txn.outcome or PUSH_DENIED)


Handler = Callable[[Request, Transaction, dict[str, str]], Response]
_HANDLERS: dict[str, Handler] = {
    "enroll": _enroll,
    "push": _push,
    "passcode": _passcode,
    "approve": _approve,
    "deny": _deny,
    "return": _return,
}


def routes() -> list[Route]:
    """The prompt routes."""
    return [
        Route(PROMPT_PATH, show_prompt, methods=["GET"]),
        Route(PROMPT_PATH, answer_prompt, methods=["POST"]),
    ]
