"""``python -m bench.scale`` (``make bench-scale``): one partner with 10, 100, 500 and 1,000
clients, kept as organizations inside the partner's realm and as client realms, side by side
on production-mode Keycloak with PostgreSQL (issue 18).

It starts its own stack on free ports: Debian's PostgreSQL, Keycloak after ``kc.sh build``
(``start --optimized``, TLS), the Duo emulator and the bridge as its own process. Each mapping
has its own partner; organizations run first, so each mapping is measured on a Keycloak that
holds (almost) only its own tenants. A fleet grows size by size (a tenant file of N clients,
``fleet apply``), and at each size it measures:

* ``fleet apply`` seconds per tenant added, and for the whole fleet so far;
* a no-op ``plan``;
* the median and p99 server time of a Duo login (password + Duo) of a user of the first
  client and of the last, and the bridge's Keycloak admin calls per warm login;
* Keycloak's start time (the node restarted at that size) and its heap after a full GC;
* the bridge's RSS once it has served a Duo login in every client, hence KiB per tenant.

Before a size that, by extrapolation from the measured rates, would end past
``--budget-minutes`` (shared by the mappings), it stops that mapping and says so.
Human-readable lines go to stderr; the last line on stdout is one JSON object: the
recommended mapping's figures at its largest size (see :func:`recommended`), and every
mapping's under ``mappings``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from bench.capacity import BridgeProcess, serve_process
from bench.counted_bridge import COUNT_PATH
from bench.fleet import tenant_file
from keycloak_duo_bridge.admin import organizations
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.emulator import RunningEmulator, start_emulator
from keycloak_duo_bridge.fleet import spec
from keycloak_duo_bridge.fleet.apply import apply_plan
from keycloak_duo_bridge.fleet.live import each, read_live
from keycloak_duo_bridge.fleet.plan import Action, Plan, make_plan
from keycloak_duo_bridge.jdk import find_jdk
from keycloak_duo_bridge.sandbox import production, provision
from keycloak_duo_bridge.sandbox import secrets as sandbox_secrets
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.sandbox.postgres import PostgresServer
from keycloak_duo_bridge.sandbox.tls import server_tls, trust_bundle
from keycloak_duo_bridge.sandbox.walk import Walk, browser_like_client, walk_login
from keycloak_duo_bridge.settings import Settings, key_ring, load_settings

PARTNER = "scale-partner"  # the realm mapping's partner
ORG_PARTNER = "scale-orgs"  # the organization mapping's partner, which holds the organizations
APP = "scale-app"
USER = "dora"
PASSWORD = "scale password 1"  # noqa: S105 - a sandbox user's password
REDIRECT_URI = "https://app.scale.invalid/callback"  # the walk stops at it, nothing listens
HOSTNAME = "localhost"
ADMIN_TIMEOUT = 600  # seconds: Keycloak's admin reads at 1,000 realms can take minutes
START_TIMEOUT = 1800.0  # seconds for one Keycloak start (startup grows with the realm count)
REALM_CACHE = 200_000  # deploy/'s realm cache: room for about 2,000 realms' admin roles
HEAP = "-Xms64m -Xmx2g"  # above the tests' 768 MiB, so 1,000 realms do not end in an OOM
WARM_UP = 5  # untimed logins per realm before the timed rounds (JIT, caches, connections)
REALM = "realm"
ORGANIZATION = "organization"
MAPPINGS = (ORGANIZATION, REALM)
DEFAULT_MAPPING = REALM  # the design card's: a realm per client
# issue 18's goals at 1,000 tenants
GOAL_LOGIN_RATIO = 1.2
GOAL_APPLY_SECONDS = 600.0
GOAL_KIB_PER_TENANT = 50.0
_G1_USED = re.compile(r"garbage-first heap\s+total.*?used (\d+)K")
_GEN_USED = re.compile(r"^ (?!Metaspace|class space)\S.*?total \d+K, used (\d+)K", re.MULTILINE)


def say(message: str) -> None:
    print(f"[bench-scale] {message}", file=sys.stderr, flush=True)


# -- pure figures ---------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def client_names(size: int, mapping: str = REALM) -> list[str]:
    """The clients of a fleet of ``size``: the same names at every size, so it grows (an
    organization's name differs from a realm's: a client name is unique across both)."""
    prefix = "scale-o" if mapping == ORGANIZATION else "scale-c"
    return [f"{prefix}{index:04d}" for index in range(size)]


def parse_mappings(text: str) -> list[str]:
    """``"organization,realm"``: the mappings to measure, in that order, each once."""
    mappings = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [m for m in mappings if m not in MAPPINGS]
    if not mappings or unknown or len(set(mappings)) != len(mappings):
        raise argparse.ArgumentTypeError(
            f"mappings are {' and '.join(MAPPINGS)}, each at most once: {text!r}"
        )
    return mappings


def parse_sizes(text: str) -> list[int]:
    """``"10,100,500"`` as strictly increasing positive sizes."""
    sizes = [int(part) for part in text.split(",") if part.strip()]
    if not sizes or any(n <= 0 for n in sizes) or sizes != sorted(set(sizes)):
        raise argparse.ArgumentTypeError(f"sizes must increase and be positive: {text!r}")
    return sizes


def heap_used_kib(heap_info: str) -> int:
    """The used heap in ``jcmd <pid> GC.heap_info``'s output: G1's heap line, or the sum of
    the generations of the other collectors (Metaspace is no heap)."""
    found = _G1_USED.search(heap_info)
    if found:
        return int(found.group(1))
    generations = _GEN_USED.findall(heap_info)
    if not generations:
        raise ValueError(f"no heap figures in: {heap_info[:200]!r}")
    return sum(int(kib) for kib in generations)


def kib_per_tenant(rss_kib: Mapping[int, float]) -> float | None:
    """The bridge's growth per tenant: RSS at the largest size minus at the smallest, over
    the tenants between (None with a single size)."""
    if len(rss_kib) < 2:  # noqa: PLR2004 - two sizes make a difference
        return None
    small, large = min(rss_kib), max(rss_kib)
    return (rss_kib[large] - rss_kib[small]) / (large - small)


@dataclass(frozen=True)
class Step:
    """What growing to one size cost: the per-realm part and the fixed part, in seconds."""

    size: int
    added: int
    grow_seconds: float  # apply, plan, users and the first login of every added realm
    fixed_seconds: float  # the restart, the timed logins, the GC


def predict_seconds(steps: Sequence[Step], size: int) -> float:
    """The seconds growing to ``size`` will take: the per-realm rate, extrapolated linearly
    in the fleet's size from the last two steps (never below the last rate), times the
    realms to add, plus the last step's fixed part grown with the same ratio."""
    last = steps[-1]
    added = size - last.size
    rate = last.grow_seconds / last.added
    middle = last.size - last.added / 2
    ratio = 1.0
    if len(steps) > 1:
        before = steps[-2]
        before_rate = before.grow_seconds / before.added
        slope = (rate - before_rate) / (middle - (before.size - before.added / 2))
        grown = rate + slope * (size - added / 2 - middle)
        ratio = max(1.0, grown / rate) if rate > 0 else 1.0
        rate = max(rate, grown)
    return rate * added + last.fixed_seconds * ratio


