"""(b) bridge capacity on one uvicorn worker, and the load run through the real flow.

The bridge runs as its own process (``keycloak-duo-bridge serve``), so its CPU time and
memory are its own. Request tokens are signed with an RSA key the benchmark imported into
the realm, so step-ups need no browser and no Keycloak login.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx2
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from bench.rig import APP, DUO, PASSWORD, Rig
from keycloak_duo_bridge.bridge import tokens
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.sandbox import secrets as sandbox_secrets
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.sandbox.walk import browser_like_client, walk_login
from keycloak_duo_bridge.settings import Settings

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class BridgeProcess:
    pid: int
    url: str

    def cpu_seconds(self) -> float:
        with Path(f"/proc/{self.pid}/stat").open(encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime

    def rss_mib(self) -> float:
        with Path(f"/proc/{self.pid}/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0


@contextmanager
def bridge_process(rig: Rig) -> Iterator[BridgeProcess]:
    """``keycloak-duo-bridge serve``: one uvicorn worker, the rig's settings and secrets."""
    port = free_port()
    with serve_process(rig.settings, port, ["-m", "keycloak_duo_bridge", "serve"]) as bridge:
        yield bridge


@contextmanager
def serve_process(settings: Settings, port: int, argv: list[str]) -> Iterator[BridgeProcess]:
    """``python <argv> --port <port>`` as a bridge with ``settings`` (and their state dir's
    secrets) in its environment, once its ``/healthz`` answers; stopped on exit."""
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        **sandbox_secrets.ensure(settings.state_dir),
        "KDB_KEYCLOAK_URL": settings.keycloak_url,
        "KDB_KEYCLOAK_ADMIN_USERNAME": settings.keycloak_admin_username,
        "KDB_KEYCLOAK_ADMIN_PASSWORD": settings.keycloak_admin_password.get_secret_value(),
        "KDB_DUO_CA_FILE": str(settings.duo_ca_file),
        "KDB_BRIDGE_URL": url,
        "KDB_STATE_DIR": str(settings.state_dir),
    }
    log = (settings.state_dir / "bench-bridge.log").open("wb")
    child = subprocess.Popen(
        [sys.executable, *argv, "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx2.get(f"{url}/healthz").status_code == httpx2.codes.OK:
                    break
            except httpx2.HTTPError:
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the bench bridge did not start") from None
                time.sleep(0.1)
        yield BridgeProcess(child.pid, url)
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        log.close()


def request_tokens(
    rig: Rig, key: rsa.RSAPrivateKey, kid: str, user_id: str, count: int
) -> list[str]:
    """``count`` request tokens as the realm's extension would sign them."""
    issuer = f"{rig.settings.keycloak_url}/realms/{DUO}"
    now = int(time.time())
    made = []
    for _ in range(count):
        claims = {
            "typ": tokens.REQUEST_TYPE,
            "iss": issuer,
            "aud": tokens.AUDIENCE,
            "sub": user_id,
            "azp": APP,
            "iat": now,
            "exp": now + 300,
            "preferred_username": "dora",
            "nonce": secrets.token_urlsafe(16),
            "realm": DUO,
            "return_url": f"{issuer}/login-actions/required-action?execution=duo-step-up",
            "cfg": "bench",
        }
        made.append(jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid}))
    return made


async def _stepups(
    bridge: BridgeProcess, rig: Rig, queue: list[str], concurrency: int
) -> tuple[int, int]:
    """Run step-ups until the queue is empty; return (allowed, failed)."""
    context = tls_context(rig.emulator.ca_path)
    counts = {"ok": 0, "failed": 0}

    async def worker() -> None:
        async with httpx2.AsyncClient(verify=context, timeout=30) as client:
            while queue:
                token = queue.pop()
                try:
                    answer = await client.get(f"{bridge.url}/step-up", params={"request": token})
                    for _ in range(3):
                        if "verdict=" in answer.headers.get("location", ""):
                            break
                        location = urljoin(str(answer.url), answer.headers["location"])
                        answer = await client.get(location)
                    ok = "verdict=" in answer.headers.get("location", "")
                except (httpx2.HTTPError, KeyError):
                    ok = False
                counts["ok" if ok else "failed"] += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return counts["ok"], counts["failed"]


@dataclass
class Capacity:
    stepups_per_second_one_core: float
    bridge_cpu_ms_per_stepup: float
    stepups_per_second_measured: float
    bridge_cpu_utilisation: float
    failed: int


