"""The production commands operators run: kc.sh build and start, ports, node homes, TLS."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from keycloak_duo_bridge.errors import SandboxError, StartTimeoutError
from keycloak_duo_bridge.sandbox import production, replica
from keycloak_duo_bridge.sandbox.ports import free_port, is_free
from keycloak_duo_bridge.sandbox.postgres import Database
from keycloak_duo_bridge.sandbox.tls import server_tls, trust_bundle
from keycloak_duo_bridge.sandbox.waiting import log_tail, wait_ready
from keycloak_duo_bridge.settings import load_settings


def test_build_and_start_commands(tmp_path: Path) -> None:
    """``kc.sh build`` is the recipe's; ``start`` is optimized, TLS, no password."""
    home = Path("/opt/keycloak")
    assert production.build_command(home) == [
        "/opt/keycloak/bin/kc.sh",
        "build",
        "--db=postgres",
        "--health-enabled=true",
        "--metrics-enabled=true",
        "--cache=ispn",
    ]
    tls = server_tls(tmp_path, "localhost")
    database = Database(name="kc", username="kc", password="hush", port=5432)
    node = production.NodeConfig(
        name="kc-1",
        public_url="https://localhost:443",
        https_port=8443,
        management_port=9000,
        jgroups_port=7800,
        tls=tls,
        database=database,
    )
    command = production.start_command(home, node)
    assert command[1:3] == ["start", "--optimized"]
    assert "--hostname=https://localhost:443" in command
    assert "--db-url=jdbc:postgresql://127.0.0.1:5432/kc" in command
    assert f"--https-certificate-file={tls.certificate}" in command
    assert "--cache-embedded-network-bind-port=7800" in command
    assert not any("hush" in word for word in command)


def test_jgroups_port_leaves_room_for_failure_detection() -> None:
    """The JGroups port and its +50000 failure-detection port are both free; no room, an error."""
    port = production.jgroups_port()
    assert 7800 <= port < 15000
    assert is_free("127.0.0.1", port + production.FD_PORT_OFFSET)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        with pytest.raises(SandboxError, match="no free JGroups port"):
            production.jgroups_port(low=taken, high=taken + 1, tries=3)


def test_node_homes_share_the_build_by_hard_links(tmp_path: Path) -> None:
    """A node's home is a hard-linked copy: same files, no extra space, its own data dir."""
    built = tmp_path / "built"
    (built / "lib").mkdir(parents=True)
    (built / "lib" / "a.jar").write_bytes(b"jar")
    home = production.node_home(built, tmp_path / "kc-1")
    assert (home / "lib" / "a.jar").stat().st_ino == (built / "lib" / "a.jar").stat().st_ino
    node = production.ProductionNode(
        home,
        production.NodeConfig(
            "kc-1",
            "https://localhost:1",
            1,
            2,
            7800,
            server_tls(tmp_path / "tls", "localhost"),
            Database("kc", "kc", "pw", 5),
        ),
        settings=load_settings(),
        log_file=tmp_path / "kc-1.log",
    )
    assert node.url == "https://localhost:1"
    assert node.health_url == "https://127.0.0.1:2/health/ready"
    assert repr(node) == "ProductionNode('kc-1', https_port=1)"
    assert not node.running
    assert node.environment()["KC_DB_PASSWORD"] == "pw"
    with pytest.raises(SandboxError, match="was not launched"):
        node.wait()
    node.kill()  # nothing to kill, nothing to stop
    node.stop()


def test_tls_files_and_a_trust_bundle(tmp_path: Path) -> None:
    """The certificate verifies against the CA; HAProxy's file holds both; a bundle trusts all."""
    tls = server_tls(tmp_path / "a", "localhost")
    other = server_tls(tmp_path / "b", "localhost")
    assert tls.combined.read_bytes() == tls.certificate.read_bytes() + tls.key.read_bytes()
    assert tls.combined.stat().st_mode & 0o777 == 0o600
    bundle = trust_bundle(tmp_path / "bundle.pem", tls.ca, other.ca)
    context = ssl.create_default_context(cafile=str(bundle))
    assert len(context.get_ca_certs()) == 2


def test_waiting_reports_an_exit_or_a_timeout(tmp_path: Path) -> None:
    """A child that exits says so with its log; one that never gets ready times out."""
    log = tmp_path / "child.log"
    log.write_text("first\nlast words\n", encoding="utf-8")
    quitter = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    quitter.wait()
    with pytest.raises(SandboxError, match=r"exited with code 3(.|\n)*last words"):
        wait_ready(quitter, lambda: False, what="quitter", log=log, timeout=5)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(StartTimeoutError, match="not ready after 0 s"):
            wait_ready(sleeper, lambda: False, what="sleeper", log=log, timeout=0.1)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert log_tail(tmp_path / "missing.log") == ""


def test_replica_environment_carries_every_setting() -> None:
    """A replica gets every setting as KDB_*, secrets included, and none of the caller's."""
    settings = load_settings(bridge_cookie_secret="c2VjcmV0", bridge_url="https://lb:1")
    env = replica.environment(settings, {"PATH": "/bin", "KDB_STRAY": "x"})
    assert env["PATH"] == "/bin"
    assert "KDB_STRAY" not in env
    assert env["KDB_BRIDGE_URL"] == "https://lb:1"
    assert env["KDB_BRIDGE_COOKIE_SECRET"] == "c2VjcmV0"
    assert "KDB_JVM_SEARCH_DIRS" not in env
    assert replica.serve_command(8000)[-3:] == ["serve", "--port", "8000"]
    one = replica.BridgeReplica("b-1", settings, port=8000, log_file=Path("/dev/null"))
    assert (repr(one), one.url) == ("BridgeReplica('b-1', port=8000)", "http://127.0.0.1:8000")
    one.kill()  # never started: nothing to kill or stop
    one.stop()


def test_a_node_that_exits_while_starting_says_why(tmp_path: Path) -> None:
    """A node whose kc.sh fails is reported with its log, and nothing is left running."""
    home = tmp_path / "home"
    (home / "bin").mkdir(parents=True)
    script = home / "bin" / "kc.sh"
    script.write_text("#!/bin/sh\necho 'ERROR: no database'\nexit 4\n", encoding="utf-8")
    script.chmod(0o755)
    config = production.NodeConfig(
        "kc-x",
        "https://localhost:1",
        free_port(),
        free_port(),
        7800,
        server_tls(tmp_path / "tls", "localhost"),
        Database("kc", "kc", "pw", 5),
    )
    node = production.ProductionNode(
        home, config, settings=load_settings(), log_file=tmp_path / "kc-x.log"
    )
    with pytest.raises(SandboxError, match=r"exited with code 4(.|\n)*no database"):
        node.start()
    assert not node.running


def test_a_replica_that_cannot_start_says_why(tmp_path: Path) -> None:
    """``serve`` without its keys exits at once; the error carries its log."""
    settings = load_settings(bridge_signing_key=None, bridge_cookie_secret=None)
    broken = replica.BridgeReplica("b-x", settings, port=free_port(), log_file=tmp_path / "b.log")
    with pytest.raises(SandboxError, match="bridge replica b-x exited"):
        broken.start()