def fits(elapsed: float, predicted: float, budget_minutes: float) -> bool:
    """Whether a step of ``predicted`` seconds, started now, ends within the budget."""
    return elapsed + predicted <= budget_minutes * 60


@dataclass
class SizeFigures:
    """Everything measured at one fleet size."""

    tenants: int
    tenants_added: int
    fleet_apply_seconds: float
    fleet_apply_seconds_per_tenant_added: float
    fleet_apply_seconds_all: float
    fleet_apply_seconds_per_tenant_all: float
    noop_plan_seconds: float
    noop_plan_seconds_per_tenant: float
    noop_plan_changes: int
    admin_read_ms_median: float  # one GET of the partner realm by the fleet's admin
    login_ms_median_first: float
    login_ms_p99_first: float
    login_ms_median_last: float
    login_ms_p99_last: float
    login_failures: int
    admin_calls_per_warm_login: float
    keycloak_start_seconds: float
    keycloak_heap_mib_after_gc: float
    bridge_rss_mib: float
    step_seconds: float

    @property
    def login_median_max(self) -> float:
        return max(self.login_ms_median_first, self.login_ms_median_last)


def summary(
    sizes: Sequence[SizeFigures],
    *,
    mapping: str,
    stopped: str | None,
) -> dict[str, Any]:
    """One mapping's figures: the largest size's, its ratios against the smallest size, the
    goals it meets there, and every size's figures under ``sizes``."""
    first, last = sizes[0], sizes[-1]
    per_tenant = kib_per_tenant({s.tenants: s.bridge_rss_mib * 1024 for s in sizes})
    figures = {
        "tenants": last.tenants,
        "mapping": mapping,
        "baseline_tenants": first.tenants,
        "login_median_ratio_max_vs_10": round(last.login_median_max / first.login_median_max, 3),
        "login_ms_median_first": last.login_ms_median_first,
        "login_ms_median_last": last.login_ms_median_last,
        "login_ms_p99_first": last.login_ms_p99_first,
        "login_ms_p99_last": last.login_ms_p99_last,
        "fleet_apply_seconds_all": last.fleet_apply_seconds_all,
        "fleet_apply_seconds_per_tenant_all": last.fleet_apply_seconds_per_tenant_all,
        "noop_plan_seconds": last.noop_plan_seconds,
        "admin_read_ms_median": last.admin_read_ms_median,
        "admin_calls_per_warm_login": last.admin_calls_per_warm_login,
        "bridge_kib_per_tenant": None if per_tenant is None else round(per_tenant, 1),
        "bridge_rss_mib": last.bridge_rss_mib,
        "keycloak_start_seconds": last.keycloak_start_seconds,
        "keycloak_heap_mib_after_gc": last.keycloak_heap_mib_after_gc,
        "stopped_by_budget": stopped,
    }
    return {**figures, "goals_met": goals_met(figures), "sizes": [asdict(s) for s in sizes]}


