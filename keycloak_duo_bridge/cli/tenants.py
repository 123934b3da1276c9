"""``partner`` and ``client``: tenant realms, made from realm templates."""

from __future__ import annotations

import argparse

from keycloak_duo_bridge.admin import organizations as admin_organizations
from keycloak_duo_bridge.admin import provisioning as admin_provisioning
from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.organizations import Organization
from keycloak_duo_bridge.admin.tenants import Tenant
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.cli import move, organizations, provisioning
from keycloak_duo_bridge.cli._admin import (
    add_json,
    confirm,
    connect,
    note_default,
    print_json,
    print_table,
    settings,
    wiring_of,
)
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.errors import ConfigError

_ABOUT = {
    TenantKind.PARTNER: (
        "Partner realms: a managed-service provider's partners. A partner's Duo settings are"
        " the defaults of its clients."
    ),
    TenantKind.CLIENT: (
        "Client realms: the organisations a partner serves, each its own Keycloak realm made"
        " from the client realm template, under one partner."
    ),
}
_CREATE_EXAMPLES = {
    TenantKind.PARTNER: (
        "keycloak-duo-bridge partner create acme --display-name 'Acme (partner)'",
        "keycloak-duo-bridge partner create acme --branding-url https://login.acme.example",
    ),
    TenantKind.CLIENT: (
        "keycloak-duo-bridge client create globex --partner acme",
        "keycloak-duo-bridge client create globex --partner acme --display-name Globex --json",
        "keycloak-duo-bridge client create initech --partner acme --as organization",
    ),
}


_DELETE_ORGANIZATION = {
    TenantKind.PARTNER: "",
    TenantKind.CLIENT: (
        " A client kept as an organization is deleted without its members: they stay users"
        " of the partner realm."
    ),
}


def register(subparsers: Subparsers) -> None:
    for kind in TenantKind:
        word = kind.value
        parser = subparsers.add_parser(word, help=f"{word} realms", description=_ABOUT[kind])
        actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

        create = actions.add_parser(
            "create",
            help=f"create a {word} realm (idempotent)",
            description=(
                f"Create the {word} realm NAME from its realm template. Creating one that"
                " exists already changes nothing and shows it."
            ),
            **examples(*_CREATE_EXAMPLES[kind]),
        )
        create.add_argument("name", help=f"the {word}'s realm name")
        create.add_argument("--display-name", help="the name people see (default: NAME)")
        if kind is TenantKind.PARTNER:
            create.add_argument("--branding-url", help="becomes the realm's frontendUrl")
        else:
            create.add_argument("--partner", required=True, help="the partner this client is under")
            organizations.add_as(create)
            create.add_argument(
                "--duo-provision",
                action="store_true",
                help="create the client's Duo application through the partner's admin link"
                " (and its child account with an Accounts API link), store its keys, check them",
            )
        add_json(create)
        create.set_defaults(handler=create_tenant, kind=kind)

        show = actions.add_parser(
            "show",
            help=f"show one {word}",
            description=f"Show the {word} NAME: its kind, display name and links.",
        )
        show.add_argument("name", help=f"the {word}'s realm name")
        if kind is TenantKind.CLIENT:
            _add_which_partner(show)
        add_json(show)
        show.set_defaults(handler=show_tenant, kind=kind, partner=None)

        listing = actions.add_parser(
            "list",
            help="partners and their clients, as a tree",
            description="List every partner realm with its client realms under it.",
        )
        add_json(listing)
        listing.set_defaults(handler=list_tenants, kind=kind)

        update = actions.add_parser(
            "update",
            help=f"change a {word}",
            description=f"Change the {word} NAME; options not given stay as they are.",
        )
        update.add_argument("name", help=f"the {word}'s realm name")
        update.add_argument("--display-name", help="the new name people see")
        if kind is TenantKind.PARTNER:
            urls = update.add_mutually_exclusive_group()
            urls.add_argument("--branding-url", help="the new frontendUrl of the realm")
            urls.add_argument(
                "--no-branding-url", action="store_true", help="remove the realm's frontendUrl"
            )
        else:
            update.add_argument("--partner", help="move the client to another partner")
        add_json(update)
        update.set_defaults(handler=update_tenant, kind=kind)

        delete = actions.add_parser(
            "delete",
            help=f"delete a {word} realm",
            description=(
                f"Delete the {word} realm NAME and all its users, after asking (or with --yes)."
                + _DELETE_ORGANIZATION[kind]
            ),
        )
        delete.add_argument("name", help=f"the {word}'s realm name")
        delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        if kind is TenantKind.PARTNER:
            delete.add_argument(
                "--cascade", action="store_true", help="delete the partner's clients too"
            )
        else:
            _add_which_partner(delete)
            delete.add_argument(
                "--duo-deprovision",
                action="store_true",
                help="also remove the Duo application (and child account) provisioning made",
            )
        delete.set_defaults(
            handler=delete_tenant, kind=kind, cascade=False, duo_deprovision=False, partner=None
        )
        if kind is TenantKind.CLIENT:
            move.register(actions)


