"""``keycloak-duo-bridge serve``: the step-up bridge on uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from keycloak_duo_bridge import logs
from keycloak_duo_bridge.app import create_app
from keycloak_duo_bridge.cli._admin import note_default
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.serving import bridge_options
from keycloak_duo_bridge.settings import load_settings


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the step-up bridge (Starlette on uvicorn)",
        description=(
            "Serve the step-up bridge, the admin console (/admin), Duo self-service"
            " (/account/duo) and the admin API (/admin/api) until interrupted. It reads its"
            " settings from KDB_* variables and checks its keys before it listens. With"
            " KDB_BRIDGE_TLS_CERT_FILE and _KEY_FILE it serves https itself; behind a TLS"
            " proxy, KDB_FORWARDED_ALLOW_IPS names the proxies whose X-Forwarded-* headers"
            " it trusts (none by default)."
        ),
        **examples(
            'eval "$(keycloak-duo-bridge sandbox env)" && keycloak-duo-bridge serve',
            "KDB_BRIDGE_PORT=8100 keycloak-duo-bridge serve --host 0.0.0.0",
            "KDB_FORWARDED_ALLOW_IPS=10.0.0.5 keycloak-duo-bridge serve --host 0.0.0.0",
        ),
    )
    parser.add_argument("--host", help="address to listen on (default: KDB_BRIDGE_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (default: KDB_BRIDGE_PORT)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    given = {"bridge_host": args.host, "bridge_port": args.port}
    # --host and --port count as KDB_BRIDGE_HOST and _PORT, so an unset KDB_BRIDGE_URL (the
    # address the console's sign-in returns to) follows them
    settings = load_settings(**{k: v for k, v in given.items() if v})
    note_default(settings, "bridge_url")
    app = create_app(settings)  # validates keys and secrets before listening
    logs.configure()
    uvicorn.run(app, **bridge_options(settings))
    return 0
