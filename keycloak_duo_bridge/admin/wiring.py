"""What "Duo on" adds to a realm in Keycloak, and removes again when it goes off.

Wired, a realm has:

* the extension's ``duo-step-up`` required action, registered and enabled;
* the realm's levels of authentication (``acr.loa.map``: ``pwd`` 1, ``mfa`` 2) and, in the
  "step-up" assurance mode, the ``kdb-step-up-browser`` flow bound as its browser flow
  (:mod:`.flows`); "enforce" binds Keycloak's ``browser`` flow back;
* the bridge's URL and public JWKS in ``kdb.bridge.url`` / ``kdb.bridge.jwks``;
* the client scope ``kdb-duo``, whose mappers copy the user-session notes the extension
  writes (``kdb.duo.result`` ...) into ID and access tokens as a nested ``duo`` claim, and
  Keycloak's ``amr`` mapper and the extension's ``acr``/``amr`` and CIBA mappers; it is a
  realm default client scope and a default scope of every existing OpenID client.

Unwiring removes exactly these (deleting the scope detaches it from every client). A realm
is wired when its *effective* Duo switch is on, so a client realm that inherits "on" from its
partner is wired too. Every step checks before writing, so re-runs write nothing and a
failure midway is completed by the next run.

A realm being created is wired with fewer calls (:func:`wire_new`): its create call carries
the bridge's attributes and, once Keycloak's default required actions are known (learned
from the first realm created without them), the required action too; nothing is read back.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from keycloak_duo_bridge import assurance
from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import console_client, flows, record
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.attributes import Assurance
from keycloak_duo_bridge.errors import ConfigError, NotFoundError
from keycloak_duo_bridge.settings import Settings, signing_key

_CLAIMS = {
    attr.NOTE_RESULT: "result",
    attr.NOTE_TIME: "time",
    attr.NOTE_FACTOR: "factor",
    attr.NOTE_TXID: "txid",
    attr.NOTE_REASON: "reason",
    attr.NOTE_IDP: "idp",  # an "upstream" pass: the identity provider whose MFA counted
    attr.NOTE_PROOF: "proof",  # and what proved it
}


_PRIORITY_STEP: Final = 1  # Keycloak registers a required action one after the last one
_default_actions: dict[str, list[Json]] = {}  # Keycloak URL -> a new realm's required actions
_default_actions_lock = threading.Lock()


_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


@dataclass(frozen=True)
class Wiring:
    """What the bridge publishes to realms: its base URL and its public JWKS (JSON)."""

    bridge_url: str
    jwks: str

    @classmethod
    def of(cls, settings: Settings, bridge_url: str | None = None) -> Wiring:
        """The bridge's current public key, plus ``KDB_BRIDGE_EXTRA_JWKS`` during a key roll."""
        keys = [signing_key(settings).public_jwk()]
        for extra in extra_keys(settings.bridge_extra_jwks):
            if all(extra.get("kid") != key["kid"] for key in keys):
                keys.append(extra)
        return cls(
            bridge_url=bridge_url or settings.bridge_url,
            jwks=json.dumps({"keys": keys}, sort_keys=True, separators=(",", ":")),
        )

    def attributes(self) -> dict[str, str]:
        """The realm attributes that publish the bridge."""
        return {attr.BRIDGE_URL: self.bridge_url, attr.BRIDGE_JWKS: self.jwks}


def extra_keys(text: str | None) -> list[dict[str, Any]]:
    """The public keys of a JWKS (JSON) to publish too; private members are refused."""
    if not text:
        return []
    try:
        found = json.loads(text)
    except ValueError:
        raise ConfigError("KDB_BRIDGE_EXTRA_JWKS: not JSON") from None
    keys = found.get("keys") if isinstance(found, dict) else None
    if not isinstance(keys, list) or not all(
        isinstance(k, dict) and isinstance(k.get("kid"), str) and isinstance(k.get("kty"), str)
        for k in keys
    ):
        raise ConfigError('KDB_BRIDGE_EXTRA_JWKS: expected {"keys": [JWK with kid and kty, ...]}')
    if any(_PRIVATE_MEMBERS & set(k) for k in keys):
        raise ConfigError("KDB_BRIDGE_EXTRA_JWKS: holds private key material; publish public keys")
    return keys


def assurance_mappers() -> list[Json]:
    """The extension's CIBA mapper (it writes a CIBA login's verified Duo outcome into the
    session notes, before any mapper reads them), Keycloak's ``amr`` mapper (the flow's own
    methods, ``pwd``), then the extension's, which adds Duo's methods to ``amr`` and sets
    ``acr`` by whether Duo passed."""
    include = {
        "id.token.claim": "true",
        "access.token.claim": "true",
        "introspection.token.claim": "true",
    }
    return [
        {
            "name": "duo ciba outcome",
            "protocol": "openid-connect",
            "protocolMapper": attr.CIBA_MAPPER,
            "config": dict(include),
        },
        {
            "name": "amr",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-amr-mapper",
            "config": dict(include),
        },
        {
            "name": "duo acr and amr",
            "protocol": "openid-connect",
            "protocolMapper": attr.ASSURANCE_MAPPER,
            "config": dict(include),
        },
    ]


