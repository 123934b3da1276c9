"""Pure decisions: what Duo does with a user, and how each ending reads in the id_token."""

from __future__ import annotations

from keycloak_duo_bridge.emulator.model import AuthResult, NewUserPolicy, Step, User

__all__ = [
    "ALLOW_UNENROLLED",
    "DENY_UNENROLLED",
    "PUSH_APPROVED",
    "PUSH_DENIED",
    "PUSH_TIMEOUT",
    "VALID_PASSCODE",
    "decide",
]

# Reasons and factors use Duo's authentication-log vocabulary (duo-protocol.md §4).
_OK = "Login Successful"
PUSH_APPROVED = AuthResult(allowed=True, factor="duo_push", reason="user_approved", status_msg=_OK)
VALID_PASSCODE = AuthResult(
    allowed=True, factor="duo_mobile_passcode", reason="valid_passcode", status_msg=_OK
)
ALLOW_UNENROLLED = AuthResult(
    allowed=True, factor="not_available", reason="allow_unenrolled_user", status_msg=_OK
)
PUSH_DENIED = AuthResult(
    allowed=False, factor="duo_push", reason="user_cancelled", status_msg="Login request denied."
)
PUSH_TIMEOUT = AuthResult(
    allowed=False, factor="duo_push", reason="no_response", status_msg="Login timed out."
)
DENY_UNENROLLED = AuthResult(
    allowed=False,
    factor="not_available",
    reason="deny_unenrolled_user",
    status_msg="Access denied: you are not enrolled in Duo.",
)

_HEADLESS = {"allow": PUSH_APPROVED, "deny": PUSH_DENIED, "timeout": PUSH_TIMEOUT}


def decide(policy: NewUserPolicy, user: User | None) -> AuthResult | Step:
    """Duo's answer before any page: an :class:`AuthResult`, or the prompt step to show.

    The integration's new-user policy settles unenrolled users first, as Duo does. Then a
    scripted ``behavior`` (``allow``, ``deny``, ``timeout``) answers in place of the person,
    and ``prompt`` shows the page: enrolment for new users, the factor choice otherwise.
    """
    enrolled = user is not None and user.enrolled
    if not enrolled and policy == "allow":
        return ALLOW_UNENROLLED
    if not enrolled and policy == "deny":
        return DENY_UNENROLLED
    behavior = "prompt" if user is None else user.behavior
    if behavior != "prompt":
        return _HEADLESS[behavior]
    return "choose" if enrolled else "enroll"
