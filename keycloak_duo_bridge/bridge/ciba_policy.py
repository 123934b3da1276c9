"""What the bridge answers Keycloak's CIBA channel, decided by pure functions (issue #16).

A CIBA login has no password step: Keycloak hands the whole authentication to the channel.
So Duo Push is the login's only factor, and the bridge answers ``SUCCEED`` only for a push
the user approved. Everything that skips Duo in a browser login (the realm or application
switched off, a bypass group, an opt-in user who has not activated Duo, Duo's own "allow"
for unknown users) and a fail-open realm's outage would let a username alone obtain tokens:
each is refused, with its reason, and no push is sent.

``UNAUTHORIZED``: the user, Duo's policy or the realm's policy said no. ``CANCELLED``: the
login could not be completed (Duo unreachable or misconfigured, no answer in time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from keycloak_duo_bridge.admin.effective import Decision
from keycloak_duo_bridge.duo.auth_protocol import PollResult, Preauth, PreauthResult

__all__ = [
    "ChannelStatus",
    "Outcome",
    "max_polls",
    "of_outage",
    "of_poll",
    "of_preauth",
    "refused_by_policy",
]

MAX_POLLS: Final = 300  # a hard bound whatever the request's lifetime
PUSH_FACTOR: Final = "duo_push"  # Duo's name for the factor (as in its authentication log)


class ChannelStatus(StrEnum):
    """Keycloak's ``AuthenticationChannelResponse.Status``."""

    SUCCEED = "SUCCEED"
    UNAUTHORIZED = "UNAUTHORIZED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Outcome:
    """The answer for Keycloak and why (logged; never a secret); for an approval, Duo's
    factor and transaction id too."""

    status: ChannelStatus
    reason: str
    factor: str = ""
    txid: str = ""


def refused_by_policy(decision: Decision) -> Outcome:
    """The realm's policy asks no Duo of this login: with no other factor, refuse it."""
    outcome = decision.outcome.value.replace(" ", "_")
    return Outcome(ChannelStatus.UNAUTHORIZED, f"no_second_factor:{outcome}")


def of_preauth(preauth: Preauth) -> Outcome | None:
    """None when a push can be sent; otherwise the refusal."""
    if preauth.result is PreauthResult.AUTH:
        if preauth.push_capable:
            return None
        # CIBA cannot carry a passcode (Keycloak refuses user_code): refused, named apart
        reason = "passcode_required" if preauth.passcode_capable else "no_push_device"
        return Outcome(ChannelStatus.UNAUTHORIZED, reason)
    if preauth.result is PreauthResult.ENROLL:
        return Outcome(ChannelStatus.UNAUTHORIZED, "not_enrolled")
    if preauth.result is PreauthResult.ALLOW:
        return Outcome(ChannelStatus.UNAUTHORIZED, "no_second_factor:duo_allow")
    return Outcome(ChannelStatus.UNAUTHORIZED, "duo_deny")


_FINAL: Final = {
    PollResult.ALLOW: Outcome(ChannelStatus.SUCCEED, "user_approved", factor=PUSH_FACTOR),
    PollResult.DENY: Outcome(ChannelStatus.UNAUTHORIZED, "duo_deny"),
    PollResult.FRAUD: Outcome(ChannelStatus.UNAUTHORIZED, "duo_fraud"),
    PollResult.TIMEOUT: Outcome(ChannelStatus.CANCELLED, "duo_timeout"),
}


def of_poll(result: PollResult) -> Outcome | None:
    """None while the phone has not answered; otherwise the answer."""
    return _FINAL.get(result)


def of_outage(*, fail_open: bool) -> Outcome:
    """Duo did not answer: cancelled. Fail-open does not apply, Duo being the only factor."""
    reason = "duo_unavailable:fail_open_not_applied" if fail_open else "duo_unavailable"
    return Outcome(ChannelStatus.CANCELLED, reason)


def max_polls(*, now: float, expires: float, interval: float) -> int:
    """How many ``auth_status`` calls fit before the request expires (at least one, at most
    :data:`MAX_POLLS`)."""
    return max(1, min(MAX_POLLS, math.floor((expires - now) / interval)))