def goals_met(figures: Mapping[str, Any]) -> dict[str, bool]:
    """Issue 18's goals, each met or not by one mapping's figures (a figure not measured,
    such as the KiB per tenant from a single size, meets nothing)."""
    per_tenant = figures["bridge_kib_per_tenant"]
    return {
        "login_median_ratio_max_vs_10": figures["login_median_ratio_max_vs_10"] <= GOAL_LOGIN_RATIO,
        "fleet_apply_seconds_all": figures["fleet_apply_seconds_all"] <= GOAL_APPLY_SECONDS,
        "admin_calls_per_warm_login": figures["admin_calls_per_warm_login"] == 0,
        "bridge_kib_per_tenant": per_tenant is not None and per_tenant < GOAL_KIB_PER_TENANT,
    }


def recommended(mappings: Mapping[str, Mapping[str, Any]]) -> str:
    """The mapping to recommend: the one that reached the most tenants, then the one that
    meets more goals there, then the design card's default (realms)."""

    def rank(name: str) -> tuple[int, int, bool]:
        figures = mappings[name]
        met = sum(figures["goals_met"].values())
        return figures["tenants"], met, name == DEFAULT_MAPPING

    return max(mappings, key=rank)


def report(mappings: Mapping[str, Mapping[str, Any]], *, bench_seconds: float) -> dict[str, Any]:
    """The JSON line: the recommended mapping's figures at the top level, and every
    mapping's figures under ``mappings``, so they can be compared side by side."""
    best = recommended(mappings)
    top = {k: v for k, v in mappings[best].items() if k != "sizes"}
    return {
        **top,
        "recommended_mapping": best,
        "bench_seconds": round(bench_seconds),
        "mappings": dict(mappings),
    }


def describe(figures: SizeFigures, mapping: str = REALM) -> list[str]:
    """The human-readable lines for one size."""
    f = figures
    what = f"{f.tenants} client {'organizations' if mapping == ORGANIZATION else 'realms'}"
    return [
        (
            f"{what}: fleet apply {f.fleet_apply_seconds:.1f} s for"
            f" {f.tenants_added} added ({f.fleet_apply_seconds_per_tenant_added:.3f} s each);"
            f" whole fleet {f.fleet_apply_seconds_all:.1f} s"
            f" ({f.fleet_apply_seconds_per_tenant_all:.3f} s each)"
        ),
        (
            f"{what}: no-op plan {f.noop_plan_seconds:.2f} s"
            f" ({f.noop_plan_seconds_per_tenant:.4f} s each, {f.noop_plan_changes} changes);"
            f" one admin read of the partner realm {f.admin_read_ms_median:.1f} ms"
        ),
        (
            f"{what}: Duo login ms median/p99 first client"
            f" {f.login_ms_median_first:.1f}/{f.login_ms_p99_first:.1f}, last client"
            f" {f.login_ms_median_last:.1f}/{f.login_ms_p99_last:.1f};"
            f" {f.admin_calls_per_warm_login:.3f} admin calls per warm login;"
            f" {f.login_failures} failed"
        ),
        (
            f"{what}: Keycloak started in {f.keycloak_start_seconds:.1f} s,"
            f" heap after full GC {f.keycloak_heap_mib_after_gc:.1f} MiB;"
            f" bridge RSS {f.bridge_rss_mib:.1f} MiB; step took {f.step_seconds:.0f} s"
        ),
    ]


