"""Clients kept as organizations: ``client create NAME --partner P --as organization``, and
``--org NAME`` on the ``duo``, ``app set`` and ``explain`` commands, whose REALM is then the
partner realm that holds the organization."""

from __future__ import annotations

import argparse
from typing import Final

from keycloak_duo_bridge.admin import organizations as orgs
from keycloak_duo_bridge.admin.duo_settings import Policy
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.cli import provisioning
from keycloak_duo_bridge.cli._admin import (
    confirm,
    connect,
    health_check,
    print_json,
    print_table,
    read_skey,
    settings,
)
from keycloak_duo_bridge.settings import Settings, key_ring

REALM: Final = "realm"
ORGANIZATION: Final = "organization"


def add_as(parser: argparse.ArgumentParser) -> None:
    """``--as realm|organization`` on ``client create``."""
    parser.add_argument(
        "--as",
        dest="mapping",
        choices=(REALM, ORGANIZATION),
        default=REALM,
        help="realm (default): the client gets a realm of its own; organization: the client"
        " is a Keycloak Organization inside the partner's realm",
    )


def add_org(parser: argparse.ArgumentParser) -> None:
    """``--org NAME``: address a client kept as an organization of the realm named."""
    parser.add_argument(
        "--org",
        metavar="NAME",
        help="the client kept as organization NAME inside this partner realm",
    )


def _find(args: argparse.Namespace) -> tuple[Keycloak, orgs.Organization]:
    keycloak = connect(settings())
    return keycloak, orgs.get_organization(keycloak, args.realm, args.org)


def _where(organization: orgs.Organization) -> str:
    return f"{organization.partner} --org {organization.name}"


def create(args: argparse.Namespace) -> int:
    """``client create --as organization``, and with ``--duo-provision`` its own Duo
    application: an organization this command made goes again if provisioning fails."""
    config = settings()
    keycloak = connect(config)
    found = orgs.find_client(keycloak, args.name, args.partner) if args.duo_provision else None
    organization = orgs.create_organization(
        keycloak, args.name, partner=args.partner, display_name=args.display_name
    )
    shown = organization.to_json()
    done = None
    if args.duo_provision:
        existed = found is not None and found.partner == organization.partner
        done = provisioning.provision(config, keycloak, organization, existed=existed)
    if args.json:
        print_json(shown if done is None else {**shown, "duo_provisioned": done})
        return 0
    print_table(("field", "value"), list(shown.items()))
    if done is not None:
        print(provisioning.describe(args.name, done))
    return 0


def set_credentials(args: argparse.Namespace) -> int:
    config = settings()
    keycloak, organization = _find(args)
    health = health_check(config, args)
    result = orgs.set_credentials(
        keycloak,
        organization,
        ikey=args.ikey,
        skey=read_skey(args),
        api_host=args.host,
        ring=key_ring(config),
        health=health,
        allow_unverified=args.allow_unverified,
    )
    state = "saved" if result.written else "unchanged"
    if args.json:
        print_json(
            {
                "realm": args.realm,
                "organization": args.org,
                "credentials": state,
                "health_check": str(result.verification),
                "ikey": args.ikey,
                "api_host": args.host,
            }
        )
    else:
        print(
            f"{_where(organization)}: Duo credentials {state} (health check: {result.verification})"
        )
    return 0


def clear_credentials(args: argparse.Namespace) -> int:
    keycloak, organization = _find(args)
    written = orgs.clear_credentials(keycloak, organization)
    if args.json:
        state = "removed" if written else "not_set"
        print_json({"realm": args.realm, "organization": args.org, "credentials": state})
    else:
        print(
            f"{_where(organization)}: own Duo credentials "
            f"{'removed' if written else 'were not set'}"
        )
    return 0


def set_policy(args: argparse.Namespace, policy: Policy) -> int:
    keycloak, organization = _find(args)
    written = orgs.set_policy(keycloak, organization, policy)
    state = "saved" if written else "unchanged"
    if args.json:
        print_json({"realm": args.realm, "organization": args.org, "policy": state})
    else:
        print(f"{_where(organization)}: Duo policy {state}")
    return 0


def switch(args: argparse.Namespace) -> int:
    keycloak, organization = _find(args)
    orgs.set_enabled(keycloak, organization, enabled=args.enabled)
    state = {True: "on", False: "off", None: "inherit"}[args.enabled]
    if args.json:
        print_json({"realm": args.realm, "organization": args.org, "enabled": state})
    else:
        word = {True: "on", False: "off", None: "inherited from the partner"}[args.enabled]
        print(f"{_where(organization)}: Duo {word}")
    return 0


def show(args: argparse.Namespace) -> int:
    _, organization = _find(args)
    shown = orgs.show(organization)
    if args.json:
        print_json(shown)
    else:
        print_table(("setting", "value"), list(shown.items()))
    return 0


def set_app_mode(args: argparse.Namespace) -> int:
    keycloak, organization = _find(args)
    written = orgs.set_app_mode(keycloak, organization, args.client_id, args.mode)
    if args.json:
        print_json(
            {
                "realm": args.realm,
                "organization": args.org,
                "client_id": args.client_id,
                "mode": args.mode,
                "written": written,
            }
        )
    else:
        state = "set" if written else "unchanged"
        print(f"{_where(organization)}: {args.client_id} mode {args.mode} ({state})")
    return 0


# -- `client show|update|delete NAME` when the client is an organization ------------------


def show_client(args: argparse.Namespace, organization: orgs.Organization) -> int:
    """``client show``: where the client lives, and its own Duo settings (``duo show``)."""
    shown = orgs.summary(organization)
    if args.json:
        print_json(shown)
    else:
        duo = shown.pop("duo")
        rows = [*shown.items(), *((f"duo {k}", v) for k, v in duo.items())]
        print_table(("field", "value"), rows)
    return 0


def update_client(
    args: argparse.Namespace, keycloak: Keycloak, organization: orgs.Organization
) -> int:
    """``client update``: its display name; another partner is refused."""
    orgs.refuse_move(organization, args.partner)
    orgs.update(keycloak, organization, display_name=args.display_name)
    changed = orgs.get_organization(keycloak, organization.partner, organization.name)
    if args.json:
        print_json(changed.describe())
    else:
        print_table(("field", "value"), list(changed.describe().items()))
    return 0


def delete_client(
    args: argparse.Namespace, config: Settings, keycloak: Keycloak, organization: orgs.Organization
) -> int:
    """``client delete``: the organization, after asking; its members stay in the realm.
    With ``--duo-deprovision``, what provisioning made for it in Duo goes first."""
    members = orgs.member_count(keycloak, organization)
    in_duo = provisioning.planned(organization.attributes, wanted=args.duo_deprovision)
    question = (
        f"Delete organization {organization.name} of partner {organization.partner} and its"
        f" Duo settings{provisioning.also(in_duo)}? Its {members} member user(s) stay users of"
        f" realm {organization.partner}, with the partner's Duo settings"
    )
    if not confirm(question, yes=args.yes):
        print("nothing deleted")
        return 1
    provisioning.deprovision(config, keycloak, organization, in_duo)
    orgs.delete(keycloak, organization)
    print(f"deleted: organization {organization.name} of partner {organization.partner}")
    return 0
