"""``keycloak-duo-bridge demo``: the whole stack on the embedded defaults, and a walked login."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.sandbox import stack as demo_stack
from keycloak_duo_bridge.sandbox.walk import Walk, WalkError, walk_login
from keycloak_duo_bridge.settings import load_settings
from keycloak_duo_bridge.verdict import Result

EXIT_WALK_FAILED = 4


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="sandbox Keycloak + Duo emulator + bridge, provisioned; stays up until Ctrl-C",
        description=(
            "Start the sandbox Keycloak, the Duo emulator, the bridge and a demo application;"
            " provision partner acme, client realm globex and users alice and bob; print"
            " every URL and password, and stay up until Ctrl-C. Ports come from"
            " KDB_SANDBOX_HTTP_PORT, KDB_BRIDGE_PORT, KDB_DEMO_APP_PORT and KDB_DEMO_DUO_PORT."
        ),
        **examples(
            "keycloak-duo-bridge demo",
            "keycloak-duo-bridge demo --walk --exit   # CI: exit 0 only if the login passed Duo",
            "KDB_BRIDGE_PORT=8100 KDB_DEMO_APP_PORT=8101 keycloak-duo-bridge demo",
        ),
    )
    parser.add_argument(
        "--walk", action="store_true", help="walk alice's login headlessly and print each hop"
    )
    parser.add_argument(
        "--exit",
        action="store_true",
        help="stop everything and exit once set up (and walked); exit 0 only if Duo was passed",
    )
    parser.set_defaults(handler=run)


def _walk_alice(stack: demo_stack.Stack) -> Walk:
    return _walk(stack, "alice")


def _walk(stack: demo_stack.Stack, username: str, extra: dict[str, str] | None = None) -> Walk:
    return walk_login(
        keycloak_url=stack.settings.keycloak_url,
        realm=demo_stack.CLIENT,
        client_id=demo_stack.APP,
        redirect_uri=f"{stack.app_url}/callback",
        username=username,
        password=stack.passwords[username],
        verify=tls_context(stack.emulator.ca_path),
        extra_query=extra,
    )


def walk_federated(stack: demo_stack.Stack) -> bool:
    """Walk the partner IdP user's brokered login (straight to the partner's IdP): True if
    Duo allowed it, under the link's Duo name."""
    control = stack.emulator.control
    user = demo_stack.PARTNER_IDP_USER
    seen = max((int(e["seq"]) for e in control.events()), default=0)
    try:
        login = _walk(stack, user, {"kc_idp_hint": demo_stack.PARTNER_IDP})
    except WalkError as exc:
        print(f"federated walk failed: {exc}")
        return False
    asked = [str(e["username"]) for e in control.events("authorize") if int(e["seq"]) > seen]
    duo = login.id_claims.get("duo", {})
    print(f"\n{user}'s federated login through {demo_stack.PARTNER_IDP}: Duo asked {asked}")
    print("ID token Duo claims:", json.dumps(duo, indent=2))
    return isinstance(duo, dict) and duo.get("result") == Result.ALLOW and len(asked) == 1


def walk(stack: demo_stack.Stack) -> bool:
    """Walk alice's login twice (cold, then warm); print hops and claims. True if Duo allowed."""
    control = stack.emulator.control
    names = ("alice", stack.partner_duo_name)
    for name in names:
        control.set_user(name, behavior="allow", enrolled=True)
    try:
        cold = _walk_alice(stack)
        warm = _walk_alice(stack)
        federated = walk_federated(stack)
    except WalkError as exc:
        print(f"walk failed: {exc}")
        return False
    finally:
        for name in names:
            control.set_user(name, behavior="prompt", enrolled=True)
    print("\nalice's login, hop by hop (server time):")
    for hop in warm.hops:
        print(f"  {hop.status} {hop.method:4} {hop.url}  {hop.seconds * 1000:.1f} ms")
    bridge_host = stack.settings.bridge_url.removeprefix("http://").removeprefix("https://")
    hosts = (bridge_host, stack.emulator.api_host)
    print(
        "\nServer-side time of the Duo hop (bridge + Duo): "
        f"{cold.seconds_at(*hosts) * 1000:.1f} ms on the first login (cold caches), "
        f"{warm.seconds_at(*hosts) * 1000:.1f} ms on the next"
    )
    duo = warm.id_claims.get("duo", {})
    print("ID token Duo claims:", json.dumps(duo, indent=2))
    return isinstance(duo, dict) and duo.get("result") == Result.ALLOW and federated


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stack = demo_stack.start(settings, _progress)
    try:
        passed = walk(stack) if args.walk else True
        keycloak = stack.settings.keycloak_url
        print()
        print(
            f"Keycloak admin console: {keycloak}/admin/  "
            f"(user {settings.sandbox_admin_username!r}, "
            f"password {settings.sandbox_admin_password.get_secret_value()!r})"
        )
        print(f"Demo application: {stack.app_url}/  (realm {demo_stack.CLIENT})")
        for name in demo_stack.USERS:
            state = "enrolled in Duo" if demo_stack.USERS[name] else "not enrolled yet"
            print(f"  user {name!r}, password {stack.passwords[name]!r} ({state})")
        print(
            f"  federated: 'Sign in with {demo_stack.PARTNER_IDP}' on the sign-in page, user "
            f"{demo_stack.PARTNER_IDP_USER!r}, password "
            f"{stack.passwords[demo_stack.PARTNER_IDP_USER]!r} (the partner's own IdP, "
            "realm acme-sso; then Duo as the link's subject, enrolled)"
        )
        bridge = stack.settings.bridge_url
        print(
            f"Duo admin console (bridge): {bridge}/admin/  "
            "(realm 'master' as the Keycloak admin above, "
            f"or realm {demo_stack.PARTNER!r} as {demo_stack.PARTNER_ADMIN!r}, "
            f"password {stack.passwords[demo_stack.PARTNER_ADMIN]!r})"
        )
        print(
            f"Duo self-service: {bridge}/account/duo/?realm={demo_stack.CLIENT}  "
            "(alice or bob: see or activate Duo)"
        )
        print(f"Duo emulator: {stack.emulator.base_url}  (CA {stack.emulator.ca_path})")
        print(
            f"Bridge: {stack.settings.bridge_url}  (metrics at /metrics, with the bearer "
            "token KDB_METRICS_TOKEN from `keycloak-duo-bridge sandbox env`)"
        )
        if args.exit:
            return 0 if passed else EXIT_WALK_FAILED
        print("\nThe demo stays up until you press Ctrl-C.", flush=True)
        stop.wait()
        return 0
    finally:
        stack.close(_progress)
        signal.signal(signal.SIGTERM, previous)
