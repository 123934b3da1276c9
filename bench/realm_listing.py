"""``python -m bench.realm_listing 10,30,60``: what Keycloak's realm listings cost.

``partner list`` (and every lookup of a client by name) reads Keycloak's ``GET
/admin/realms`` once, every realm's whole representation. Keycloak also offers ``GET
/admin/realms?briefRepresentation=true``; this measures whether that, plus one ``GET
/admin/realms/{realm}`` per realm for the attributes the listing needs, would cost less.

It starts its own sandbox Keycloak on free ports, adds bare realms up to each size, and
prints per size the median of 7 of: the full listing, the brief listing, and one realm's
read; with the brief listing's fields.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from keycloak import KeycloakAdmin

from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.settings import load_settings


def median_ms(call: Callable[[], object], rounds: int = 7) -> float:
    """The median wall time of ``call`` in milliseconds, after one warm-up call."""
    call()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv: list[str]) -> int:
    sizes = [int(s) for s in (argv[0] if argv else "10,30,60").split(",")]
    settings = load_settings(
        state_dir=Path(tempfile.mkdtemp()),
        sandbox_http_port=free_port(),
        sandbox_management_port=free_port(),
        bridge_port=free_port(),
    )
    keycloak = SandboxKeycloak(settings)
    keycloak.up(progress=lambda m: print(f"[realm-listing] {m}", file=sys.stderr, flush=True))
    try:
        admin = KeycloakAdmin(
            server_url=keycloak.url,
            username=settings.sandbox_admin_username,
            password=settings.sandbox_admin_password.get_secret_value(),
            realm_name="master",
            user_realm_name="master",
        )
        get = admin.connection.raw_get
        made = 0
        for size in sizes:
            while made < size:
                admin.create_realm({"realm": f"listing-{made:04}", "enabled": True})
                admin.connection.get_token()  # a token that carries the new realm's roles
                made += 1
            full = median_ms(lambda: get("admin/realms"))
            brief = median_ms(lambda: get("admin/realms?briefRepresentation=true"))
            one = median_ms(lambda: get("admin/realms/listing-0000"))
            fields = sorted(get("admin/realms?briefRepresentation=true").json()[0])
            print(
                f"realms={size + 1} full_ms={full:.1f} brief_ms={brief:.1f} "
                f"one_get_ms={one:.1f} brief_fields={','.join(fields)}",
                flush=True,
            )
    finally:
        keycloak.down()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
