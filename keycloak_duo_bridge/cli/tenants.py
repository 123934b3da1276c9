"""``partner`` and ``client``: tenant realms, made from realm templates."""

from __future__ import annotations

import argparse

from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.tenants import Tenant
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.cli._admin import (
    add_json,
    confirm,
    connect,
    print_json,
    print_table,
    settings,
    wiring_of,
)
from keycloak_duo_bridge.cli._common import Subparsers


def register(subparsers: Subparsers) -> None:
    for kind in TenantKind:
        parser = subparsers.add_parser(kind.value, help=f"{kind.value} realms")
        actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

        create = actions.add_parser("create", help=f"create a {kind.value} realm (idempotent)")
        create.add_argument("name")
        create.add_argument("--display-name")
        if kind is TenantKind.PARTNER:
            create.add_argument("--branding-url", help="becomes the realm's frontendUrl")
        else:
            create.add_argument("--partner", required=True)
        add_json(create)
        create.set_defaults(handler=create_tenant, kind=kind)

        show = actions.add_parser("show", help=f"show one {kind.value}")
        show.add_argument("name")
        add_json(show)
        show.set_defaults(handler=show_tenant, kind=kind)

        listing = actions.add_parser("list", help="partners and their clients, as a tree")
        add_json(listing)
        listing.set_defaults(handler=list_tenants, kind=kind)

        update = actions.add_parser("update", help=f"change a {kind.value}")
        update.add_argument("name")
        update.add_argument("--display-name")
        if kind is TenantKind.PARTNER:
            urls = update.add_mutually_exclusive_group()
            urls.add_argument("--branding-url")
            urls.add_argument("--no-branding-url", action="store_true")
        else:
            update.add_argument("--partner", help="move the client to another partner")
        add_json(update)
        update.set_defaults(handler=update_tenant, kind=kind)

        delete = actions.add_parser("delete", help=f"delete a {kind.value} realm")
        delete.add_argument("name")
        delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        if kind is TenantKind.PARTNER:
            delete.add_argument(
                "--cascade", action="store_true", help="delete the partner's clients too"
            )
        delete.set_defaults(handler=delete_tenant, kind=kind, cascade=False)


def _print(tenant: Tenant, *, as_json: bool) -> None:
    if as_json:
        print_json(tenant.to_json())
        return
    rows = [(k, v) for k, v in tenant.to_json().items()]
    print_table(("field", "value"), rows)


def create_tenant(args: argparse.Namespace) -> int:
    config = settings()
    keycloak = connect(config)
    if args.kind is TenantKind.PARTNER:
        tenant = tenants.create_partner(
            keycloak,
            args.name,
            branding_url=args.branding_url,
            display_name=args.display_name,
            template_dir=config.template_dir,
        )
    else:
        tenant = tenants.create_client(
            keycloak,
            args.name,
            partner=args.partner,
            display_name=args.display_name,
            template_dir=config.template_dir,
            wires=wiring_of(config) if config.bridge_signing_key else None,
        )
    _print(tenant, as_json=args.json)
    return 0


def show_tenant(args: argparse.Namespace) -> int:
    tenant = tenants.get_tenant(connect(settings()), args.name, args.kind)
    _print(tenant, as_json=args.json)
    return 0


def list_tenants(args: argparse.Namespace) -> int:
    found = tenants.list_tenants(connect(settings()))
    if args.json:
        print_json([t.to_json() for t in found])
        return 0
    rows = [
        (
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
    keycloak = connect(settings())
    tenants.get_tenant(keycloak, args.name, args.kind)
    doomed = tenants.planned_deletion(keycloak, args.name, cascade=args.cascade)
    question = f"Delete realm(s) {', '.join(doomed)} and all their users?"
    if not confirm(question, yes=args.yes):
        print("nothing deleted")
        return 1
    deleted = tenants.delete_tenant(keycloak, args.name, cascade=args.cascade)
    print(f"deleted: {', '.join(deleted)}")
    return 0
