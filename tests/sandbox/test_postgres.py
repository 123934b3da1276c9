"""PostgreSQL from Debian's package: found, run as an unprivileged user, databases by password."""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keycloak_duo_bridge.errors import SandboxError
from keycloak_duo_bridge.sandbox import postgres
from keycloak_duo_bridge.sandbox.postgres import PostgresServer

pytestmark = pytest.mark.production


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    """One server for this module's tests."""
    running = PostgresServer()
    running.start()
    yield running
    running.stop()


def test_the_server_runs_as_an_unprivileged_user(server: PostgresServer) -> None:
    """Started by root, the server and its data belong to another user; never to root."""
    assert server.accepts()
    assert repr(server) == f"PostgresServer(port={server.port}, root={str(server.root)!r})"
    owner = server.data.stat().st_uid
    assert owner == server.user.pw_uid
    if os.geteuid() == 0:
        assert owner != 0
        assert server.user.pw_name == postgres.SYSTEM_USER


def test_a_database_is_reachable_over_tcp_with_its_password(server: PostgresServer) -> None:
    """A created database answers its owner over TCP with the password, and not without."""
    db = server.create_database("probe", owner="probe_owner", password="it's secret")
    assert db.jdbc_url == f"jdbc:postgresql://127.0.0.1:{server.port}/probe"
    psql = [str(server.bins / "psql"), "-X", "-h", db.host, "-p", str(db.port), "-U", db.username]
    query = [*psql, "-d", db.name, "-tAc", "select current_user"]
    right = subprocess.run(query, env={"PGPASSWORD": db.password}, capture_output=True, check=False)
    assert right.stdout.decode().strip() == "probe_owner"
    wrong = subprocess.run(query, env={"PGPASSWORD": "nope"}, capture_output=True, check=False)
    assert wrong.returncode != 0


def test_a_failing_command_says_which_and_why(server: PostgresServer) -> None:
    """A second database of the same name fails with psql's own reason."""
    server.create_database("twice", owner="twice_owner", password="x")
    with pytest.raises(SandboxError, match=r"psql failed .*already exists"):
        server.create_database("twice", owner="twice_owner", password="x")


def test_names_must_be_plain() -> None:
    """A database or role name that is not a plain SQL word is refused before any SQL."""
    with pytest.raises(SandboxError, match="plain SQL name"):
        postgres.create_database_sql("x; DROP", "owner", "pw")
    assert "PASSWORD 'a''b'" in postgres.create_database_sql("db", "owner", "a'b")


def test_bin_dir_picks_the_newest_major(tmp_path: Path) -> None:
    """Of several installed majors the newest with a server wins; none is a clear error."""
    for major in ("9", "15", "16", "common"):
        bins = tmp_path / major / "bin"
        bins.mkdir(parents=True)
        if major != "16":  # 16 has a client only
            (bins / "initdb").touch()
            (bins / "postgres").touch()
    assert postgres.bin_dir(tmp_path) == tmp_path / "15" / "bin"
    with pytest.raises(SandboxError, match="apt-get"):
        postgres.bin_dir(tmp_path / "nothing")


def test_a_missing_system_user_is_created(monkeypatch: pytest.MonkeyPatch) -> None:
    """As root, a missing account is made with ``useradd --system``; otherwise the caller's."""
    made: list[list[str]] = []
    known = pwd.getpwuid(os.geteuid())

    def lookup(name: str) -> pwd.struct_passwd:
        if not made:
            raise KeyError(name)
        return known

    def run(argv: list[str], **_: Any) -> subprocess.CompletedProcess[bytes]:
        made.append(argv)
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(pwd, "getpwnam", lookup)
    assert postgres.ensure_system_user("kdb-pg", run=run) is known
    assert made == [
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "kdb-pg"]
    ]
    monkeypatch.setattr(os, "geteuid", lambda: 1234)
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: known if uid == 1234 else None)
    assert postgres.ensure_system_user("kdb-pg", run=run) is known
    assert len(made) == 1


def test_a_server_that_cannot_bind_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy port makes the server exit; the error carries its log and nothing is left."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        server = PostgresServer(port=busy.getsockname()[1])
        with pytest.raises(SandboxError, match="PostgreSQL exited"):
            server.start()
    server.stop()  # stopping twice is harmless
    assert not server.root.exists()
    monkeypatch.setattr(os, "geteuid", lambda: 1234)
    assert server._as_user() == {}  # not root: the caller's own account