# -- the stack ------------------------------------------------------------------------------


class _Node(production.ProductionNode):
    """A production node with the heap the benchmark asks for."""

    heap: str = production.HEAP

    def environment(self) -> Mapping[str, str]:
        return {**super().environment(), "JAVA_OPTS_KC_HEAP": self.heap}


@dataclass
class Stack:
    """The running stack, and the emulator integration the partner's Duo settings name."""

    settings: Settings
    node: _Node
    emulator: RunningEmulator
    bridge: BridgeProcess
    trust: Path
    ikey: str
    skey: str = field(repr=False)
    api_host: str


def java_pid(home: Path) -> int:
    """The pid of the Keycloak JVM running from ``home``."""
    marker = str(home).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"java") and any(marker in arg for arg in argv):
            return int(entry.name)
    raise RuntimeError(f"no Keycloak JVM running from {home}")


def heap_after_gc_mib(settings: Settings, home: Path) -> float:
    """Keycloak's used heap right after a full GC (``jcmd GC.run``, then ``GC.heap_info``)."""
    jcmd = str(find_jdk(os.environ, settings.jvm_search_dirs).home / "bin" / "jcmd")
    pid = str(java_pid(home))
    subprocess.run([jcmd, pid, "GC.run"], check=True, capture_output=True, timeout=300)
    info = subprocess.run(
        [jcmd, pid, "GC.heap_info"], check=True, capture_output=True, text=True, timeout=60
    )
    return heap_used_kib(info.stdout) / 1024


@contextmanager
def stack(work: Path, heap: str) -> Iterator[Stack]:
    """PostgreSQL, a built Keycloak started in production mode, the emulator and a bridge."""
    base = load_settings(state_dir=work)
    with ExitStack() as resources:
        postgres = PostgresServer()
        resources.callback(postgres.stop)
        say(f"PostgreSQL on port {postgres.port} after {postgres.start():.1f} s")
        database = postgres.create_database(
            "kdb_scale", owner="kdb_scale", password=secrets.token_urlsafe(18)
        )
        built, _ = production.build_distribution(base, work / "build", progress=say)
        tls = server_tls(work / "tls", HOSTNAME)
        emulator = resources.enter_context(start_emulator(work / "duo-emulator"))
        trust = trust_bundle(work / "ca-bundle.pem", tls.ca, emulator.ca_path)
        # python-keycloak, httpx2 and the bridge process trust Keycloak's CA this way
        os.environ["SSL_CERT_FILE"] = str(trust)
        os.environ["REQUESTS_CA_BUNDLE"] = str(trust)
        port = free_port()
        config = production.NodeConfig(
            name="kc-scale",
            public_url=f"https://{HOSTNAME}:{port}",
            https_port=port,
            management_port=free_port(),
            jgroups_port=production.jgroups_port(),
            tls=tls,
            database=database,
        )
        node = _Node(built, config, settings=base, log_file=work / "kc-scale.log")
        node.heap = heap
        resources.callback(node.stop)
        node.launch()
        say(f"Keycloak ready at {config.public_url} after {node.wait(START_TIMEOUT):.0f} s")
        bridge_port = free_port()
        settings = load_settings(
            keycloak_url=config.public_url,
            keycloak_admin_username=base.sandbox_admin_username,
            keycloak_admin_password=base.sandbox_admin_password,
            duo_ca_file=emulator.ca_path,
            bridge_url=f"http://127.0.0.1:{bridge_port}",
            state_dir=work,
            **{k.removeprefix("KDB_").lower(): v for k, v in sandbox_secrets.ensure(work).items()},
        )
        bridge = resources.enter_context(
            serve_process(settings, bridge_port, ["-m", "bench.counted_bridge"])
        )
        integration = emulator.control.add_integration()
        say(f"bridge at {bridge.url} (pid {bridge.pid}), Duo emulator at {emulator.base_url}")
        yield Stack(
            settings,
            node,
            emulator,
            bridge,
            trust,
            integration.client_id,
            integration.client_secret,
            integration.api_host,
        )


