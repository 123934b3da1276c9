"""The tenant file: partners, their clients, Duo settings and app modes, as YAML.

The schema is documented in ``docs/fleet.md``. Parsing walks PyYAML's node tree, not the
constructed objects, so every error names the file and line it comes from. Secrets appear
only as references, ``env:VAR`` or ``file:PATH`` (relative to the tenant file), and are
read here; a literal skey is rejected, and no message ever repeats a secret.

Keys a tenant leaves out are not managed: apply leaves them as they are. ``inherit``
unsets a setting, so the client realm follows its partner (and the partner the default).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

import yaml

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.duo_settings import INHERIT, Policy, validate_credentials
from keycloak_duo_bridge.admin.effective import parse_app_mode, parse_assurance
from keycloak_duo_bridge.admin.idp_policy import IdpPolicy, changed, parse_alias, policy_of
from keycloak_duo_bridge.admin.templates import validate_realm_name, validate_url
from keycloak_duo_bridge.attributes import AppMode, TenantKind
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.errors import ConfigError

VERSION: Final = 1
_STR = "tag:yaml.org,2002:str"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_NULL = "tag:yaml.org,2002:null"
_DUO_KEYS: Final = frozenset(
    {
        "enabled",
        "ikey",
        "api_host",
        "skey",
        "user_mode",
        "fail_mode",
        "bypass_groups",
        "remember",
        "duo_username",
        "assurance",
        "brokered_username",
        "auth_api",
        "brokered_enrollment",
        "provision",
    }
)
_CREDENTIAL_KEYS: Final = frozenset({"ikey", "api_host", "skey"})
PROVISION: Final = "provision"  # `duo: provision`, a client's Duo made through the partner link
REALM: Final = "realm"  # a client kept as a realm of its own (the default)
ORGANIZATION: Final = "organization"  # a client kept as an organization of its partner's realm
# What a client organization cannot declare, and why: these are the partner realm's own
# (its users, identity providers and flows).
_NOT_FOR_ORGANIZATIONS: Final = {
    "idps": "identity providers are the partner realm's own, not an organization's",
    "duo_username": "the Duo username mapping is the partner realm's own setting",
    "brokered_username": "brokered users' rules are the partner realm's own settings",
    "brokered_enrollment": "brokered users' rules are the partner realm's own settings",
    "assurance": "the assurance mode is the partner realm's own (its flow binding)",
}


@dataclass(frozen=True)
class SecretRef:
    """Where a secret comes from (``env:VAR`` / ``file:PATH``) and, once read, its value."""

    reference: str
    value: str = field(repr=False)


@dataclass(frozen=True)
class DeclaredCredentials:
    ikey: str
    api_host: str
    skey: SecretRef

    def auth_api_credentials(self) -> AuthApiCredentials:
        """These, as the Auth API's credentials (its skey read)."""
        return AuthApiCredentials(self.ikey, self.skey.value, self.api_host)


@dataclass(frozen=True)
class DuoSpec:
    """Declared Duo settings; None leaves a setting alone, ``inherit`` unsets it."""

    enabled: str | None = None  # "true" | "false" | "inherit"
    credentials: DeclaredCredentials | None = None
    policy: Policy = field(default_factory=Policy)
    assurance: str | None = None  # "enforce" | "step-up" | "inherit" (the default, enforce)
    # The Auth API keys (CIBA): declared, "inherit" (removed: a client uses its partner's)
    auth_api: DeclaredCredentials | str | None = None
    provision: bool = False  # clients: Duo's application made through the partner's link


@dataclass(frozen=True)
class TenantSpec:
    name: str
    kind: TenantKind
    line: int
    partner: str | None = None
    display_name: str | None = None
    branding_url: str | None = None
    duo: DuoSpec = field(default_factory=DuoSpec)
    apps: dict[str, AppMode] = field(default_factory=dict)
    # every identity provider whose Duo policy is not ``duo``; None: not managed
    idps: dict[str, IdpPolicy] | None = None
    mapping: str = REALM  # a client's: ``realm`` or ``organization`` (in its partner's realm)

    @property
    def is_organization(self) -> bool:
        return self.mapping == ORGANIZATION