def _add_which_partner(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--partner",
        help="the client's partner: needed when two partners each keep an organization named NAME",
    )


def _print(tenant: Tenant, *, as_json: bool) -> None:
    if as_json:
        print_json(tenant.to_json())
        return
    rows = [(k, v) for k, v in tenant.to_json().items()]
    print_table(("field", "value"), rows)


def create_tenant(args: argparse.Namespace) -> int:
    if getattr(args, "mapping", None) == organizations.ORGANIZATION:
        return organizations.create(args)
    config = settings()
    keycloak = connect(config)
    client = args.kind is not TenantKind.PARTNER
    wires = wiring_of(config) if client and config.bridge_signing_key else None
    if wires is None:  # the realm's console client points at the bridge all the same
        note_default(config, "bridge_url")
    if not client:
        tenant = tenants.create_partner(
            keycloak,
            args.name,
            branding_url=args.branding_url,
            display_name=args.display_name,
            template_dir=config.template_dir,
        )
    else:
        existed = admin_provisioning.exists(keycloak, args.name)
        tenant = tenants.create_client(
            keycloak,
            args.name,
            partner=args.partner,
            display_name=args.display_name,
            template_dir=config.template_dir,
            wires=wires,
        )
        if args.duo_provision:
            done = provisioning.provision(config, keycloak, args.name, existed=existed)
            if args.json:
                print_json({**tenant.to_json(), "duo_provisioned": done})
                return 0
            _print(tenant, as_json=False)
            print(provisioning.describe(args.name, done))
            return 0
    _print(tenant, as_json=args.json)
    return 0


def show_tenant(args: argparse.Namespace) -> int:
    keycloak = connect(settings())
    organization = _organization(keycloak, args)
    if organization is not None:
        return organizations.show_client(args, organization)
    tenant = _under_partner(tenants.get_tenant(keycloak, args.name, args.kind), args.partner)
    _print(tenant, as_json=args.json)
    return 0


def _under_partner(tenant: Tenant, partner: str | None) -> Tenant:
    """``tenant``, when ``partner`` is None or its partner; else ConfigError saying whose it is."""
    if partner is not None and tenant.partner != partner:
        raise ConfigError(
            f"client {tenant.name!r} is a realm under partner {tenant.partner!r}, not"
            f" {partner!r}; nothing changed"
        )
    return tenant


def _organization(keycloak: Keycloak, args: argparse.Namespace) -> Organization | None:
    """The client organization NAME, for the client commands, when no realm is named so."""
    if args.kind is TenantKind.PARTNER:
        return None
    return admin_organizations.find_client(keycloak, args.name, args.partner)


def list_tenants(args: argparse.Namespace) -> int:
    found = admin_organizations.tenant_tree(connect(settings()))
    if args.json:
        print_json([t.describe() if isinstance(t, Organization) else t.to_json() for t in found])
        return 0
    rows = [
        (f"  └─ {t.name}", "client (organization)", t.display_name, None)
        if isinstance(t, Organization)
        else (
            t.name if t.kind is TenantKind.PARTNER else f"  └─ {t.name}",
            t.kind.value,
            t.display_name,
            t.branding_url,
        )
        for t in found
    ]
    print_table(("tenant", "kind", "display name", "branding url"), rows)
    return 0


def update_tenant(args: argparse.Namespace) -> int:
    config = settings()
    keycloak = connect(config)
    organization = _organization(keycloak, args)
    if organization is not None:
        return organizations.update_client(args, keycloak, organization)
    if args.kind is TenantKind.PARTNER:
        tenants.update_partner(
            keycloak,
            args.name,
            branding_url=args.branding_url,
            clear_branding_url=args.no_branding_url,
            display_name=args.display_name,
        )
    else:
        tenants.update_client(
            keycloak,
            args.name,
            partner=args.partner,
            display_name=args.display_name,
            wires=wiring_of(config) if args.partner and config.bridge_signing_key else None,
        )
    _print(tenants.get_tenant(keycloak, args.name), as_json=args.json)
    return 0


def delete_tenant(args: argparse.Namespace) -> int:
    config = settings()
    keycloak = connect(config)
    organization = _organization(keycloak, args)
    if organization is not None:
        return organizations.delete_client(args, config, keycloak, organization)
    tenant = _under_partner(tenants.get_tenant(keycloak, args.name, args.kind), args.partner)
    doomed = tenants.planned_deletion(keycloak, args.name, cascade=args.cascade)
    in_duo = provisioning.planned(tenant.attributes, wanted=args.duo_deprovision)
    question = (
        f"Delete realm(s) {', '.join(doomed)} and all their users{provisioning.also(in_duo)}?"
    )
    if not confirm(question, yes=args.yes):
        print("nothing deleted")
        return 1
    provisioning.deprovision(config, keycloak, args.name, in_duo)
    deleted = tenants.delete_tenant(keycloak, args.name, cascade=args.cascade)
    print(f"deleted: {', '.join(deleted)}")
    return 0