# -- one size -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """Where one client's user logs in: the realm (the client's own, or the partner's that
    holds the client organization) and the user's name."""

    realm: str
    username: str


def member_name(organization: str) -> str:
    """The user of a client organization (its partner realm holds every organization's)."""
    return f"{USER}-{organization}"


def password_form(body: str) -> dict[str, str] | None:
    """The second form of Keycloak's identity-first login (a realm with organizations): the
    password, once the username was given; None on any other page."""
    return {"password": PASSWORD} if 'name="password"' in body else None


class Fleet:
    """One mapping's growing fleet: its tenant file, plan and apply, and the clients ready
    for logins."""

    def __init__(self, running: Stack, work: Path, parallel: int, mapping: str = REALM) -> None:
        self.running = running
        self.work = work
        self.parallel = parallel
        self.mapping = mapping
        self.partner = ORG_PARTNER if mapping == ORGANIZATION else PARTNER
        self.size = 0
        self.apply_seconds_all = 0.0
        self.ring = key_ring(running.settings)
        self.wires = Wiring.of(running.settings)

    def names(self, size: int) -> list[str]:
        return client_names(size, self.mapping)

    def target(self, name: str) -> Target:
        if self.mapping == ORGANIZATION:
            return Target(self.partner, member_name(name))
        return Target(name, USER)

    def connect(self) -> Keycloak:
        return Keycloak.from_settings(self.running.settings, timeout=ADMIN_TIMEOUT)

    def plan(self, fleet: spec.FleetSpec) -> Plan:
        live = read_live(self.connect, fleet, wiring=True, parallel=self.parallel)
        return make_plan(fleet, live, ring=self.ring, wires=self.wires)

    def grow(self, size: int) -> tuple[float, float, int]:
        """Apply a tenant file of ``size`` clients: (apply seconds, no-op plan seconds,
        changes the no-op plan still found)."""
        path = self.work / f"fleet-{self.mapping}-{size}.yaml"
        stack_ = self.running
        path.write_text(
            tenant_file(
                self.partner,
                self.names(size),
                ikey=stack_.ikey,
                api_host=stack_.api_host,
                client_fields=("as: organization",) if self.mapping == ORGANIZATION else (),
            ),
            encoding="utf-8",
        )
        fleet = spec.load(path, {"BENCH_SKEY": stack_.skey})
        started = time.perf_counter()
        outcomes = apply_plan(
            self.plan(fleet), self.connect, ring=self.ring, wires=self.wires, parallel=self.parallel
        )
        applied = time.perf_counter() - started
        failed = [o for o in outcomes if o.error]
        if failed:
            raise RuntimeError(f"fleet apply failed for {len(failed)} tenants: {failed[:3]}")
        self.apply_seconds_all += applied
        started = time.perf_counter()
        noop = self.plan(fleet)
        planned = time.perf_counter() - started
        changes = sum(r.action is not Action.NONE for r in noop.realms)
        return applied, planned, changes

    def ready_for_logins(self, names: Sequence[str]) -> None:
        """An application, and a user of each client (a member, for an organization), and
        one Duo login by that user (which fills the bridge's caches for the client)."""
        settings = self.running.settings
        control = self.running.emulator.control
        if self.size == 0:
            provision.ensure_app(settings, self.partner, APP, REDIRECT_URI)

        def prepare(keycloak: Keycloak, name: str) -> None:
            target = self.target(name)
            # an inherited integration names users "<realm>:<username>"; the partner's own
            # names them plainly: both, so either naming finds an enrolled user
            for duo_name in (f"{target.realm}:{target.username}", target.username):
                control.set_user(duo_name, behavior="allow", enrolled=True)
            if self.mapping == REALM:
                provision.ensure_app(settings, name, APP, REDIRECT_URI)
            provision.ensure_user(settings, target.realm, target.username, PASSWORD)
            if self.mapping == ORGANIZATION:
                organization = organizations.get_organization(keycloak, self.partner, name)
                organizations.add_member(keycloak, organization, target.username)
            walk(self.running, target)

        def progress(done: int, total: int, _name: str) -> None:
            if done % 100 == 0:
                say(f"  {done}/{total} clients have their user and a first Duo login")

        each(
            list(names),
            prepare,
            connect=self.connect,
            parallel=self.parallel,
            name=str,
            progress=progress,
        )


ADMIN_READS = 20


