"""The pure inheritance and decision rules (no Keycloak)."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.effective import (
    EffectiveSettings,
    Origin,
    PolicyOutcome,
    Sourced,
    StoredCredentials,
    decide,
    duo_username,
    format_apps,
    format_bypass_groups,
    format_remember,
    link_problem,
    parse_apps,
    parse_bool,
    parse_bypass_groups,
    parse_remember,
    resolve_effective,
)
from keycloak_duo_bridge.admin.explain import Explanation
from keycloak_duo_bridge.attributes import (
    AppMode,
    FailMode,
    RememberMode,
    UserMode,
    UsernameMapping,
)
from keycloak_duo_bridge.errors import ConfigError

CREDS = {
    attr.DUO_IKEY: "DI" + "A" * 18,
    attr.DUO_API_HOST: "api.example",
    attr.DUO_SKEY: "kdb1:k:n:c",
}
PARTNER = {
    attr.TENANT_KIND: "partner",
    **CREDS,
    attr.DUO_ENABLED: "true",
    attr.TENANT_CLIENT_PREFIX + "c": "cid",
}
CLIENT = {attr.TENANT_KIND: "client", attr.TENANT_PARTNER: "p"}


def test_defaults_when_nothing_is_set() -> None:
    """A realm with no settings is off, required, closed, session, no credentials."""
    e = resolve_effective({}, realm="r", realm_id="rid")
    assert e.enabled.value is False
    assert e.enabled.origin is Origin.DEFAULT
    assert e.user_mode.value is UserMode.REQUIRED
    assert e.fail_mode.value is FailMode.CLOSED
    assert e.remember.value is RememberMode.SESSION
    assert e.bypass_groups.value == ()
    assert e.credentials.value is None
    assert e.problems == ()


def test_client_inherits_everything_from_its_partner() -> None:
    """A client realm without settings takes the partner's credentials and switch."""
    e = resolve_effective(CLIENT, PARTNER, realm="c", realm_id="cid")
    assert e.partner == "p"
    assert e.enabled == Sourced(value=True, origin=Origin.PARTNER_REALM, realm="p")
    assert e.credentials.value == StoredCredentials(
        "DI" + "A" * 18, "api.example", "kdb1:k:n:c", "p"
    )
    assert e.credentials.origin is Origin.PARTNER_REALM


def test_client_values_win_over_the_partner() -> None:
    """The client realm's own credentials and settings take precedence."""
    own = {**CLIENT, **CREDS, attr.DUO_USER_MODE: "opt-in", attr.DUO_FAIL_MODE: "open"}
    partner = {**PARTNER, attr.DUO_USER_MODE: "required", attr.DUO_REMEMBER: "15"}
    e = resolve_effective(own, partner, realm="c", realm_id="cid")
    assert e.credentials.origin is Origin.CLIENT_REALM
    assert e.credentials.value is not None
    assert e.credentials.value.realm == "c"
    assert e.user_mode.value is UserMode.OPT_IN
    assert e.user_mode.origin is Origin.CLIENT_REALM
    assert e.fail_mode.value is FailMode.OPEN
    assert e.remember.value == 15
    assert e.remember.origin is Origin.PARTNER_REALM


def test_partner_realm_values_are_marked_partner() -> None:
    """A partner's own values have origin "partner realm"."""
    e = resolve_effective(PARTNER, realm="p", realm_id="pid")
    assert e.enabled.origin is Origin.PARTNER_REALM
    assert e.partner is None


def test_invalid_values_are_skipped_and_reported() -> None:
    """A hand-written bad value falls through to the next level and is reported."""
    own = {**CLIENT, attr.DUO_FAIL_MODE: "sometimes", attr.DUO_BYPASS_GROUPS: "staff"}
    e = resolve_effective(own, {**PARTNER, attr.DUO_FAIL_MODE: "open"}, realm="c", realm_id="cid")
    assert e.fail_mode.value is FailMode.OPEN
    assert e.bypass_groups.origin is Origin.DEFAULT
    assert len(e.problems) == 2


