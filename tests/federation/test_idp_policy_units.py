"""Per identity-provider Duo policy, without Keycloak: the stored values, the upstream proof,
the decision, explain's rows and the tenant file."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record
from keycloak_duo_bridge.admin.duo_settings import Policy
from keycloak_duo_bridge.admin.effective import (
    EffectiveSettings,
    IdpLink,
    PolicyOutcome,
    decide,
    resolve_effective,
)
from keycloak_duo_bridge.admin.explain import Explanation
from keycloak_duo_bridge.admin.idp_policy import (
    IdpPolicy,
    changed,
    format_idps,
    parse_idps,
    policy_of,
)
from keycloak_duo_bridge.admin.tenants import tenant_of
from keycloak_duo_bridge.attributes import AppMode, IdpMode
from keycloak_duo_bridge.bridge.upstream import Upstream, find_proof
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.fleet import spec
from keycloak_duo_bridge.fleet.export import _tenant
from keycloak_duo_bridge.fleet.plan import declared_attributes

TRUSTED = policy_of("trust-upstream-mfa", amr=["mfa", "hwk"], acr=["gold"])
LINKS = (IdpLink("partner", "sub-1"), IdpLink("other", "sub-2"))


def id_token(**claims: Any) -> str:
    """An ID token as Keycloak keeps it (the signature is Keycloak's concern, not read)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    body = {"sub": "sub-1", "iat": int(time.time()), **claims}
    return f"{part({'alg': 'RS256'})}.{part(body)}.c2ln"


def upstream(token: str | None, provider: str | None = "oidc") -> Upstream:
    return Upstream("partner", provider, token, LINKS)


def saml(classes: list[str], instant: float) -> Upstream:
    return Upstream("partner", "saml", None, LINKS, tuple(classes), int(instant))


def test_an_allowed_saml_context_class_proves_upstream_mfa() -> None:
    """A SAML IdP's fresh AuthnContextClassRef on the allow-list is the proof."""
    policy = policy_of("trust-upstream-mfa", saml_context=["urn:two"])
    found, _ = find_proof(policy, saml(["urn:one", "urn:two"], time.time()), now=time.time())
    assert str(found) == "saml:urn:two"


def test_policies_round_trip_and_duo_is_the_absence() -> None:
    """Stored form: sorted, compact, duo entries dropped, nothing left no attribute."""
    stored = format_idps({"b": TRUSTED, "a": policy_of("off"), "c": IdpPolicy()})
    assert stored == (
        '{"a":{"mode":"off"},"b":{"acr":["gold"],"amr":["mfa","hwk"],"mode":"trust-upstream-mfa"}}'
    )
    assert parse_idps(stored or "") == {"a": policy_of("off"), "b": TRUSTED}
    assert format_idps({"c": IdpPolicy()}) is None
    assert TRUSTED.proofs() == "amr mfa,hwk; acr gold"
    assert policy_of("trust-upstream-mfa", amr=["mfa", "mfa"]).amr == ("mfa",)


@pytest.mark.parametrize(
    ("mode", "values", "message"),
    [
        ("trust-upstream-mfa", {}, "needs its proof"),
        ("off", {"amr": ["mfa"]}, "belong to trust-upstream-mfa"),
        ("sometimes", {}, "one of duo, trust-upstream-mfa, off"),
        ("trust-upstream-mfa", {"amr": ["two words"]}, "printable"),
        ("trust-upstream-mfa", {"acr": [str(n) for n in range(17)]}, "at most 16"),
    ],
)
def test_invalid_policies_are_refused(
    mode: str, values: dict[str, list[str]], message: str
) -> None:
    """A policy is checked whole before anything is written."""
    with pytest.raises(ConfigError, match=message):
        policy_of(mode, **values)


@pytest.mark.parametrize(
    "text",
    ["[]", "{", '{"a": 1}', '{"a": {"mode": "off", "amr": "mfa"}}', '{"a b": {"mode": "off"}}'],
)
def test_a_malformed_stored_value_is_an_error(text: str) -> None:
    """A hand-edited attribute that does not parse is reported, never half read."""
    with pytest.raises(ConfigError):
        parse_idps(text)


def test_off_needs_confirmation_and_changes_merge() -> None:
    """off is refused unconfirmed; a change keeps the other IdPs' entries; duo removes."""
    with pytest.raises(ConfigError, match="confirm"):
        changed({}, "a", policy_of("off"), confirm_off=False)
    current = {attr.DUO_IDPS: format_idps({"a": policy_of("off")}) or ""}
    both = changed(current, "b", TRUSTED, confirm_off=False)
    assert parse_idps(both[attr.DUO_IDPS] or "") == {"a": policy_of("off"), "b": TRUSTED}
    assert changed(current, "a", IdpPolicy(), confirm_off=False) == {attr.DUO_IDPS: None}


@pytest.mark.parametrize(
    ("claims", "proof"),
    [
        ({"amr": ["pwd", "mfa", "otp"]}, "amr:mfa"),
        ({"amr": ["hwk"]}, "amr:hwk"),
        ({"acr": "gold", "amr": ["pwd"]}, "acr:gold"),
    ],
)
def test_an_allowed_amr_or_acr_proves_upstream_mfa(claims: dict[str, Any], proof: str) -> None:
    """An amr or acr value on the allow-list, in this user's fresh token, is the proof."""
    token = id_token(**claims)  # minted now: made at collection, it could be stale by the run
    found, missing = find_proof(TRUSTED, upstream(token), now=time.time())
    assert (str(found), missing) == (proof, "")
    assert found is not None
    assert found.amr[0] == "mfa"


@pytest.mark.parametrize(
    ("policy", "make", "why"),
    [
        (None, lambda: upstream(id_token(amr=["mfa"])), "not trusted"),
        (IdpPolicy(), lambda: upstream(id_token(amr=["mfa"])), "not trusted"),
        (
            TRUSTED,
            lambda: upstream(id_token(amr=["mfa"]), provider="saml"),
            "no stored SAML response",
        ),
        (TRUSTED, lambda: upstream(id_token(amr=["mfa"]), provider="github"), "a github IdP"),
        (TRUSTED, lambda: saml(["urn:two"], time.time() - 3600), "not this login's"),
        (TRUSTED, lambda: saml(["urn:one"], time.time()), "not on the allow-list"),
        (
            TRUSTED,
            lambda: Upstream("partner", "oidc", id_token(amr=["mfa"]), LINKS, local_account=True),
            "a local account",
        ),
        (TRUSTED, lambda: upstream(None), "no verified upstream ID token"),
        (TRUSTED, lambda: upstream("not-a-token"), "no verified upstream ID token"),
        (TRUSTED, lambda: upstream(id_token(amr=["mfa"], sub="sub-2")), "subject"),
        (
            TRUSTED,
            lambda: upstream(id_token(amr=["mfa"], iat=int(time.time()) - 3600)),
            "this login",
        ),
        (TRUSTED, lambda: upstream(id_token(amr=["mfa"], iat="now")), "this login"),
        (TRUSTED, lambda: upstream(id_token(amr="mfa", acr="silver")), "not on the allow-list"),
    ],
)
def test_no_proof_means_duo(
    policy: IdpPolicy | None, make: Callable[[], Upstream], why: str
) -> None:
    """Anything missing or not matching is no proof, and says why."""
    proof, missing = find_proof(policy, make(), now=time.time())
    assert proof is None
    assert why in missing


def settings_with(idps: str) -> EffectiveSettings:
    own = {attr.DUO_ENABLED: "true", attr.DUO_IDPS: idps}
    return resolve_effective(own, None, realm="r", realm_id="rid")


def test_the_decision_follows_the_login_idp_and_the_record_lists_trusted_ones() -> None:
    """off skips Duo for a login through that IdP only; the record lists trusted IdPs; a
    broken attribute is reported and counts as duo everywhere."""
    stored = format_idps({"off-idp": policy_of("off"), "partner": TRUSTED}) or ""
    effective = settings_with(stored)
    assert decide(effective, AppMode.INHERIT, idp="off-idp").outcome is PolicyOutcome.IDP_OFF
    assert decide(effective, AppMode.INHERIT, idp="partner").requires_duo
    assert decide(effective, AppMode.INHERIT, idp="unknown").requires_duo
    assert effective.idp_policy(None) is None
    body = json.loads(record.record(effective, {attr.DUO_IDPS: stored}, None))
    assert body["idp_trusted"] == ["partner"]
    broken = settings_with("{")
    assert broken.idps == {}
    assert any(attr.DUO_IDPS in problem for problem in broken.problems)


def explained(effective: EffectiveSettings, idp: str) -> Explanation:
    """What explain shows for a plain user's login through ``idp``."""
    return Explanation(
        effective=effective,
        app=None,
        app_mode=AppMode.INHERIT,
        username=None,
        user_groups=(),
        activated=False,
        decision=decide(effective, AppMode.INHERIT, idp=idp),
        idp=idp,
    )


def test_explain_shows_each_idp_and_flags_off() -> None:
    """A row per IdP with a policy; an off IdP is a problem explain reports."""
    stored = format_idps({"off-idp": policy_of("off"), "partner": TRUSTED}) or ""
    effective = settings_with(stored)
    shown = explained(effective, "off-idp")
    rows = {name: value for name, value, _ in shown.rows()}
    assert rows["idp off-idp"].startswith("OFF")
    assert rows["idp partner"] == "trust-upstream-mfa (amr mfa,hwk; acr gold), else Duo"
    assert any("'off-idp' is off" in problem for problem in shown.problems())
    assert shown.to_json()["idp"] == "off-idp"


FILE = """\
version: 1
partners:
  acme:
    clients:
      north:
        idps:
          partner: {policy: trust-upstream-mfa, amr: [mfa], saml_context: [urn:x]}
          legacy: {policy: off, confirm_off: true}
          plain: {policy: duo}
      south:
        idps:
"""


def test_the_tenant_file_declares_idp_policies(tmp_path: Path) -> None:
    """idps lists the IdPs whose policy is not duo; the plan writes exactly that; an empty
    idps clears them; a tenant without idps leaves them alone; export writes them back."""
    fleet = spec.parse(FILE, tmp_path / "fleet.yaml", {})
    acme, north, south = fleet.tenants
    assert acme.idps is None
    assert attr.DUO_IDPS not in declared_attributes(acme)
    assert north.idps is not None
    assert north.idps["legacy"].mode is IdpMode.OFF
    stored = declared_attributes(north)[attr.DUO_IDPS]
    assert parse_idps(stored or "") == {
        "partner": policy_of("trust-upstream-mfa", amr=["mfa"], saml_context=["urn:x"]),
        "legacy": policy_of("off"),
    }
    assert declared_attributes(south)[attr.DUO_IDPS] is None
    found = tenant_of(
        {
            "realm": "north",
            "id": "nid",
            "attributes": {
                attr.TENANT_KIND: "client",
                attr.TENANT_PARTNER: "acme",
                attr.DUO_IDPS: stored,
            },
        }
    )
    assert found is not None
    assert _tenant(found, None, None, None)["idps"] == {
        "legacy": {"policy": "off", "confirm_off": True},
        "partner": {"policy": "trust-upstream-mfa", "amr": ["mfa"], "saml_context": ["urn:x"]},
    }


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{policy: off, confirm_off: true}", "{policy: off}", r":8: .*legacy: off lets"),
        ("{policy: duo}", "{amr: [mfa]}", r":9: .*plain: policy is"),
        ("{policy: duo}", "{policy: duo, colour: red}", r":9: .*unknown key 'colour'"),
        ("amr: [mfa]", "amr: mfa", r":7: .*partner.amr: expected a list"),
        ("amr: [mfa], saml_context: [urn:x]", "acr: []", r":7: .*needs its proof"),
    ],
)
def test_idp_mistakes_in_the_tenant_file_name_the_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    """An unconfirmed off, a missing policy, an unknown key, a bad list: file and line."""
    assert old in FILE
    with pytest.raises(ConfigError, match=message):
        spec.parse(FILE.replace(old, new, 1), tmp_path / "fleet.yaml", {})


def test_brokered_enrollment_is_checked_and_resolved_as_the_realms_own() -> None:
    """known-only and allow are stored, inherit unsets, anything else is refused; a
    partner's value is not inherited."""
    assert Policy(brokered_enrollment="known-only").changes() == {
        attr.DUO_BROKERED_ENROLLMENT: "known-only"
    }
    assert Policy(brokered_enrollment="inherit").changes() == {attr.DUO_BROKERED_ENROLLMENT: None}
    with pytest.raises(ConfigError, match="allow or known-only"):
        Policy(brokered_enrollment="never").changes()
    own = {attr.DUO_BROKERED_ENROLLMENT: "known-only"}
    assert resolve_effective(own, None, realm="r", realm_id="i").brokered_enrollment.value == (
        "known-only"
    )


def test_a_hand_written_duo_entry_shows_as_duo() -> None:
    """A stored entry with mode duo (written by hand) parses, and explain shows it as duo."""
    effective = settings_with('{"sso": {"mode": "duo"}}')
    shown = explained(effective, "sso")
    assert ("idp sso", "duo") in [(name, value) for name, value, _ in shown.rows()]