def measure_capacity(
    rig: Rig, bridge: BridgeProcess, seconds_of_work: int, say: Callable[[str], None]
) -> Capacity:
    key, kid = provision.import_rsa_key(rig.settings, DUO, "bench-known-rsa")
    user_id = rig.user(DUO, "dora")
    warm = request_tokens(rig, key, kid, user_id, 200)
    asyncio.run(_stepups(bridge, rig, warm, 16))
    batch = request_tokens(rig, key, kid, user_id, 150 * seconds_of_work)
    total = len(batch)
    cpu, wall = bridge.cpu_seconds(), time.perf_counter()
    ok, failed = asyncio.run(_stepups(bridge, rig, batch, 32))
    cpu, wall = bridge.cpu_seconds() - cpu, time.perf_counter() - wall
    cpu_ms = cpu * 1000 / max(ok, 1)
    result = Capacity(
        stepups_per_second_one_core=ok / cpu if cpu else float("inf"),
        bridge_cpu_ms_per_stepup=cpu_ms,
        stepups_per_second_measured=ok / wall,
        bridge_cpu_utilisation=cpu / wall,
        failed=failed,
    )
    say(
        f"bridge capacity: {total} step-ups, {failed} failed, {wall:.1f} s wall; "
        f"bridge CPU {cpu_ms:.2f} ms per step-up ({result.bridge_cpu_utilisation:.0%} of a core); "
        f"{result.stepups_per_second_one_core:.0f} step-ups per CPU-second, "
        f"{result.stepups_per_second_measured:.0f} per wall second with this load generator"
    )
    return result


@dataclass
class Load:
    logins: int
    errors: int
    misdelivered: int
    rss_before_mib: float
    rss_after_mib: float
    seconds: float


def measure_load(
    rig: Rig,
    bridge: BridgeProcess,
    *,
    realms: int,
    users_per_realm: int,
    logins: int,
    say: Callable[[str], None],
) -> Load:
    """``logins`` full logins by ``realms * users_per_realm`` concurrent users."""
    people: list[tuple[str, str, str]] = []
    for index in range(realms):
        realm = f"bench-load-{index}"
        rig.duo_realm(realm, bridge.url)
        for number in range(users_per_realm):
            name = f"u{index}-{number}"
            people.append((realm, name, rig.user(realm, name)))
    ca = tls_context(rig.emulator.ca_path)

    reasons: Counter[str] = Counter()

    def login(turn: int) -> tuple[bool, bool]:
        realm, name, user_id = people[turn % len(people)]
        with browser_like_client(ca) as client:
            try:
                walked = walk_login(
                    keycloak_url=rig.settings.keycloak_url,
                    realm=realm,
                    client_id=APP,
                    redirect_uri=rig.redirect_uri,
                    username=name,
                    password=PASSWORD,
                    client=client,
                )
            except Exception as exc:  # noqa: BLE001 - any failure is an error of this run
                reasons[f"{type(exc).__name__}: {str(exc)[-200:]}"] += 1
                return False, False
        claims = walked.access_claims
        right = claims.get("sub") == user_id and str(claims.get("iss", "")).endswith(
            f"/realms/{realm}"
        )
        return True, not right

    rss_before = bridge.rss_mib()
    started = time.perf_counter()

    # Each user has one login in flight at a time, as a person does. Overlapping logins of
    # one user trip Keycloak's own brute-force detector ("Invalid username or password").
    def person(index: int) -> list[tuple[bool, bool]]:
        return [login(turn) for turn in range(index, logins, len(people))]

    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        results = [result for batch in pool.map(person, range(len(people))) for result in batch]
    seconds = time.perf_counter() - started
    load = Load(
        logins=logins,
        errors=sum(not ok for ok, _ in results),
        misdelivered=sum(wrong for _, wrong in results),
        rss_before_mib=rss_before,
        rss_after_mib=bridge.rss_mib(),
        seconds=seconds,
    )
    say(
        f"load: {logins} logins by {len(people)} concurrent users across {realms} realms in "
        f"{seconds:.1f} s: {load.errors} errors, {load.misdelivered} to the wrong user or realm; "
        f"bridge RSS {load.rss_before_mib:.1f} MiB before, {load.rss_after_mib:.1f} MiB after"
    )
    for reason, count in reasons.most_common(3):
        say(f"load error x{count}: {reason}")
    return load