def test_incomplete_credentials_are_not_mixed_with_the_partners() -> None:
    """A client realm with only an ikey gets no credentials, and a problem."""
    e = resolve_effective({**CLIENT, attr.DUO_IKEY: "X" * 20}, PARTNER, realm="c", realm_id="cid")
    assert e.credentials.value is None
    assert e.credentials.origin is Origin.CLIENT_REALM
    assert "duo.api_host" in e.problems[0]
    assert "duo.skey" in e.problems[0]


def test_a_missing_partner_is_a_problem() -> None:
    """A client naming a partner that does not exist resolves with defaults."""
    e = resolve_effective(CLIENT, None, realm="c", realm_id="cid")
    assert e.enabled.value is False
    assert e.problems == ("partner realm 'p' does not exist",)


ON = resolve_effective(PARTNER, realm="p", realm_id="pid")
OPT_IN = resolve_effective({**PARTNER, attr.DUO_USER_MODE: "opt-in"}, realm="p", realm_id="pid")
BYPASS = resolve_effective(
    {**PARTNER, attr.DUO_BYPASS_GROUPS: '["/staff"]'}, realm="p", realm_id="pid"
)


@pytest.mark.parametrize(
    ("effective", "mode", "groups", "activated", "outcome"),
    [
        (
            resolve_effective({}, realm="r", realm_id="rid"),
            AppMode.REQUIRED,
            (),
            True,
            PolicyOutcome.REALM_OFF,
        ),
        (ON, AppMode.OFF, (), True, PolicyOutcome.APP_OFF),
        (ON, AppMode.INHERIT, (), False, PolicyOutcome.REQUIRED),
        (ON, AppMode.REQUIRED, (), False, PolicyOutcome.REQUIRED),
        (OPT_IN, AppMode.INHERIT, (), False, PolicyOutcome.NOT_ACTIVATED),
        (OPT_IN, AppMode.INHERIT, (), True, PolicyOutcome.REQUIRED),
        (BYPASS, AppMode.INHERIT, ("/staff",), False, PolicyOutcome.BYPASSED_BY_GROUP),
        (BYPASS, AppMode.INHERIT, ("/staff/oncall",), False, PolicyOutcome.BYPASSED_BY_GROUP),
        (BYPASS, AppMode.INHERIT, ("/staffing",), False, PolicyOutcome.REQUIRED),
    ],
)
def test_decide(
    effective: EffectiveSettings,
    mode: AppMode,
    groups: tuple[str, ...],
    activated: bool,  # noqa: FBT001
    outcome: PolicyOutcome,
) -> None:
    """Realm off, app off, bypass group (and subgroups), opt-in activation, in that order."""
    decision = decide(effective, mode, groups, activated=activated)
    assert decision.outcome is outcome
    assert decision.requires_duo is (outcome is PolicyOutcome.REQUIRED)
    assert decision.reason


def test_app_modes_are_the_realms_own_json_object() -> None:
    """kdb.duo.apps maps clientIds to modes; unlisted apps inherit; inherit is not stored."""
    apps = parse_apps('{"a":"off","b":"required"}')
    assert apps == {"a": AppMode.OFF, "b": AppMode.REQUIRED}
    assert format_apps({**apps, "c": AppMode.INHERIT}) == '{"a":"off","b":"required"}'
    assert format_apps({"c": AppMode.INHERIT}) is None
    e = resolve_effective({**PARTNER, attr.DUO_APPS: '{"a":"off"}'}, realm="p", realm_id="pid")
    assert e.app_mode("a") is AppMode.OFF
    assert e.app_mode("other") is AppMode.INHERIT
    assert e.app_mode(None) is AppMode.INHERIT


@pytest.mark.parametrize("text", ["[]", "not json", '{"a": 1}', '{"a": "sometimes"}'])
def test_bad_app_modes_are_refused(text: str) -> None:
    """Anything but a JSON object of clientId to mode is a ConfigError, reported by explain."""
    with pytest.raises(ConfigError):
        parse_apps(text)
    e = resolve_effective({**PARTNER, attr.DUO_APPS: text}, realm="p", realm_id="pid")
    assert e.apps == {}
    assert any(attr.DUO_APPS in problem for problem in e.problems)


