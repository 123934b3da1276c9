"""Brokered users' Duo name and decision, and the request token's broker facts: pure units."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.duo_settings import Policy
from keycloak_duo_bridge.admin.effective import (
    IdpLink,
    Origin,
    PolicyOutcome,
    decide,
    duo_username,
    parse_brokered_username,
    resolve_effective,
)
from keycloak_duo_bridge.attributes import AppMode, BrokeredUsername, UsernameMapping
from keycloak_duo_bridge.bridge import tokens
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.fleet import spec
from tests.step_up_claims import request_claims

ISSUER = "http://kc.example/realms/acme"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC = jwt.PyJWK.from_dict(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True))
OKTA = IdpLink("okta", "00u1")
ENTRA = IdpLink("entra", "9f2c")


def name(mapping: UsernameMapping = UsernameMapping.USERNAME, **given: Any) -> str:
    return duo_username(mapping, realm="acme", username="bob-partner", **given)


def test_a_broker_made_user_is_named_by_the_idp_subject() -> None:
    """No password of the realm and one link: idp:<alias>:<subject>, not the username."""
    assert name(links=[OKTA], local_password=False) == "idp:okta:00u1"


def test_realm_qualified_prefixes_the_brokered_name_with_the_realm() -> None:
    """A realm-qualified realm names broker-made users <realm>:idp:<alias>:<subject>."""
    got = name(UsernameMapping.REALM_QUALIFIED, links=[OKTA], local_password=False)
    assert got == "acme:idp:okta:00u1"


def test_a_linked_local_user_keeps_the_accounts_name() -> None:
    """A user with a password of the realm is a local account: its name, link or not."""
    assert name(links=[OKTA], local_password=True) == "bob-partner"
    got = name(UsernameMapping.REALM_QUALIFIED, links=[OKTA, ENTRA], local_password=True)
    assert got == "acme:bob-partner"


def test_several_links_without_a_password_are_refused() -> None:
    """Which link names the user would be ambiguous, so the step-up is a config fault."""
    with pytest.raises(ConfigError, match="several identity-provider links"):
        name(links=[ENTRA, OKTA], local_password=False)


def test_the_account_option_names_brokered_users_like_local_ones() -> None:
    """kdb.duo.brokered_username=account: the username, as before this option existed."""
    got = name(links=[OKTA], local_password=False, brokered=BrokeredUsername.ACCOUNT)
    assert got == "bob-partner"


def test_the_email_mapping_needs_a_verified_email_from_brokered_users_too() -> None:
    """Under the email mapping a brokered user is their verified email, else refused."""
    got = name(
        UsernameMapping.EMAIL,
        email="Bob@Partner.example",
        email_verified=True,
        links=[OKTA],
        local_password=False,
    )
    assert got == "bob@partner.example"
    with pytest.raises(ConfigError, match="no verified email"):
        name(UsernameMapping.EMAIL, email="bob@partner.example", links=[OKTA])


def test_the_brokered_username_option_resolves_from_the_realm_only() -> None:
    """Default idp-subject; the realm's own value; an invalid one is reported and skipped."""
    own = {attr.TENANT_KIND: "partner"}
    assert resolve_effective(own, realm="p", realm_id="1").brokered_username.value == (
        BrokeredUsername.IDP_SUBJECT
    )
    chosen = resolve_effective(
        {**own, attr.DUO_BROKERED_USERNAME: "account"}, realm="p", realm_id="1"
    )
    assert chosen.brokered_username.value is BrokeredUsername.ACCOUNT
    assert chosen.brokered_username.origin is Origin.PARTNER_REALM
    bad = resolve_effective({**own, attr.DUO_BROKERED_USERNAME: "typed"}, realm="p", realm_id="1")
    assert bad.brokered_username.value is BrokeredUsername.IDP_SUBJECT
    assert any("brokered users' Duo username" in p for p in bad.problems)
    with pytest.raises(ConfigError, match="idp-subject or account"):
        parse_brokered_username("username")


def test_groups_and_activation_never_spare_a_brokered_user() -> None:
    """Bypass group and opt-in without activation skip a local user, never a brokered one."""
    settings = resolve_effective(
        {
            attr.TENANT_KIND: "partner",
            attr.DUO_ENABLED: "true",
            attr.DUO_USER_MODE: "opt-in",
            attr.DUO_BYPASS_GROUPS: json.dumps(["/partner-staff"]),
        },
        realm="p",
        realm_id="1",
    )
    groups = ["/partner-staff"]
    local = decide(settings, AppMode.INHERIT, groups)
    assert local.outcome is PolicyOutcome.BYPASSED_BY_GROUP
    assert decide(settings, AppMode.INHERIT).outcome is PolicyOutcome.NOT_ACTIVATED
    brokered = decide(settings, AppMode.INHERIT, groups, brokered=True)
    assert brokered.requires_duo
    assert "linked to an identity provider" in brokered.reason
    assert decide(settings, AppMode.OFF, brokered=True).outcome is PolicyOutcome.APP_OFF


def _verified(**claims: Any) -> tokens.StepUpRequest:
    signed = jwt.encode(request_claims(ISSUER, **claims), KEY, algorithm="RS256")
    return tokens.verify_request(signed, PUBLIC, issuer=ISSUER, now=time.time())


def test_the_request_token_carries_the_broker_facts() -> None:
    """idp_links, local_password and idp are read as the extension writes them; a token
    without them (an older extension) is a local user with a password."""
    brokered = _verified(
        idp_links=[{"alias": "okta", "subject": "00u1"}], local_password=False, idp="okta"
    )
    assert (brokered.idp_links, brokered.local_password, brokered.idp) == ((OKTA,), False, "okta")
    older = _verified(idp="")
    assert (older.idp_links, older.local_password, older.idp) == ((), True, None)
    assert "00u1" not in repr(brokered)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("okta", id="not-a-list"),
        pytest.param(["okta"], id="not-an-object"),
        pytest.param([{"alias": "okta"}], id="no-subject"),
        pytest.param([{"alias": "", "subject": "s"}], id="empty-alias"),
        pytest.param([{"alias": "okta", "subject": 7}], id="subject-not-text"),
    ],
)
def test_a_malformed_link_claim_is_refused(value: object) -> None:
    """A link that is not {alias, subject} of non-empty text refuses the request token."""
    with pytest.raises(tokens.RequestTokenError, match="idp_links"):
        tokens.idp_links(value)


def test_the_admin_service_validates_the_brokered_username() -> None:
    """Policy writes kdb.duo.brokered_username, unsets it with inherit, refuses others."""
    assert Policy(brokered_username="account").changes() == {attr.DUO_BROKERED_USERNAME: "account"}
    assert Policy(brokered_username="inherit").changes() == {attr.DUO_BROKERED_USERNAME: None}
    with pytest.raises(ConfigError, match="idp-subject or account"):
        Policy(brokered_username="bob-partner").changes()


def test_the_fleet_file_takes_the_brokered_username(tmp_path: Path) -> None:
    """duo.brokered_username in a tenant file is read and validated like the others."""
    text = "version: 1\npartners:\n  acme:\n    duo:\n      brokered_username: {}\n"
    fleet = spec.parse(text.format("idp-subject"), tmp_path / "fleet.yaml", {})
    [acme] = fleet.tenants
    assert acme.duo.policy.brokered_username == "idp-subject"
    with pytest.raises(ConfigError, match="brokered_username"):
        spec.parse(text.format("typed"), tmp_path / "fleet.yaml", {})
