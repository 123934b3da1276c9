"""``idp``: the Duo policy of a realm's identity providers (brokered logins)."""

from __future__ import annotations

import argparse

from keycloak_duo_bridge.admin import idps
from keycloak_duo_bridge.admin.idp_policy import IdpPolicy, policy_of
from keycloak_duo_bridge.cli._admin import add_json, connect, print_json, print_table, settings
from keycloak_duo_bridge.cli._common import Subparsers, examples


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "idp",
        help="per identity-provider Duo policy",
        description=(
            "Whether a login through one of the realm's identity providers passes Duo:"
            " duo (always, the default), trust-upstream-mfa (not when the IdP's token proves"
            " its own MFA with an amr, an acr or a SAML context class on the allow-list;"
            " Duo otherwise), or off (never; needs --confirm-off)."
        ),
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    policy = actions.add_parser(
        "policy",
        help="set an identity provider's Duo policy",
        description="Set the Duo policy of the identity provider ALIAS of REALM.",
        **examples(
            "keycloak-duo-bridge idp policy globex partner trust-upstream-mfa --amr mfa --amr hwk",
            "keycloak-duo-bridge idp policy globex adfs trust-upstream-mfa --saml-context"
            " urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
            "keycloak-duo-bridge idp policy globex partner off --confirm-off",
            "keycloak-duo-bridge idp policy globex partner duo",
        ),
    )
    policy.add_argument("realm", help="the realm that brokers to the identity provider")
    policy.add_argument("alias", help="the identity provider's alias in that realm")
    policy.add_argument("mode", choices=("duo", "trust-upstream-mfa", "off"), help="the policy")
    for flag, what in (
        ("--amr", "an amr value of the upstream ID token that proves MFA (e.g. mfa, hwk)"),
        ("--acr", "an acr value of the upstream ID token that proves MFA"),
        ("--saml-context", "a SAML AuthnContextClassRef that proves MFA"),
    ):
        policy.add_argument(flag, action="append", default=[], metavar="VALUE", help=what)
    policy.add_argument(
        "--confirm-off",
        action="store_true",
        help="confirm off: every login through this IdP goes in without Duo",
    )
    add_json(policy)
    policy.set_defaults(handler=set_policy)

    show = actions.add_parser(
        "list",
        help="the realm's identity providers and their Duo policies",
        description="List the identity providers of REALM with their Duo policy and proofs.",
        **examples("keycloak-duo-bridge idp list globex --json"),
    )
    show.add_argument("realm", help="the realm")
    add_json(show)
    show.set_defaults(handler=list_policies)


def as_json(alias: str, policy: IdpPolicy) -> dict[str, object]:
    return {"alias": alias, **policy.stored()}


def set_policy(args: argparse.Namespace) -> int:
    chosen = policy_of(args.mode, amr=args.amr, acr=args.acr, saml_context=args.saml_context)
    keycloak = connect(settings())
    written = idps.set_idp_policy(
        keycloak, args.realm, args.alias, chosen, confirm_off=args.confirm_off
    )
    if args.json:
        print_json({"realm": args.realm, **as_json(args.alias, chosen), "written": written})
    else:
        state = "changed" if written else "unchanged"
        print(f"{args.realm} {args.alias}: {chosen.mode.value} {chosen.proofs()} ({state})")
    return 0


def list_policies(args: argparse.Namespace) -> int:
    found = idps.show_idp_policies(connect(settings()), args.realm)
    if args.json:
        print_json([as_json(alias, policy) for alias, policy in found.items()])
    else:
        rows = [(alias, p.mode.value, p.proofs()) for alias, p in found.items()]
        print_table(("ALIAS", "POLICY", "PROOF"), rows)
    return 0
