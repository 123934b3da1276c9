"""The "step-up" browser flow: password at level 1, Duo at level 2, as Keycloak's own
level-of-authentication conditions decide.

``kdb-step-up-browser`` (bound as the realm's browser flow)::

    Cookie                                   ALTERNATIVE
    Identity Provider Redirector             ALTERNATIVE
    kdb-step-up-forms                        ALTERNATIVE
        kdb-step-up-level-1                  CONDITIONAL
            Condition - Level of Authentication (1)    REQUIRED
            Username Password Form (amr "pwd")         REQUIRED
        kdb-step-up-level-2                  CONDITIONAL
            Condition - Level of Authentication (2, max age from "remember")   REQUIRED
            Duo two-factor (keycloak-duo-bridge)       REQUIRED

Built once, checked on every wiring (its level-2 max age follows the remember setting), and
deleted again, with Keycloak's ``browser`` flow bound back, when the realm leaves "step-up".
"""

from __future__ import annotations

from typing import Final

from keycloak_duo_bridge import assurance
from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak

KEYCLOAK_BROWSER: Final = "browser"
FORMS: Final = "kdb-step-up-forms"
LEVEL: Final = "kdb-step-up-level-{}"
_CONDITION: Final = "conditional-level-of-authentication"
_PASSWORD_FORM: Final = "auth-username-password-form"  # noqa: S105 - a provider id
_REFERENCE: Final = "default.reference.value"  # Keycloak's AMR mapper reads it
_REFERENCE_MAX_AGE: Final = "default.reference.maxAge"  # absent: 0, the value lasts a second
_LEVEL_KEY: Final = "loa-condition-level"
_MAX_AGE_KEY: Final = "loa-max-age"
#: Keycloak's default max age for level 1 (its own step-up example's 10 hours).
BASE_MAX_AGE: Final = 36000


def _find(executions: list[Json], *, provider: str | None = None, name: str | None = None) -> Json:
    for execution in executions:
        if provider is not None and execution.get("providerId") == provider:
            return execution
        if name is not None and execution.get("displayName") == name:
            return execution
    raise LookupError(provider or name)  # pragma: no cover - we just created it


def _require(keycloak: Keycloak, realm: str, execution: Json, requirement: str) -> None:
    if execution.get("requirement") != requirement:
        keycloak.update_flow_execution(
            realm, attr.STEP_UP_FLOW, {**execution, "requirement": requirement}
        )


def _level(
    keycloak: Keycloak,
    realm: str,
    level: int,
    provider: str,
    *,
    config: dict[str, str],
    age: int,
) -> None:
    sub = LEVEL.format(level)
    keycloak.add_subflow(realm, FORMS, sub)
    keycloak.add_flow_execution(realm, sub, _CONDITION)
    keycloak.add_flow_execution(realm, sub, provider)
    executions = keycloak.get_flow_executions(realm, sub)
    condition = _find(executions, provider=_CONDITION)
    step = _find(executions, provider=provider)
    _require(keycloak, realm, condition, "REQUIRED")
    _require(keycloak, realm, step, "REQUIRED")
    keycloak.add_execution_config(
        realm,
        str(condition["id"]),
        {"alias": f"{sub}-condition", "config": {_LEVEL_KEY: str(level), _MAX_AGE_KEY: str(age)}},
    )
    if config:
        keycloak.add_execution_config(
            realm, str(step["id"]), {"alias": f"{sub}-reference", "config": config}
        )
    top = keycloak.get_flow_executions(realm, attr.STEP_UP_FLOW)
    _require(keycloak, realm, _find(top, name=sub), "CONDITIONAL")


def _build(keycloak: Keycloak, realm: str, duo_max_age: int) -> None:
    flow = attr.STEP_UP_FLOW
    keycloak.create_flow(
        realm, flow, "Password at level 1 (acr pwd), Duo at level 2 (acr mfa): keycloak-duo-bridge"
    )
    keycloak.add_flow_execution(realm, flow, "auth-cookie")
    keycloak.add_flow_execution(realm, flow, "identity-provider-redirector")
    keycloak.add_subflow(realm, flow, FORMS)
    for execution in keycloak.get_flow_executions(realm, flow):
        _require(keycloak, realm, execution, "ALTERNATIVE")
    _level(
        keycloak,
        realm,
        assurance.LOA_BASE,
        _PASSWORD_FORM,
        config={_REFERENCE: assurance.ACR_BASE, _REFERENCE_MAX_AGE: str(BASE_MAX_AGE)},
        age=BASE_MAX_AGE,
    )
    _level(keycloak, realm, assurance.LOA_DUO, attr.AUTHENTICATOR, config={}, age=duo_max_age)


def _flow_id(keycloak: Keycloak, realm: str) -> str | None:
    for flow in keycloak.get_flows(realm):
        if flow.get("alias") == attr.STEP_UP_FLOW:
            return str(flow["id"])
    return None


def duo_max_age(keycloak: Keycloak, realm: str) -> int | None:
    """The level-2 condition's max age in the realm's step-up flow (None: no such flow)."""
    if _flow_id(keycloak, realm) is None:
        return None
    for execution in keycloak.get_flow_executions(realm, LEVEL.format(assurance.LOA_DUO)):
        if execution.get("providerId") == _CONDITION and execution.get("authenticationConfig"):
            return _config_max_age(keycloak, realm, str(execution["authenticationConfig"]))
    return None


def _config_max_age(keycloak: Keycloak, realm: str, config_id: str) -> int | None:
    config = keycloak.get_authenticator_config(realm, config_id).get("config") or {}
    try:
        return int(config.get(_MAX_AGE_KEY, ""))
    except ValueError:
        return None


def ensure(keycloak: Keycloak, realm: str, max_age: int) -> Json:
    """The realm's step-up flow, built or rebuilt when its level-2 max age differs; returns
    the top-level fields to write with the realm (its browser flow binding)."""
    present = _flow_id(keycloak, realm)
    if present is not None and duo_max_age(keycloak, realm) != max_age:
        keycloak.update_realm(realm, {"browserFlow": KEYCLOAK_BROWSER})
        keycloak.delete_flow(realm, present)
        present = None
    if present is None:
        _build(keycloak, realm, max_age)
    return {"browserFlow": attr.STEP_UP_FLOW}


def release(keycloak: Keycloak, realm: str, representation: Json) -> None:
    """Bind Keycloak's own browser flow again and delete the step-up flow, if there is one."""
    flow_id = _flow_id(keycloak, realm)
    if representation.get("browserFlow") == attr.STEP_UP_FLOW:
        keycloak.update_realm(realm, {"browserFlow": KEYCLOAK_BROWSER})
    if flow_id is not None:
        keycloak.delete_flow(realm, flow_id)