def time_admin_reads(fleet: Fleet) -> float:
    """The median ms of one admin ``GET`` of the partner realm by the fleet's admin (the
    master realm's): Keycloak's own cost per admin request at this size, which every
    ``plan`` read pays."""
    keycloak = fleet.connect()
    keycloak.get_realm(fleet.partner)  # the token, the connection
    times = []
    for _ in range(ADMIN_READS):
        started = time.perf_counter()
        keycloak.get_realm(fleet.partner)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def walk(running: Stack, target: Target, client: httpx2.Client | None = None) -> Walk:
    """One password + Duo login of the user of ``target``."""
    own = client is None
    session = client or browser_like_client(tls_context(running.trust))
    try:
        session.cookies.clear()
        walked = walk_login(
            keycloak_url=running.settings.keycloak_url,
            realm=target.realm,
            client_id=APP,
            redirect_uri=REDIRECT_URI,
            username=target.username,
            password=PASSWORD,
            client=session,
            extra_form=password_form,
        )
    finally:
        if own:
            session.close()
    if not any(running.bridge.url.split("://", 1)[1] in hop.url for hop in walked.hops):
        raise RuntimeError(f"a login of {target.username} did not go through the bridge")
    return walked


def admin_calls(bridge: BridgeProcess) -> int:
    return int(httpx2.get(f"{bridge.url}{COUNT_PATH}").json()["admin_calls"])


@dataclass(frozen=True)
class Logins:
    median_first: float
    p99_first: float
    median_last: float
    p99_last: float
    admin_calls_per_login: float
    failures: int


def time_logins(running: Stack, first: Target, last: Target, rounds: int) -> Logins:
    """Interleaved Duo logins of the first and the last client's users: server ms, admin
    calls."""
    targets = [first, last] if first != last else [first]
    times: dict[Target, list[float]] = {target: [] for target in targets}
    failures = 0
    clients = {target: browser_like_client(tls_context(running.trust)) for target in targets}
    try:
        for _ in range(WARM_UP):
            for target in targets:
                walk(running, target, clients[target])
        before = admin_calls(running.bridge)
        for _ in range(rounds):
            for target in targets:
                try:
                    walked = walk(running, target, clients[target])
                except Exception as exc:  # noqa: BLE001 - a failed login is a figure
                    failures += 1
                    say(f"login of {target.username} failed: {str(exc)[-200:]}")
                    continue
                times[target].append(sum(hop.seconds for hop in walked.hops) * 1000)
        calls = admin_calls(running.bridge) - before
    finally:
        for client in clients.values():
            client.close()
    done = max(1, sum(len(v) for v in times.values()))
    return Logins(
        statistics.median(times[first]),
        percentile(times[first], 99),
        statistics.median(times[last]),
        percentile(times[last], 99),
        calls / done,
        failures,
    )


def measure_size(fleet: Fleet, size: int, rounds: int) -> tuple[SizeFigures, Step]:
    running = fleet.running
    step_started = time.perf_counter()
    added = size - fleet.size
    new = fleet.names(size)[fleet.size :]
    say(f"growing the {fleet.mapping} fleet from {fleet.size} to {size} clients")
    applied, planned, changes = fleet.grow(size)
    say(f"  applied in {applied:.1f} s; no-op plan {planned:.2f} s ({changes} changes)")
    fleet.ready_for_logins(new)
    fleet.size = size
    admin_read = time_admin_reads(fleet)
    grown = time.perf_counter() - step_started
    rss = running.bridge.rss_mib()
    fixed_started = time.perf_counter()
    running.node.stop()
    running.node.launch()
    start_seconds = running.node.wait(START_TIMEOUT)
    names = fleet.names(size)
    logins = time_logins(running, fleet.target(names[0]), fleet.target(names[-1]), rounds)
    heap = heap_after_gc_mib(running.settings, running.node.home)
    fixed = time.perf_counter() - fixed_started
    tenants_added = added + (1 if size == added else 0)  # the partner, the first time
    figures = SizeFigures(
        tenants=size,
        tenants_added=tenants_added,
        fleet_apply_seconds=round(applied, 2),
        fleet_apply_seconds_per_tenant_added=round(applied / tenants_added, 4),
        fleet_apply_seconds_all=round(fleet.apply_seconds_all, 2),
        fleet_apply_seconds_per_tenant_all=round(fleet.apply_seconds_all / (size + 1), 4),
        noop_plan_seconds=round(planned, 3),
        noop_plan_seconds_per_tenant=round(planned / (size + 1), 5),
        noop_plan_changes=changes,
        admin_read_ms_median=round(admin_read, 1),
        login_ms_median_first=round(logins.median_first, 1),
        login_ms_p99_first=round(logins.p99_first, 1),
        login_ms_median_last=round(logins.median_last, 1),
        login_ms_p99_last=round(logins.p99_last, 1),
        login_failures=logins.failures,
        admin_calls_per_warm_login=round(logins.admin_calls_per_login, 3),
        keycloak_start_seconds=round(start_seconds, 1),
        keycloak_heap_mib_after_gc=round(heap, 1),
        bridge_rss_mib=round(rss, 2),
        step_seconds=round(time.perf_counter() - step_started, 1),
    )
    return figures, Step(size, added, grown, fixed)


