"""``keycloak-duo-bridge emulator``: serve the Duo Universal Prompt emulator until interrupted."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path

from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.emulator import Integration, serve
from keycloak_duo_bridge.emulator.certs import spki_pin
from keycloak_duo_bridge.emulator.control import BadInputError, parse_integration
from keycloak_duo_bridge.emulator.model import NEW_USER_POLICIES

__all__ = ["default_data_dir", "parse_credentials", "register", "run"]


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/keycloak-duo-bridge/duo-emulator`` (``~/.local/share`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "keycloak-duo-bridge" / "duo-emulator"


def parse_credentials(text: str) -> tuple[str, str]:
    """``CLIENT_ID:CLIENT_SECRET`` as given to ``--integration`` (messages never echo it)."""
    client_id, sep, secret = text.partition(":")
    if not sep or not client_id or not secret:
        raise argparse.ArgumentTypeError("expected CLIENT_ID:CLIENT_SECRET")
    return client_id, secret


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="run the Duo Universal Prompt emulator (HTTPS, with a prompt page)",
        description=(
            "Serve a local emulator of Duo's OIDC Auth API and Universal Prompt until"
            " interrupted. Clients use HOST:PORT as their api_host and the printed CA file"
            " as duo_certs; certificate-pinning clients use the printed CA pin (port 443"
            " gives a bare API host, as Duo's are)."
        ),
        **examples(
            "keycloak-duo-bridge emulator --integration DIXXXXXXXXXXXXXXXXXX:<40-char secret>",
            "sudo keycloak-duo-bridge emulator --host 127.0.0.2 --port 443   # for Java's SDK",
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (loopback)")
    parser.add_argument("--port", type=int, default=8443, help="port (0 picks a free one)")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where the CA and certificate live (default {default_data_dir()})",
    )
    parser.add_argument(
        "--integration",
        action="append",
        type=parse_credentials,
        default=[],
        metavar="CLIENT_ID:CLIENT_SECRET",
        help="register an integration (repeatable)",
    )
    parser.add_argument(
        "--new-user-policy",
        choices=NEW_USER_POLICIES,
        default="enroll",
        help="new-user policy of the --integration ones (default enroll)",
    )
    parser.set_defaults(handler=run)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    integrations: list[Integration] = []
    for client_id, secret in args.integration:
        body = {
            "client_id": client_id,
            "client_secret": secret,
            "new_user_policy": args.new_user_policy,
        }
        try:
            integrations.append(parse_integration(body)[0])
        except BadInputError as exc:
            print(f"error: --integration {client_id}: {exc}", file=sys.stderr)
            return 2
    if not _is_loopback(args.host):
        print(
            f"warning: {args.host} is not loopback; the control API (/emulator/) has no"
            " authentication",
            file=sys.stderr,
        )

    def announce(ca_path: Path, base_url: str) -> None:
        print(f"Duo emulator CA: {ca_path}")
        print(f"Duo emulator CA pin: {spki_pin(ca_path)}  (for certificate-pinning clients)")
        print(f"Duo emulator listening on {base_url} (api_host {base_url[len('https://') :]})")
        for integration in integrations:
            print(f"  integration {integration.client_id} ({integration.new_user_policy})")
        print("Press Ctrl-C to stop.", flush=True)

    serve(
        args.data_dir or default_data_dir(),
        host=args.host,
        port=args.port,
        integrations=integrations,
        announce=announce,
    )
    return 0