def client_scope() -> Json:
    """The ``kdb-duo`` client scope: one session-note mapper per Duo note, and the mappers that
    make Duo count in ``acr`` and ``amr``."""
    mappers = [
        {
            "name": f"{attr.TOKEN_CLAIM}.{claim}",
            "protocol": "openid-connect",
            "protocolMapper": "oidc-usersessionmodel-note-mapper",
            "config": {
                "user.session.note": note,
                "claim.name": f"{attr.TOKEN_CLAIM}.{claim}",
                "jsonType.label": "String",
                "id.token.claim": "true",
                "access.token.claim": "true",
                "introspection.token.claim": "true",
                "userinfo.token.claim": "false",
            },
        }
        for note, claim in _CLAIMS.items()
    ] + assurance_mappers()
    return {
        "name": attr.CLIENT_SCOPE,
        "description": "Duo's outcome (keycloak-duo-bridge) in ID and access tokens",
        "protocol": "openid-connect",
        "attributes": {"include.in.token.scope": "false", "display.on.consent.screen": "false"},
        "protocolMappers": mappers,
    }


def fold_actions(keycloak: Keycloak, representation: Json) -> None:
    """Make a new realm's ``representation`` carry the ``duo-step-up`` required action.

    A realm created with ``requiredActions`` gets only those, so they are the template's own,
    or else Keycloak's defaults once a realm made on this Keycloak without any taught us them;
    ``duo-step-up`` goes last, as registering it would put it. Until then the representation
    is left without, and :func:`wire_new` registers the action after the create call.
    """
    actions = representation.get("requiredActions")
    if actions is None:
        with _default_actions_lock:
            actions = copy.deepcopy(_default_actions.get(keycloak.url))
        if actions is None:
            return
    if all(a.get("alias") != attr.REQUIRED_ACTION for a in actions):
        last = max((int(a.get("priority") or 0) for a in actions), default=0)
        actions.append(
            {
                "alias": attr.REQUIRED_ACTION,
                "name": attr.REQUIRED_ACTION_NAME,
                "providerId": attr.REQUIRED_ACTION,
                "enabled": True,
                "defaultAction": False,
                "priority": last + _PRIORITY_STEP,
                "config": {},
            }
        )
    representation["requiredActions"] = actions


def wire_new(keycloak: Keycloak, representation: Json, clients: Iterable[Json]) -> None:
    """Finish wiring a realm just created from ``representation`` (see :func:`fold_actions`).

    ``clients`` are its applications. Nothing is read back, except, for the first realm on a
    Keycloak, its required actions: those it has then are Keycloak's defaults.
    """
    realm = str(representation["realm"])
    if "requiredActions" not in representation:
        defaults = keycloak.get_required_actions(realm)
        with _default_actions_lock:
            _default_actions.setdefault(keycloak.url, defaults)
        keycloak.register_required_action(realm, attr.REQUIRED_ACTION, attr.REQUIRED_ACTION_NAME)
    scope_id = keycloak.create_client_scope(realm, client_scope())
    keycloak.add_default_client_scope(realm, scope_id)
    for client in clients:
        if _takes_scope(client):
            keycloak.add_client_default_scope(realm, str(client["id"]), scope_id)


def _takes_scope(client: Json) -> bool:
    """Whether the ``kdb-duo`` scope belongs on ``client``: OpenID clients that log users in."""
    return client.get("protocol", "openid-connect") == "openid-connect" and not client.get(
        "bearerOnly"
    )


def _scope_id(keycloak: Keycloak, realm: str) -> str | None:
    for scope in keycloak.get_client_scopes(realm):
        if scope.get("name") == attr.CLIENT_SCOPE:
            return str(scope["id"])
    return None


def _store_levels(keycloak: Keycloak, realm: str, wires: Wiring) -> None:
    """Publish the bridge and the levels, and bind the flow of the realm's assurance mode."""
    representation = keycloak.get_realm(realm)
    effective, _ = record.resolve(keycloak, representation)
    own = representation.get("attributes") or {}
    levels = {attr.ACR_LOA_MAP: assurance.loa_map(own.get(attr.ACR_LOA_MAP))}
    fields: Json = {}
    if effective.assurance.value is Assurance.STEP_UP:
        age = assurance.duo_level_max_age(effective.remember.value)
        fields = flows.ensure(keycloak, realm, age)
    else:
        flows.release(keycloak, realm, representation)
    record.store(keycloak, realm, {**wires.attributes(), **levels}, fields)