@dataclass(frozen=True)
class FleetSpec:
    """Every declared tenant, partners first, each partner's clients after it."""

    path: Path
    tenants: tuple[TenantSpec, ...]

    @property
    def partners(self) -> tuple[TenantSpec, ...]:
        return tuple(t for t in self.tenants if t.kind is TenantKind.PARTNER)

    @property
    def clients(self) -> tuple[TenantSpec, ...]:
        return tuple(t for t in self.tenants if t.kind is TenantKind.CLIENT)

    def names(self) -> set[str]:
        return {t.name for t in self.tenants}


class _Reader:
    """Turns nodes into values, raising ConfigError with ``file:line: where: what``."""

    def __init__(self, path: Path, environ: dict[str, str]) -> None:
        self.path = path
        self.environ = environ

    def fail(self, node: yaml.Node, where: str, what: str) -> ConfigError:
        return ConfigError(f"{self.path}:{node.start_mark.line + 1}: {where}: {what}")

    def mapping(
        self, node: yaml.Node, where: str, allowed: frozenset[str] | None = None
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """Keys to (key node, value node); duplicate and (if ``allowed``) unknown keys fail."""
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, "expected a mapping")
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            name = self.text(key, where)
            if name in out:
                raise self.fail(key, where, f"{name!r} is given twice")
            if allowed is not None and name not in allowed:
                expected = ", ".join(sorted(allowed))
                raise self.fail(key, where, f"unknown key {name!r} (expected one of: {expected})")
            out[name] = (key, value)
        return out

    def text(self, node: yaml.Node, where: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in {_STR, _INT}:
            raise self.fail(node, where, "expected a string")
        return str(node.value)

    def checked(self, node: yaml.Node, where: str, parse: Callable[[str], str]) -> str:
        try:
            return parse(self.text(node, where))
        except ConfigError as exc:
            raise self.fail(node, where, str(exc)) from None

    def secret(self, node: yaml.Node, where: str) -> SecretRef:
        if not isinstance(node, yaml.ScalarNode) or node.tag != _STR:
            raise self.fail(node, where, "expected env:VAR or file:PATH")
        reference = str(node.value)
        kind, _, target = reference.partition(":")
        if kind == "env" and target:
            value = self.environ.get(target, "").strip()
            if not value:
                raise self.fail(node, where, f"environment variable {target} is not set")
            return SecretRef(reference, value)
        if kind == "file" and target:
            path = (self.path.parent / target).expanduser()
            try:
                return SecretRef(reference, path.read_text(encoding="utf-8").strip())
            except OSError as exc:
                raise self.fail(node, where, f"cannot read {path}: {exc.strerror}") from None
        # Never echo the value: it may be the secret itself.
        raise self.fail(
            node, where, "a secret must be a reference, env:VAR or file:PATH (plaintext rejected)"
        )


def load(path: Path, environ: dict[str, str] | None = None) -> FleetSpec:
    """Read and validate the tenant file at ``path``; secrets are read from their references."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the tenant file {path}: {exc.strerror}") from None
    return parse(text, path, dict(os.environ) if environ is None else environ)


def _compose(text: str, path: Path) -> yaml.Node | None:
    """The YAML node tree, or a ConfigError that names the file and line."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f"{mark.line + 1}" if mark is not None else "?"
        raise ConfigError(f"{path}:{line}: not valid YAML: {exc.problem}") from None
    except yaml.reader.ReaderError as exc:  # a control character: PyYAML's reader refuses it
        number = text.count("\n", 0, exc.position) + 1
        raise ConfigError(
            f"{path}:{number}: not valid YAML: control character {exc.character!r} is not allowed"
        ) from None


def parse(text: str, path: Path, environ: dict[str, str]) -> FleetSpec:
    root = _compose(text, path)
    if root is None:
        raise ConfigError(f"{path}:1: the tenant file is empty")
    reader = _Reader(path, environ)
    top = reader.mapping(root, "tenant file", frozenset({"version", "partners"}))
    if "version" not in top:
        raise reader.fail(root, "tenant file", f"missing 'version: {VERSION}'")
    version = top["version"][1]
    if not (isinstance(version, yaml.ScalarNode) and version.value == str(VERSION)):
        raise reader.fail(version, "version", f"only version {VERSION} is known")
    tenants: list[TenantSpec] = []
    if "partners" in top:
        partners = top["partners"][1]
        if not (isinstance(partners, yaml.ScalarNode) and partners.tag == _NULL):
            for name, (key, node) in reader.mapping(partners, "partners").items():
                tenants.extend(_partner(reader, name, key, node))
    seen: dict[str, TenantSpec] = {}
    for tenant in tenants:
        if tenant.name in seen:
            raise ConfigError(
                f"{path}:{tenant.line}: realm {tenant.name!r} is declared twice "
                f"(first on line {seen[tenant.name].line})"
            )
        seen[tenant.name] = tenant
    return FleetSpec(path, tuple(tenants))


def _partner(reader: _Reader, name: str, key: yaml.Node, node: yaml.Node) -> list[TenantSpec]:
    where = f"partners.{name}"
    fields = reader.mapping(
        node, where, frozenset({"display_name", "branding_url", "duo", "apps", "idps", "clients"})
    )
    partner = _tenant(reader, name, key, fields, where, TenantKind.PARTNER, None)
    out = [partner]
    if "clients" in fields:
        clients = fields["clients"][1]
        for client, (ckey, cnode) in reader.mapping(clients, f"{where}.clients").items():
            cwhere = f"{where}.clients.{client}"
            cfields = reader.mapping(
                cnode, cwhere, frozenset({"display_name", "duo", "apps", "idps", "as"})
            )
            client_spec = _tenant(reader, client, ckey, cfields, cwhere, TenantKind.CLIENT, name)
            mapping = _mapping(reader, cfields, cwhere)
            if mapping == ORGANIZATION:
                _refuse_for_organization(reader, cfields, cwhere)
                client_spec = replace(client_spec, mapping=mapping)
            out.append(client_spec)
    return out


def _mapping(reader: _Reader, fields: dict[str, tuple[yaml.Node, yaml.Node]], where: str) -> str:
    """``as: realm`` (the default) or ``as: organization``."""
    if "as" not in fields:
        return REALM
    node = fields["as"][1]
    value = reader.text(node, f"{where}.as")
    if value not in {REALM, ORGANIZATION}:
        raise reader.fail(node, f"{where}.as", f"expected realm or organization, not {value!r}")
    return value


def _refuse_for_organization(
    reader: _Reader, fields: dict[str, tuple[yaml.Node, yaml.Node]], where: str
) -> None:
    """What a client organization cannot declare, refused with the reason."""
    if "idps" in fields:
        raise reader.fail(fields["idps"][0], f"{where}.idps", _NOT_FOR_ORGANIZATIONS["idps"])
    if "duo" not in fields:
        return
    node = fields["duo"][1]
    if isinstance(node, yaml.ScalarNode):  # `duo: provision`, the only scalar _duo accepts
        return
    for name, (key, _) in reader.mapping(node, f"{where}.duo").items():
        if name in _NOT_FOR_ORGANIZATIONS:
            raise reader.fail(key, f"{where}.duo.{name}", _NOT_FOR_ORGANIZATIONS[name])


def _tenant(  # noqa: PLR0917
    reader: _Reader,
    name: str,
    key: yaml.Node,
    fields: dict[str, tuple[yaml.Node, yaml.Node]],
    where: str,
    kind: TenantKind,
    partner: str | None,
) -> TenantSpec:
    reader.checked(key, where, validate_realm_name)
    display = (
        reader.text(fields["display_name"][1], f"{where}.display_name")
        if ("display_name" in fields)
        else None
    )
    branding = (
        reader.checked(fields["branding_url"][1], f"{where}.branding_url", validate_url)
        if "branding_url" in fields
        else None
    )
    duo = _duo(reader, fields["duo"][1], f"{where}.duo") if "duo" in fields else DuoSpec()
    if duo.provision and kind is TenantKind.PARTNER:
        node = fields["duo"][1]
        raise reader.fail(node, f"{where}.duo", "only a client's Duo is provisioned")
    apps: dict[str, AppMode] = {}
    if "apps" in fields:
        for app, (_, mode) in reader.mapping(fields["apps"][1], f"{where}.apps").items():
            if isinstance(mode, yaml.ScalarNode) and mode.value.lower() == "off":
                apps[app] = AppMode.OFF  # YAML 1.1 reads a bare off as false
                continue
            apps[app] = AppMode(reader.checked(mode, f"{where}.apps.{app}", _app_mode))
    return TenantSpec(
        name=name,
        kind=kind,
        line=key.start_mark.line + 1,
        partner=partner,
        display_name=display,
        branding_url=branding,
        duo=duo,
        apps=apps,
        idps=_idps(reader, fields["idps"][1], f"{where}.idps") if "idps" in fields else None,
    )


_IDP_KEYS: Final = frozenset({"policy", "amr", "acr", "saml_context", "confirm_off"})


def _idps(reader: _Reader, node: yaml.Node, where: str) -> dict[str, IdpPolicy]:
    """``idps: {alias: {policy: trust-upstream-mfa, amr: [mfa]}}``: every identity provider
    whose policy is not ``duo`` (an ``off`` one with ``confirm_off: true``)."""
    if isinstance(node, yaml.ScalarNode) and node.tag == _NULL:
        return {}
    out: dict[str, IdpPolicy] = {}
    for alias, (key, body) in reader.mapping(node, where).items():
        here = f"{where}.{alias}"
        fields = reader.mapping(body, here, _IDP_KEYS)
        if "policy" not in fields:
            raise reader.fail(body, here, "policy is duo, trust-upstream-mfa or off")
        mode = fields["policy"][1]
        text = "off" if _is_false(mode) else reader.text(mode, f"{here}.policy")
        lists = {
            name: _texts(reader, fields, name, here) for name in ("amr", "acr", "saml_context")
        }
        confirmed = "confirm_off" in fields and fields["confirm_off"][1].value.lower() == "true"
        try:
            alias_ok = parse_alias(alias)
            policy = policy_of(text, **lists)
            changed({}, alias_ok, policy, confirm_off=confirmed)  # off needs its confirmation
        except ConfigError as exc:
            raise reader.fail(key, here, str(exc)) from None
        out[alias_ok] = policy
    return out


def _is_false(node: yaml.Node) -> bool:
    """YAML 1.1 reads a bare off as false."""
    return isinstance(node, yaml.ScalarNode) and node.tag == _BOOL and node.value.lower() == "off"


def _texts(
    reader: _Reader, fields: dict[str, tuple[yaml.Node, yaml.Node]], name: str, where: str
) -> list[str]:
    if name not in fields:
        return []
    node = fields[name][1]
    if not isinstance(node, yaml.SequenceNode):
        raise reader.fail(node, f"{where}.{name}", "expected a list")
    return [reader.text(item, f"{where}.{name}") for item in node.value]


def _app_mode(text: str) -> str:
    return parse_app_mode(text).value


def _duo(reader: _Reader, node: yaml.Node, where: str) -> DuoSpec:
    if isinstance(node, yaml.ScalarNode) and node.value == PROVISION:
        return DuoSpec(provision=True)
    fields = reader.mapping(node, where, _DUO_KEYS)
    enabled = None
    if "enabled" in fields:
        value = fields["enabled"][1]
        if isinstance(value, yaml.ScalarNode) and value.tag == _BOOL:
            enabled = "true" if value.value.lower() in {"true", "yes", "on"} else "false"
        elif isinstance(value, yaml.ScalarNode) and value.value == INHERIT:
            enabled = INHERIT
        else:
            raise reader.fail(value, f"{where}.enabled", "expected true, false or inherit")
    credentials = _credentials(reader, node, fields, where)
    policy = Policy(
        user_mode=_opt(reader, fields, "user_mode", where),
        fail_mode=_opt(reader, fields, "fail_mode", where),
        remember=_opt(reader, fields, "remember", where),
        bypass_groups=_groups(reader, fields, where),
        duo_username=_opt(reader, fields, "duo_username", where),
        brokered_username=_opt(reader, fields, "brokered_username", where),
        brokered_enrollment=_opt(reader, fields, "brokered_enrollment", where),
    )
    names = ("user_mode", "fail_mode", "remember", "bypass_groups", "duo_username")
    for name in (*names, "brokered_username", "brokered_enrollment"):
        if name in fields:
            try:
                Policy(**{name: getattr(policy, name)}).changes()
            except ConfigError as exc:
                raise reader.fail(fields[name][1], f"{where}.{name}", str(exc)) from None
    assurance = _opt(reader, fields, "assurance", where)
    if assurance is not None and assurance != INHERIT:
        try:
            parse_assurance(assurance)
        except ConfigError as exc:
            raise reader.fail(fields["assurance"][1], f"{where}.assurance", str(exc)) from None
    provision = _provision(reader, fields, where, given_keys=credentials is not None)
    return DuoSpec(
        enabled=enabled,
        credentials=credentials,
        policy=policy,
        assurance=assurance,
        auth_api=_auth_api(reader, fields, where),
        provision=provision,
    )


def _auth_api(
    reader: _Reader, fields: dict[str, tuple[yaml.Node, yaml.Node]], where: str
) -> DeclaredCredentials | str | None:
    """``auth_api``: ikey, api_host and skey (a reference), or ``inherit``."""
    if "auth_api" not in fields:
        return None
    node = fields["auth_api"][1]
    if isinstance(node, yaml.ScalarNode) and node.value == INHERIT:
        return INHERIT
    inner = f"{where}.auth_api"
    found = _credentials(reader, node, reader.mapping(node, inner, _CREDENTIAL_KEYS), inner)
    if found is None:
        raise reader.fail(node, inner, "give ikey, api_host and skey, or inherit")
    return found


def _provision(
    reader: _Reader,
    fields: dict[str, tuple[yaml.Node, yaml.Node]],
    where: str,
    *,
    given_keys: bool,
) -> bool:
    """``provision: true``: the client's Duo is made through its partner's admin link."""
    if PROVISION not in fields:
        return False
    value = fields[PROVISION][1]
    if not (isinstance(value, yaml.ScalarNode) and value.tag == _BOOL):
        raise reader.fail(value, f"{where}.provision", "expected true or false")
    provision = value.value.lower() in {"true", "yes", "on"}
    if provision and given_keys:
        raise reader.fail(
            value, f"{where}.provision", "give either provision or ikey/api_host/skey"
        )
    return provision


def _opt(
    reader: _Reader, fields: dict[str, tuple[yaml.Node, yaml.Node]], name: str, where: str
) -> str | None:
    return reader.text(fields[name][1], f"{where}.{name}") if name in fields else None


def _groups(
    reader: _Reader, fields: dict[str, tuple[yaml.Node, yaml.Node]], where: str
) -> list[str] | None:
    if "bypass_groups" not in fields:
        return None
    node = fields["bypass_groups"][1]
    if isinstance(node, yaml.ScalarNode) and node.value == INHERIT:
        return [INHERIT]
    if not isinstance(node, yaml.SequenceNode):
        raise reader.fail(node, f"{where}.bypass_groups", "expected a list of group paths")
    return [reader.text(item, f"{where}.bypass_groups") for item in node.value]


def _credentials(
    reader: _Reader,
    node: yaml.Node,
    fields: dict[str, tuple[yaml.Node, yaml.Node]],
    where: str,
) -> DeclaredCredentials | None:
    given = [k for k in ("ikey", "api_host", "skey") if k in fields]
    # The skey is checked first: a plaintext skey is rejected whatever else is wrong.
    skey = reader.secret(fields["skey"][1], f"{where}.skey") if "skey" in fields else None
    if not given:
        return None
    if skey is None or len(given) != 3:  # noqa: PLR2004
        raise reader.fail(node, where, "ikey, api_host and skey go together: give all three")
    ikey = reader.text(fields["ikey"][1], f"{where}.ikey")
    api_host = reader.text(fields["api_host"][1], f"{where}.api_host")
    try:
        # Shape only: whether the host must be Duo's is the writer's setting, checked when
        # apply writes it (and by the Duo client before any call).
        validate_credentials(ikey, skey.value, api_host, allow_any_host=True)
    except ConfigError as exc:
        raise reader.fail(node, where, str(exc)) from None
    return DeclaredCredentials(ikey=ikey, api_host=api_host, skey=skey)


REALM_KEYS: Final = {
    "duo.enabled": attr.DUO_ENABLED,
    "duo.ikey": attr.DUO_IKEY,
    "duo.api_host": attr.DUO_API_HOST,
    "duo.user_mode": attr.DUO_USER_MODE,
    "duo.fail_mode": attr.DUO_FAIL_MODE,
    "duo.bypass_groups": attr.DUO_BYPASS_GROUPS,
    "duo.remember": attr.DUO_REMEMBER,
    "duo.duo_username": attr.DUO_USERNAME,
    "duo.assurance": attr.DUO_ASSURANCE,
    "duo.brokered_username": attr.DUO_BROKERED_USERNAME,
    "duo.auth_api.ikey": attr.AUTH_API_IKEY,
    "duo.auth_api.api_host": attr.AUTH_API_HOST,
    "duo.brokered_enrollment": attr.DUO_BROKERED_ENROLLMENT,
    "idps": attr.DUO_IDPS,
}
"""Tenant-file keys and the realm attributes they become (the skey is handled apart)."""
