"""Per identity-provider Duo policy: its stored form, validation, and the admin's write.

A realm administrator chooses, per identity provider of the realm, whether a login through
it passes Duo: ``duo`` (always, the default), ``trust-upstream-mfa`` (not when the token
the IdP gave Keycloak proves its own MFA: an ``amr`` or an ``acr`` value, or a SAML
``AuthnContextClassRef``, on the policy's allow-list; otherwise Duo runs), or ``off``
(never; only with an explicit confirmation, and ``explain`` flags it).

It is stored in one realm attribute, ``kdb.duo.idps``, a JSON object of alias to policy,
which only realm administrators write (through the admin service, like ``kdb.duo.apps``):
never on the identity provider's config or its mappers, a client or a user. It is the
realm's own, never inherited from a partner. ``duo`` is the absence of an entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.attributes import IdpMode
from keycloak_duo_bridge.errors import ConfigError

MAX_PROOFS: Final = 16
MAX_PROOF_LENGTH: Final = 256
_PROOF = re.compile(r"^[\x21-\x7e]{1,256}$")  # printable, no spaces
_ALIAS = re.compile(r"^[A-Za-z0-9._-]{1,255}$")


@dataclass(frozen=True)
class IdpPolicy:
    """One identity provider's Duo policy, and for ``trust-upstream-mfa`` its proofs."""

    mode: IdpMode = IdpMode.DUO
    amr: tuple[str, ...] = ()
    acr: tuple[str, ...] = ()
    saml_context: tuple[str, ...] = ()

    def proofs(self) -> str:
        """The allow-lists as ``explain`` shows them, e.g. ``amr mfa,hwk; acr gold``."""
        parts = [
            f"{name} {','.join(values)}"
            for name, values in (
                ("amr", self.amr),
                ("acr", self.acr),
                ("saml-context", self.saml_context),
            )
            if values
        ]
        return "; ".join(parts)

    def stored(self) -> dict[str, object]:
        body: dict[str, object] = {"mode": self.mode.value}
        for name, values in (
            ("amr", self.amr),
            ("acr", self.acr),
            ("saml_context", self.saml_context),
        ):
            if values:
                body[name] = list(values)
        return body


def parse_alias(text: str) -> str:
    if not _ALIAS.match(text):
        raise ConfigError(f"an identity-provider alias is letters, digits, . _ -, not {text!r:.40}")
    return text


def parse_mode(text: str) -> IdpMode:
    try:
        return IdpMode(text)
    except ValueError:
        choices = ", ".join(m.value for m in IdpMode)
        raise ConfigError(f"an identity provider's Duo policy is one of {choices}") from None


def _proofs(values: Iterable[object], what: str) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        if not isinstance(value, str) or not _PROOF.match(value):
            raise ConfigError(f"each {what} value is 1-{MAX_PROOF_LENGTH} printable characters")
        if value not in out:
            out.append(value)
    if len(out) > MAX_PROOFS:
        raise ConfigError(f"at most {MAX_PROOFS} {what} values")
    return tuple(out)


def policy_of(
    mode: str,
    *,
    amr: Iterable[object] = (),
    acr: Iterable[object] = (),
    saml_context: Iterable[object] = (),
) -> IdpPolicy:
    """A checked policy: ``trust-upstream-mfa`` needs at least one proof, the others none."""
    policy = IdpPolicy(
        parse_mode(mode),
        _proofs(amr, "amr"),
        _proofs(acr, "acr"),
        _proofs(saml_context, "SAML context class"),
    )
    if policy.mode is IdpMode.TRUST_UPSTREAM_MFA and not policy.proofs():
        raise ConfigError(
            "trust-upstream-mfa needs its proof: at least one amr, acr or SAML context value"
        )
    if policy.mode is not IdpMode.TRUST_UPSTREAM_MFA and policy.proofs():
        raise ConfigError(f"proof values belong to trust-upstream-mfa, not {policy.mode.value}")
    return policy


def parse_idps(text: str) -> dict[str, IdpPolicy]:
    """The stored JSON object ``{"<alias>": {"mode": ..., "amr": [..], ...}}``."""
    try:
        raw = json.loads(text)
    except ValueError:
        raise ConfigError("identity-provider policies must be a JSON object") from None
    if not isinstance(raw, dict):
        raise ConfigError("identity-provider policies must be a JSON object")
    out: dict[str, IdpPolicy] = {}
    for alias, body in raw.items():
        if not isinstance(body, dict) or not isinstance(body.get("mode"), str):
            raise ConfigError(f"the policy of identity provider {alias!r:.40} has no mode")
        for name in ("amr", "acr", "saml_context"):
            if not isinstance(body.get(name, []), list):
                raise ConfigError(f"the {name} of identity provider {alias!r:.40} is not a list")
        out[parse_alias(alias)] = policy_of(
            body["mode"],
            amr=body.get("amr", []),
            acr=body.get("acr", []),
            saml_context=body.get("saml_context", []),
        )
    return out


def format_idps(policies: Mapping[str, IdpPolicy]) -> str | None:
    """The stored form; ``duo`` is the absence of an entry, and no entries no attribute."""
    kept = {a: p.stored() for a, p in sorted(policies.items()) if p.mode is not IdpMode.DUO}
    return json.dumps(kept, sort_keys=True, separators=(",", ":")) if kept else None


def changed(
    current: Mapping[str, str], alias: str, policy: IdpPolicy, *, confirm_off: bool
) -> dict[str, str | None]:
    """The attribute change that gives ``alias`` this policy, from the realm's attributes.

    ``off`` needs ``confirm_off``: it lets every login through this IdP in without Duo. A
    stored value that does not parse is replaced only for the entries that do (an invalid
    one is refused, so a hand edit is never silently dropped).
    """
    if policy.mode is IdpMode.OFF and not confirm_off:
        raise ConfigError(
            f"off lets every login through identity provider {alias!r} in without Duo: "
            "confirm it (--confirm-off, or confirm_off in the API)"
        )
    text = current.get(attr.DUO_IDPS) or ""
    policies = parse_idps(text) if text else {}
    policies[parse_alias(alias)] = policy
    return {attr.DUO_IDPS: format_idps(policies)}
