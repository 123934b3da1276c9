"""``keys generate|rotate|check``: the bridge's secrets, and the envelope keys of the skeys."""

from __future__ import annotations

import argparse

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge import keygen
from keycloak_duo_bridge.admin import keys
from keycloak_duo_bridge.admin.keys import SecretReport
from keycloak_duo_bridge.cli._admin import add_json, connect, print_json, print_table, settings
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.settings import key_ring


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "keys",
        help="the bridge's secrets, and the envelope keys of the stored Duo secrets",
        description=(
            "`generate` prints new secrets for a deployment. Every realm's Duo skey is stored"
            " encrypted under one key of KDB_KEYRING: `check` finds skeys under other keys than"
            " KDB_ACTIVE_KEY_ID, and `rotate` re-encrypts them."
        ),
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    generate = actions.add_parser(
        "generate",
        help="print new production secrets (env file, or JSON)",
        description=(
            "Print new values for KDB_BRIDGE_SIGNING_KEY, KDB_BRIDGE_COOKIE_SECRET, KDB_KEYRING,"
            " KDB_ACTIVE_KEY_ID and KDB_METRICS_TOKEN on stdout, checked by loading them back"
            " as the bridge does. Nothing is written to Keycloak or logged: store the output in"
            " your secret store (a file readable by the bridge's user only, a Kubernetes Secret)"
            " and give every replica the same values."
        ),
        **examples(
            "keycloak-duo-bridge keys generate > /etc/keycloak-duo-bridge/secrets.env",
            "keycloak-duo-bridge keys generate --json --key-id kek2027",
        ),
    )
    generate.add_argument(
        "--key-id",
        default=None,
        help="id of the new envelope key (default: k<YYYYMMDD>, today in UTC)",
    )
    generate.add_argument(
        "--json", action="store_true", help="print a JSON object instead of an env file"
    )
    generate.set_defaults(handler=run_generate)
    rotate = actions.add_parser(
        "rotate",
        help="re-encrypt every skey under the active key",
        description="Re-encrypt every stored skey under KDB_ACTIVE_KEY_ID (exit 1 if any fails).",
        **examples("keycloak-duo-bridge keys rotate --json"),
    )
    add_json(rotate)
    rotate.set_defaults(handler=run, rotate=True)
    check = actions.add_parser(
        "check",
        help="list secrets under old, retired or unknown keys (exit 1 if any)",
        description=(
            "List every stored skey with its key and state; exit 1 if any is under an old,"
            " retired or unknown key."
        ),
        **examples("keycloak-duo-bridge keys check"),
    )
    add_json(check)
    check.set_defaults(handler=run, rotate=False)


def run_generate(args: argparse.Namespace) -> int:
    values = keygen.generate(args.key_id or keygen.default_key_id())
    keygen.check(values)
    if args.json:
        print_json(values)
    else:
        print(keygen.env_file(values), end="")
    return 0


def run(args: argparse.Namespace) -> int:
    config = settings()
    ring = key_ring(config)
    keycloak = connect(config)
    reports = keys.rotate(keycloak, ring) if args.rotate else keys.check(keycloak, ring)
    _print(reports, as_json=args.json)
    return 0 if all(r.ok for r in reports) else 1


def _print(reports: list[SecretReport], *, as_json: bool) -> None:
    if as_json:
        print_json(
            [
                {
                    "realm": r.realm,
                    "key_id": r.key_id,
                    "state": r.state.value,
                    "rotated": r.rotated,
                    "attribute": r.attribute,
                }
                for r in reports
            ]
        )
        return
    print_table(
        ("realm", "key", "state", "rotated"),
        [(_secret(r), r.key_id, r.state.value, "yes" if r.rotated else "no") for r in reports],
    )


def _secret(report: SecretReport) -> str:
    """The realm, and which of its secrets when it is the admin link's."""
    return report.realm if report.attribute == attr.DUO_SKEY else f"{report.realm} (admin link)"