def test_app_modes_are_not_inherited_from_the_partner() -> None:
    """A partner's application modes name the partner's applications, never a client's."""
    partner = {**PARTNER, attr.DUO_APPS: '{"a":"off"}'}
    e = resolve_effective(CLIENT, partner, realm="c", realm_id="cid")
    assert e.linked
    assert e.app_mode("a") is AppMode.INHERIT


def test_item2_a_realm_claiming_a_partner_that_does_not_list_it_inherits_nothing() -> None:
    """The partner's side must name the claiming realm with its id: no proof, no inheritance."""
    evil = {attr.TENANT_KIND: "client", attr.TENANT_PARTNER: "p"}
    e = resolve_effective(evil, PARTNER, realm="evil", realm_id="evilid")
    assert not e.linked
    assert e.credentials.value is None
    assert e.enabled.value is False
    assert "does not list realm 'evil'" in e.problems[0]


def test_item2_a_link_for_another_realm_id_is_no_proof() -> None:
    """A realm re-made under a listed name (another id) is not the client the partner linked."""
    e = resolve_effective(CLIENT, PARTNER, realm="c", realm_id="someone-else")
    assert not e.linked
    assert e.credentials.value is None


@pytest.mark.parametrize(
    ("own", "partner", "problem"),
    [
        ({attr.TENANT_KIND: "partner", attr.TENANT_PARTNER: "p"}, PARTNER, "is not a client"),
        (CLIENT, {**PARTNER, attr.TENANT_KIND: "client"}, "is not a partner"),
        (CLIENT, None, "does not exist"),
    ],
)
def test_link_problems(own: dict[str, str], partner: dict[str, str] | None, problem: str) -> None:
    """Only a client realm inherits, only from a partner realm that exists."""
    found = link_problem(own, partner, realm="c", realm_id="cid")
    assert found is not None
    assert problem in found


def test_a_planned_link_is_judged_as_it_will_be() -> None:
    """realm_id=None: the admin service writes the link with the realm, so it counts."""
    assert link_problem(CLIENT, {**PARTNER}, realm="new", realm_id=None) is None


def test_username_mapping_defaults_keep_inheriting_realms_apart() -> None:
    """Own credentials: the username; a partner's: realm-qualified; a set value wins."""
    own = resolve_effective(PARTNER, realm="p", realm_id="pid")
    assert own.username_mapping.value is UsernameMapping.USERNAME
    inherited = resolve_effective(CLIENT, PARTNER, realm="c", realm_id="cid")
    assert inherited.username_mapping.value is UsernameMapping.REALM_QUALIFIED
    chosen = resolve_effective(
        {**CLIENT, attr.DUO_USERNAME: "email"}, PARTNER, realm="c", realm_id="cid"
    )
    assert chosen.username_mapping.value is UsernameMapping.EMAIL
    bad = resolve_effective(
        {**CLIENT, attr.DUO_USERNAME: "nickname"}, PARTNER, realm="c", realm_id="cid"
    )
    assert bad.username_mapping.value is UsernameMapping.REALM_QUALIFIED
    assert any("username mapping" in problem for problem in bad.problems)


def test_duo_username() -> None:
    """realm:username, the username, or a verified email lower-cased; else a ConfigError."""
    assert duo_username(UsernameMapping.USERNAME, realm="north", username="carol") == "carol"
    qualified = duo_username(UsernameMapping.REALM_QUALIFIED, realm="north", username="carol")
    assert qualified == "north:carol"
    by_email = duo_username(
        UsernameMapping.EMAIL,
        realm="north",
        username="carol",
        email="Carol@North.example",
        email_verified=True,
    )
    assert by_email == "carol@north.example"
    with pytest.raises(ConfigError, match="verified email"):
        duo_username(
            UsernameMapping.EMAIL, realm="n", username="c", email="c@x", email_verified=False
        )