def grow_mapping(
    fleet: Fleet, sizes: Sequence[int], rounds: int, budget: tuple[float, float]
) -> tuple[list[SizeFigures], str | None]:
    """Grow one mapping's fleet size by size, stopping before a size that would end past
    the budget (``(started, minutes)``); the figures, and why it stopped early, if it did."""
    started, minutes = budget
    results: list[SizeFigures] = []
    steps: list[Step] = []
    for size in sizes:
        if steps:
            elapsed = time.perf_counter() - started
            predicted = predict_seconds(steps, size)
            if not fits(elapsed, predicted, minutes):
                stopped = (
                    f"stopped before {size} {fleet.mapping}s: about {predicted / 60:.0f} more"
                    f" minutes after {elapsed / 60:.0f} would pass the {minutes:g}-minute budget"
                )
                say(stopped)
                return results, stopped
        figures, step = measure_size(fleet, size, rounds)
        results.append(figures)
        steps.append(step)
        for line in describe(figures, fleet.mapping):
            say(line)
    return results, None


def keycloak_environment(realm_cache: int) -> dict[str, str]:
    """The Keycloak options the run sets through the environment (``kc.sh`` reads ``KC_*``):
    the realm cache's size, or, for 0, Keycloak's own default (10,000 entries)."""
    if realm_cache < 0:
        raise SystemExit("--realm-cache must be a number of entries, or 0 for Keycloak's own")
    if realm_cache == 0:
        return {}
    return {"KC_CACHE_EMBEDDED_REALMS_MAX_COUNT": str(realm_cache)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=[10, 100, 500, 1000],
        help="clients to grow to and measure at, increasing (default 10,100,500,1000)",
    )
    parser.add_argument(
        "--mappings",
        type=parse_mappings,
        default=list(MAPPINGS),
        help="the mappings to measure, in order (default organization,realm)",
    )
    parser.add_argument("--rounds", type=int, default=20, help="timed logins per client and size")
    parser.add_argument(
        "--budget-minutes",
        type=float,
        default=90.0,
        help="stop a mapping before a size that, extrapolated, would end later than this"
        " (default 90, for the whole run)",
    )
    parser.add_argument("--parallel", type=int, default=4, help="fleet workers (as the CLI's)")
    parser.add_argument(
        "--keycloak-heap",
        default=HEAP,
        help=f"JAVA_OPTS_KC_HEAP (default {HEAP}: room for 1,000 realms; an OOM ends the run)",
    )
    parser.add_argument(
        "--realm-cache",
        type=int,
        metavar="N",
        default=REALM_CACHE,
        help="Keycloak's realm cache size (KC_CACHE_EMBEDDED_REALMS_MAX_COUNT; default"
        f" {REALM_CACHE}, as deploy/ sets it; 0: Keycloak's own, 10,000)",
    )
    args = parser.parse_args(argv)
    os.environ.update(keycloak_environment(args.realm_cache))  # kc.sh build and start
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="kdb-bench-scale-"))
    measured: dict[str, dict[str, Any]] = {}
    try:
        with stack(work, args.keycloak_heap) as running:
            for mapping in args.mappings:
                fleet = Fleet(running, work, args.parallel, mapping)
                budget = (started, args.budget_minutes)
                results, stopped = grow_mapping(fleet, args.sizes, args.rounds, budget)
                if results:
                    measured[mapping] = summary(results, mapping=mapping, stopped=stopped)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if not measured:
        return 1
    print(json.dumps(report(measured, bench_seconds=time.perf_counter() - started)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
