"""``python -m bench.fleet`` (``make bench-fleet``): plan and apply at 10, 50 and 100 realms.

It starts its own sandbox Keycloak on free ports. For each size N it writes a tenant file
with one partner (Duo on, credentials) and N client realms (each with a policy value and an
app mode, wired because they inherit "on"), then measures:

* ``apply`` from nothing: seconds per realm created;
* Keycloak's own bare ``POST /admin/realms`` of the same client template, N times with the
  same parallelism: seconds per realm, and our ratio to it;
* a no-op ``plan`` and a no-op ``apply``: seconds per realm, and the apply's write calls.

The last line printed is JSON (the figures of the largest N).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.templates import load_template
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.fleet import spec
from keycloak_duo_bridge.fleet.apply import apply_plan
from keycloak_duo_bridge.fleet.live import each, read_live
from keycloak_duo_bridge.fleet.plan import make_plan
from keycloak_duo_bridge.sandbox import secrets
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.settings import Settings, key_ring, load_settings

SKEY = "B" * 40


def say(message: str) -> None:
    print(f"[bench-fleet] {message}", file=sys.stderr, flush=True)


def tenant_file(
    partner: str,
    clients: list[str],
    *,
    ikey: str = "DIBENCHBENCHBENCH000",
    api_host: str = "api-bench.example.test",
    client_fields: tuple[str, ...] = ("duo: {remember: 30}", "apps: {account-console: required}"),
) -> str:
    """One partner with Duo on (its skey from ``$BENCH_SKEY``) and ``clients``, each with
    ``client_fields`` (none: an empty mapping, all inherited)."""
    lines = [
        "version: 1",
        "partners:",
        f"  {partner}:",
        "    duo:",
        "      enabled: true",
        f"      ikey: {ikey}",
        f"      api_host: {api_host}",
        "      skey: env:BENCH_SKEY",
        "    clients:",
    ]
    for client in clients:
        if not client_fields:
            lines.append(f"      {client}: {{}}")
            continue
        lines.append(f"      {client}:")
        lines += [f"        {field}" for field in client_fields]
    return "\n".join(lines) + "\n"


class Writes:
    """Counts the adapter's write calls on every instance."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        # the adapter's writes, by its naming rule: public methods that neither get nor find
        reads = ("get_", "find_", "from_settings", "_")
        for name in [n for n in vars(Keycloak) if not n.startswith(reads)]:
            original = getattr(Keycloak, name)

            def spy(self_: Keycloak, *args: Any, _n: str = name, _o: Any = original) -> Any:
                self.counts[_n] += 1
                return _o(self_, *args)

            setattr(Keycloak, name, spy)


def measure(
    settings: Settings, size: int, parallel: int, work: Path, writes: Writes
) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:6]
    partner = f"bf-p{size}-{suffix}"
    clients = [f"bf-c{size}-{i}-{suffix}" for i in range(size)]
    path = work / f"fleet-{size}.yaml"
    path.write_text(tenant_file(partner, clients), encoding="utf-8")
    fleet = spec.load(path, {"BENCH_SKEY": SKEY})
    ring = key_ring(settings)
    wires = Wiring.of(settings)

    def connect() -> Keycloak:
        return Keycloak.from_settings(settings)

    def plan() -> Any:
        live = read_live(connect, fleet, wiring=True, parallel=parallel)
        return make_plan(fleet, live, ring=ring, wires=wires)

    # Bare first, then deleted, so both start from the same number of realms.
    template = load_template(TenantKind.CLIENT)
    bare_names = [f"bf-bare{size}-{i}-{suffix}" for i in range(size)]
    started = time.perf_counter()
    each(
        bare_names,
        lambda kc, name: kc.create_realm(
            template.render({"REALM": name, "DISPLAY_NAME": name, "PARTNER": partner})
        ),
        connect=connect,
        parallel=parallel,
        name=str,
    )
    bare = time.perf_counter() - started

    each(
        bare_names,
        lambda kc, name: kc.delete_realm(name),
        connect=connect,
        parallel=parallel,
        name=str,
    )
    started = time.perf_counter()
    outcomes = apply_plan(plan(), connect, ring=ring, wires=wires, parallel=parallel)
    create = time.perf_counter() - started
    failed = [o for o in outcomes if o.error]
    if failed:
        raise SystemExit(f"apply failed: {failed[:3]}")

    started = time.perf_counter()
    noop = plan()
    noop_plan = time.perf_counter() - started
    writes.counts.clear()
    started = time.perf_counter()
    apply_plan(noop, connect, ring=ring, wires=wires, parallel=parallel)
    noop_apply = time.perf_counter() - started + noop_plan  # apply = plan + converge
    noop_writes = sum(writes.counts.values())

    admin = connect()
    tenants.delete_tenant(admin, partner, cascade=True)
    realms = size + 1
    figures = {
        "realms": size,
        "create_seconds_per_realm": round(create / realms, 4),
        "keycloak_bare_create_seconds_per_realm": round(bare / size, 4),
        "create_ratio_vs_keycloak": round((create / realms) / (bare / size), 2),
        "noop_plan_seconds_per_realm": round(noop_plan / realms, 4),
        "noop_apply_seconds_per_realm": round(noop_apply / realms, 4),
        "noop_apply_write_calls": noop_writes,
    }
    say(json.dumps(figures))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--parallel", type=int, default=4)
    args = parser.parse_args(argv)
    state_dir = Path(tempfile.mkdtemp(prefix="kdb-bench-fleet-"))
    base = load_settings(
        state_dir=state_dir, sandbox_http_port=free_port(), sandbox_management_port=free_port()
    )
    keycloak = SandboxKeycloak(base)
    try:
        keycloak.up(progress=say)
        settings = load_settings(
            keycloak_url=keycloak.url,
            keycloak_admin_username=base.sandbox_admin_username,
            keycloak_admin_password=base.sandbox_admin_password,
            state_dir=state_dir,
            **{k.removeprefix("KDB_").lower(): v for k, v in secrets.ensure(state_dir).items()},
        )
        writes = Writes()
        results = [measure(settings, n, args.parallel, state_dir, writes) for n in args.sizes]
    finally:
        keycloak.down(progress=say)
        shutil.rmtree(state_dir, ignore_errors=True)
    print(json.dumps(results[-1]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