@pytest.mark.parametrize("text", ["0", "43201", "-5", "soon", "١٢"])
def test_parse_remember_rejects(text: str) -> None:
    """Remember takes session, every-login or 1-43200 minutes."""
    with pytest.raises(ConfigError, match="remember"):
        parse_remember(text)


def test_remember_round_trip() -> None:
    """Remember values format back to what they were parsed from."""
    for text in ("session", "every-login", "90"):
        assert format_remember(parse_remember(text)) == text


@pytest.mark.parametrize(
    "text", ['{"a": 1}', "[1]", "not json", '["staff"]', '["/a//b"]', '["/"]', '["/a/"]']
)
def test_parse_bypass_groups_rejects(text: str) -> None:
    """Bypass groups are a JSON list of /group/paths."""
    with pytest.raises(ConfigError):
        parse_bypass_groups(text)


def test_bypass_groups_format_sorted_unique() -> None:
    """Stored bypass groups are sorted and de-duplicated JSON."""
    assert format_bypass_groups(["/b", "/a", "/b"]) == '["/a", "/b"]'
    assert parse_bypass_groups('["/a", "/b/c"]') == ("/a", "/b/c")


def test_parse_bool_rejects() -> None:
    """Only the words true and false are booleans."""
    with pytest.raises(ConfigError):
        parse_bool("yes")


@pytest.mark.parametrize(
    ("user_groups", "bypass", "bypassed"),
    [
        (["/ops"], "/ops", True),
        (["/ops/oncall/night"], "/ops", True),
        (["/ops/oncall"], "/ops/oncall", True),
        (["/operations"], "/ops", False),
        (["/ops~/dev"], "/ops", False),  # the group named "ops/dev" is no subgroup of /ops
        (["/a~"], "/a~", True),
        (["/a~/b"], "/a~", False),  # "a/b", escaped: not a subgroup of a group named "a~"
        (["/a~/b/c"], "/a~/b", True),  # a subgroup of "a/b"
        (["/ops"], "/ops/oncall", False),
        (["/a~/"], "/a~/", True),  # a group named "a/"
    ],
)
def test_bypass_groups_compare_whole_escaped_names(
    user_groups: list[str],
    bypass: str,
    bypassed: bool,  # noqa: FBT001
) -> None:
    """A bypass group covers itself and its subgroups, name by name, with Keycloak's escaped
    '~/' inside a name never read as a separator."""
    e = resolve_effective(
        {**PARTNER, attr.DUO_BYPASS_GROUPS: format_bypass_groups([bypass])},
        realm="p",
        realm_id="pid",
    )
    decision = decide(e, AppMode.INHERIT, user_groups, activated=True)
    assert (decision.outcome is PolicyOutcome.BYPASSED_BY_GROUP) is bypassed


@pytest.mark.parametrize(
    ("own", "partner", "shown", "origin"),
    [
        ({}, None, "off (the helpdesk registers phones)", "default"),
        ({attr.DUO_SELF_PHONES: "manage"}, None, "manage (users register and", "client realm"),
        ({}, {attr.DUO_SELF_PHONES: "add"}, "add (users register a mobile", "partner realm"),
    ],
    ids=["default", "own", "inherited"],
)
def test_explain_shows_who_may_register_phones(
    own: dict[str, str], partner: dict[str, str] | None, shown: str, origin: str
) -> None:
    """explain's "self phones" row says what users may do with their phones, and from where."""
    linked = {**PARTNER, **partner} if partner is not None else None
    e = resolve_effective({**CLIENT, **own}, linked, realm="c", realm_id="cid")
    decision = decide(e, AppMode.INHERIT)
    view = Explanation(e, None, AppMode.INHERIT, None, (), activated=False, decision=decision)
    value, source = {name: (v, o) for name, v, o in view.rows()}["self phones"]
    assert value.startswith(shown)
    assert source.startswith(origin)
