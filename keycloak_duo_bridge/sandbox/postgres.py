"""PostgreSQL from Debian's package, run by the harness on a free loopback port.

PostgreSQL refuses to run as root. Started by root, the server runs as an unprivileged
system user (``postgres``, created with ``useradd --system`` when missing) and its data
directory, made with ``initdb``, belongs to that user. Started by anyone else, it runs as
that user. The harness reaches it as its superuser over a private Unix socket (``trust``,
local only); applications log in over TCP with a password (``scram-sha-256``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keycloak_duo_bridge.errors import SandboxError
from keycloak_duo_bridge.sandbox import process
from keycloak_duo_bridge.sandbox.ports import free_port
from keycloak_duo_bridge.sandbox.waiting import wait_ready

DEBIAN_ROOT = Path("/usr/lib/postgresql")
SYSTEM_USER = "postgres"
SUPERUSER = "postgres"
START_TIMEOUT = 60.0

Run = Callable[..., "subprocess.CompletedProcess[bytes]"]


def bin_dir(root: Path = DEBIAN_ROOT) -> Path:
    """The newest ``<root>/<major>/bin`` that holds ``initdb`` and ``postgres``."""
    found = sorted(
        (p for p in root.glob("*/bin") if (p / "initdb").is_file() and (p / "postgres").is_file()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else -1,
    )
    if not found:
        raise SandboxError(
            f"no PostgreSQL server under {root}; install Debian's `postgresql` package "
            "(`make test` does, with apt-get)"
        )
    return found[-1]


def ensure_system_user(name: str = SYSTEM_USER, run: Run = subprocess.run) -> pwd.struct_passwd:
    """The account the server runs as: ``name`` when root, else the current user."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid())
    try:
        return pwd.getpwnam(name)
    except KeyError:
        run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(name)


def initdb_command(bins: Path, data: Path) -> list[str]:
    """``initdb``: UTF-8, the superuser ``postgres``, local socket trusted, TCP by password."""
    return [
        str(bins / "initdb"),
        f"--pgdata={data}",
        f"--username={SUPERUSER}",
        "--encoding=UTF8",
        "--no-locale",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--no-sync",
    ]


def server_command(bins: Path, data: Path, *, port: int, socket_dir: Path) -> list[str]:
    """``postgres`` in the foreground, on ``127.0.0.1:port`` and a private socket dir."""
    return [
        str(bins / "postgres"),
        "-D",
        str(data),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        f"port={port}",
        "-c",
        f"unix_socket_directories={socket_dir}",
        "-c",
        "max_connections=200",
    ]


def create_database_sql(name: str, owner: str, password: str) -> str:
    """SQL for a login role ``owner`` and a database ``name`` it owns (fed on stdin, so the
    password never appears on a command line)."""
    for word in (name, owner):
        if not word.replace("_", "").isalnum():
            raise SandboxError(f"not a plain SQL name: {word!r}")
    quoted = password.replace("'", "''")
    return (
        f"CREATE ROLE {owner} LOGIN PASSWORD '{quoted}';\n"
        f"CREATE DATABASE {name} OWNER {owner} ENCODING 'UTF8';\n"
    )


@dataclass(frozen=True)
class Database:
    """A database and the role that owns it, as Keycloak's ``--db-*`` options name them."""

    name: str
    username: str
    password: str
    port: int
    host: str = "127.0.0.1"

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://{self.host}:{self.port}/{self.name}"


class PostgresServer:
    """One PostgreSQL server in a temporary directory of its own, owned by its user."""

    def __init__(self, *, port: int | None = None, bins: Path | None = None) -> None:
        self.bins = bins or bin_dir()
        self.port = port or free_port()
        self.user = ensure_system_user()
        self.root = Path(tempfile.mkdtemp(prefix="kdb-postgres-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log_file = self.root / "postgres.log"
        self._child: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"PostgresServer(port={self.port}, root={str(self.root)!r})"

    def _as_user(self) -> dict[str, Any]:
        if os.geteuid() != 0:
            return {}
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}

    def _run(self, argv: Sequence[str], stdin: str | None = None) -> None:
        result = subprocess.run(
            argv,
            input=stdin.encode() if stdin is not None else None,
            capture_output=True,
            check=False,
            cwd=self.root,
            **self._as_user(),
        )
        if result.returncode != 0:
            raise SandboxError(
                f"{Path(argv[0]).name} failed ({result.returncode}): "
                f"{result.stderr.decode(errors='replace')[-500:]}"
            )

    def start(self, timeout: float = START_TIMEOUT) -> float:
        """``initdb`` then ``postgres``; the seconds until it accepts connections."""
        self.socket_dir.mkdir()
        os.chown(self.root, self.user.pw_uid, self.user.pw_gid)
        os.chown(self.socket_dir, self.user.pw_uid, self.user.pw_gid)
        self._run(initdb_command(self.bins, self.data))
        with self.log_file.open("wb") as log:
            child = subprocess.Popen(
                server_command(self.bins, self.data, port=self.port, socket_dir=self.socket_dir),
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **self._as_user(),
            )
        self._child = child
        try:
            return wait_ready(
                child, self.accepts, what="PostgreSQL", log=self.log_file, timeout=timeout
            )
        except BaseException:
            self.stop()
            raise

    def accepts(self) -> bool:
        """True when the server answers on its socket (``pg_isready``)."""
        argv = [str(self.bins / "pg_isready"), "-q", "-h", str(self.socket_dir), "-p"]
        return subprocess.run([*argv, str(self.port)], check=False).returncode == 0

    def create_database(self, name: str, *, owner: str, password: str) -> Database:
        """A new database owned by a new login role, reachable over TCP with its password."""
        psql = [str(self.bins / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
        where = ["-h", str(self.socket_dir), "-p", str(self.port), "-U", SUPERUSER, "-d"]
        self._run([*psql, *where, "postgres"], stdin=create_database_sql(name, owner, password))
        return Database(name=name, username=owner, password=password, port=self.port)

    def stop(self) -> None:
        """Stop the server this object started and remove its directory."""
        child, self._child = self._child, None
        if child is not None:
            process.terminate(child.pid, str(self.data))
            child.wait()
        shutil.rmtree(self.root, ignore_errors=True)