def _ensure_scope(keycloak: Keycloak, realm: str) -> str:
    """The ``kdb-duo`` scope's id, made if missing, with every mapper of this release."""
    scope_id = _scope_id(keycloak, realm)
    if scope_id is None:
        return keycloak.create_client_scope(realm, client_scope())
    names = {m.get("name") for m in keycloak.get_client_scope_mappers(realm, scope_id)}
    for mapper in client_scope()["protocolMappers"]:  # an earlier release's scope lacks some
        if mapper["name"] not in names:
            keycloak.add_client_scope_mapper(realm, scope_id, mapper)
    return scope_id


def refresh_flow(keycloak: Keycloak, realm: str) -> None:
    """Keep a "step-up" realm's level-2 max age in step with its remember setting (after a
    policy change, its own or its partner's)."""
    representation = keycloak.get_realm(realm)
    if representation.get("browserFlow") != attr.STEP_UP_FLOW:
        return
    effective, _ = record.resolve(keycloak, representation)
    if effective.assurance.value is Assurance.STEP_UP:
        flows.ensure(keycloak, realm, assurance.duo_level_max_age(effective.remember.value))


def set_assurance(keycloak: Keycloak, realm: str, wanted: Assurance | None) -> None:
    """Switch a wired realm's assurance mode (None: back to the default, enforce), with no
    moment where neither the required action nor the step-up flow would run Duo: the mode
    and the browser-flow binding change in one write, the step-up flow built before it and
    deleted after it."""
    representation = keycloak.get_realm(realm)
    effective, _ = record.resolve(keycloak, representation)
    value = None if wanted is None else wanted.value
    if wanted is Assurance.STEP_UP:
        fields = flows.ensure(
            keycloak, realm, assurance.duo_level_max_age(effective.remember.value)
        )
        record.store(keycloak, realm, {attr.DUO_ASSURANCE: value}, fields)
        return
    bound = representation.get("browserFlow") == attr.STEP_UP_FLOW
    fields = {"browserFlow": flows.KEYCLOAK_BROWSER} if bound else {}
    record.store(keycloak, realm, {attr.DUO_ASSURANCE: value}, fields)
    flows.release(keycloak, realm, {})


def wire(keycloak: Keycloak, realm: str, wires: Wiring) -> None:
    actions = {a["alias"]: a for a in keycloak.get_required_actions(realm)}
    action = actions.get(attr.REQUIRED_ACTION)
    if action is None:
        keycloak.register_required_action(realm, attr.REQUIRED_ACTION, attr.REQUIRED_ACTION_NAME)
        action = next(
            (a for a in keycloak.get_required_actions(realm) if a["alias"] == attr.REQUIRED_ACTION),
            None,
        )
        if action is None:  # pragma: no cover - Keycloak accepted the registration
            raise NotFoundError(f"required action {attr.REQUIRED_ACTION!r} was not registered")
    if not action.get("enabled"):
        keycloak.update_required_action(realm, attr.REQUIRED_ACTION, {**action, "enabled": True})
    _store_levels(keycloak, realm, wires)
    console_client.ensure(keycloak, realm, wires.bridge_url)
    if keycloak.bridge_reader is not None:  # the bridge reads realms as its own account
        keycloak.grant_realm_view(keycloak.bridge_reader, realm)
    scope_id = _ensure_scope(keycloak, realm)
    if all(s.get("id") != scope_id for s in keycloak.get_default_client_scopes(realm)):
        keycloak.add_default_client_scope(realm, scope_id)
    for client in keycloak.get_clients(realm):
        if not _takes_scope(client):
            continue
        defaults = keycloak.get_client_default_scopes(realm, str(client["id"]))
        if all(s.get("id") != scope_id for s in defaults):
            keycloak.add_client_default_scope(realm, str(client["id"]), scope_id)


def unwire(keycloak: Keycloak, realm: str) -> None:
    flows.release(keycloak, realm, keycloak.get_realm(realm))
    scope_id = _scope_id(keycloak, realm)
    if scope_id is not None:
        keycloak.delete_client_scope(realm, scope_id)
    record.store(keycloak, realm, {attr.BRIDGE_URL: None, attr.BRIDGE_JWKS: None})
    if any(a["alias"] == attr.REQUIRED_ACTION for a in keycloak.get_required_actions(realm)):
        keycloak.delete_required_action(realm, attr.REQUIRED_ACTION)


def is_wired(keycloak: Keycloak, realm: str) -> bool:
    registered = any(
        a["alias"] == attr.REQUIRED_ACTION and a.get("enabled")
        for a in keycloak.get_required_actions(realm)
    )
    return registered and _scope_id(keycloak, realm) is not None


def reconcile(keycloak: Keycloak, realm: str, wires: Wiring) -> bool:
    """Wire ``realm`` if its effective Duo switch is on, else unwire it. Returns the switch."""
    effective, _ = record.resolve(keycloak, keycloak.get_realm(realm))
    if effective.enabled.value:
        wire(keycloak, realm, wires)
    else:
        unwire(keycloak, realm)
    return effective.enabled.value
