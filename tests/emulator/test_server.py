"""Running the emulator: certificates, the background thread, the control client, the CLI."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from starlette.requests import Request

from keycloak_duo_bridge import serving
from keycloak_duo_bridge.cli import emulator as cli
from keycloak_duo_bridge.cli import main
from keycloak_duo_bridge.emulator import EmulatorError, RunningEmulator, _http, certs, server
from keycloak_duo_bridge.emulator.client import EmulatorControl
from keycloak_duo_bridge.emulator.model import Integration

SECRET = "c" * 40


def _san(path: Path) -> list[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return [str(name.value) for name in san]


def test_certificates_are_made_once_and_reused(tmp_path: Path) -> None:
    """The first start makes the CA and certificate; the next start reuses both."""
    first = certs.ensure_certificates(tmp_path, "127.0.0.1")
    assert first.key.stat().st_mode & 0o777 == 0o600
    assert first.ca_key.stat().st_mode & 0o777 == 0o600
    assert _san(first.cert) == ["127.0.0.1", "localhost", "::1"]
    ca, cert = first.ca.read_bytes(), first.cert.read_bytes()
    again = certs.ensure_certificates(tmp_path, "127.0.0.1")
    assert (again.ca.read_bytes(), again.cert.read_bytes()) == (ca, cert)


def test_new_host_gets_a_new_certificate_from_the_same_ca(tmp_path: Path) -> None:
    """A new host renews the server certificate; clients keep trusting the same CA."""
    first = certs.ensure_certificates(tmp_path, "127.0.0.1")
    ca = first.ca.read_bytes()
    second = certs.ensure_certificates(tmp_path, "duo.test")
    assert second.ca.read_bytes() == ca
    assert "duo.test" in _san(second.cert)


def test_stale_or_foreign_ca_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CA about to expire, or with an unusable key, is made anew."""
    paths = certs.ensure_certificates(tmp_path, "127.0.0.1")
    ca = paths.ca.read_bytes()
    monkeypatch.setattr(certs, "RENEW_BEFORE", dt.timedelta(days=5000))
    assert certs.ensure_certificates(tmp_path, "127.0.0.1").ca.read_bytes() != ca
    monkeypatch.undo()
    ca = paths.ca.read_bytes()
    foreign = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    paths.ca_key.write_bytes(foreign)
    assert certs.ensure_certificates(tmp_path, "127.0.0.1").ca.read_bytes() != ca


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.1", "127.0.0.1:8443"), ("0.0.0.0", "localhost:8443"), ("::1", "[::1]:8443")],  # noqa: S104
)
def test_api_host_for(host: str, expected: str) -> None:
    """Clients get ``host:port``, ``localhost`` for a wildcard, brackets for IPv6."""
    assert server.api_host_for(host, 8443) == expected


@pytest.mark.parametrize(
    ("host", "expected"),
    [("127.0.0.2", "127.0.0.2"), ("0.0.0.0", "localhost"), ("::1", "[::1]")],  # noqa: S104
)
def test_api_host_on_port_443_is_the_bare_host(host: str, expected: str) -> None:
    """On port 443 the API host has no port, as Duo's do (the Java SDK pins bare hosts)."""
    assert server.api_host_for(host, 443) == expected


def test_ca_pin_is_the_sha256_of_the_ca_public_key(tmp_path: Path) -> None:
    """The pin is ``sha256/`` and the base64 SHA-256 of the CA's SubjectPublicKeyInfo."""
    paths = certs.ensure_certificates(tmp_path, "127.0.0.1")
    ca = x509.load_pem_x509_certificate(paths.ca.read_bytes())
    spki = ca.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expected = "sha256/" + base64.b64encode(hashlib.sha256(spki).digest()).decode()
    assert certs.spki_pin(paths.ca) == expected
    assert len(base64.b64decode(expected.removeprefix("sha256/"))) == 32
    certs.ensure_certificates(tmp_path, "duo.test")  # a renewed server certificate
    assert certs.spki_pin(paths.ca) == expected


def test_running_emulator_pin_matches_its_chain(tmp_path: Path) -> None:
    """The running emulator's ``ca_pin`` is the pin of the CA that issued its certificate."""
    with server.start_emulator(tmp_path) as emulator:
        assert emulator.ca_pin == certs.spki_pin(emulator.ca_path)
        cert = x509.load_pem_x509_certificate((tmp_path / "server.pem").read_bytes())
        ca = x509.load_pem_x509_certificate(emulator.ca_path.read_bytes())
        assert cert.issuer == ca.subject


def test_busy_port(tmp_path: Path) -> None:
    """A port in use is reported as an :class:`EmulatorError`."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(EmulatorError, match="cannot listen"):
            server.start_emulator(tmp_path, port=port)


def test_bad_certificate(tmp_path: Path) -> None:
    """A corrupt key in the data directory is reported before any thread starts."""
    paths = certs.ensure_certificates(tmp_path, "127.0.0.1")
    paths.key.write_text("not a key")
    with pytest.raises(EmulatorError, match="TLS certificate"):
        server.start_emulator(tmp_path)


def test_stop_with_a_client_still_connected(tmp_path: Path) -> None:
    """Stopping aborts connections a client left open, instead of leaking them."""
    app = Integration("DISTOPSTOPSTOPSTOPST", SECRET)
    emulator = server.start_emulator(tmp_path, integrations=[app])
    assert emulator.state.integration(app.client_id) == app
    context = ssl.create_default_context(cafile=str(emulator.ca_path))
    host, port = emulator.api_host.rsplit(":", 1)
    with (
        socket.create_connection((host, int(port))) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        tls.sendall(b"GET /emulator/events HTTP/1.1\r\nHost: x\r\n\r\n")
        assert tls.recv(100).startswith(b"HTTP/1.1 200")
        emulator.stop()
        assert not emulator._server._thread.is_alive()


def test_control_client_errors(tmp_path: Path) -> None:
    """Control API refusals and unreachable emulators become :class:`EmulatorError`."""
    with server.start_emulator(tmp_path) as emulator:
        assert isinstance(emulator, RunningEmulator)
        with pytest.raises(EmulatorError, match="404"):
            emulator.control.user("ghost")
        url, ca = emulator.base_url, emulator.ca_path
    gone = EmulatorControl(url, ca, "unused", timeout=2)
    with pytest.raises(EmulatorError, match="GET /emulator/events"):
        gone.events()
    gone.close()


def test_serve_in_the_foreground(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve`` announces the CA and URL, then serves until told to stop."""
    servers: list[Any] = []

    class Recording(serving.Server):
        def __init__(self, config: Any) -> None:
            super().__init__(config)
            servers.append(self)

    monkeypatch.setattr(serving, "Server", Recording)
    announced: list[tuple[Path, str]] = []
    app = Integration("DISERVESERVESERVESER", SECRET)
    thread = threading.Thread(
        target=server.serve,
        args=(tmp_path,),
        kwargs={
            "host": "127.0.0.1",
            "port": 0,
            "integrations": [app],
            "announce": lambda ca, url: announced.append((ca, url)),
        },
    )
    thread.start()
    try:
        while not servers or not servers[0].started:
            thread.join(0.02)
        ca, url = announced[0]
        control = EmulatorControl(url, ca, url.removeprefix("https://"))
        assert control.events() == []
        control.close()
    finally:
        while not servers:  # pragma: no cover - only if serve failed before starting
            thread.join(0.02)
        servers[0].should_exit = True
        thread.join(10)
    assert ca == tmp_path / "ca.pem"


def test_cli_serves_with_integrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command registers ``--integration``s, prints the CA and URL, never the secret."""
    calls: list[dict[str, Any]] = []

    def fake_serve(data_dir: Path, **kwargs: Any) -> None:
        calls.append({"data_dir": data_dir, **kwargs})
        kwargs["announce"](certs.ensure_certificates(data_dir, "127.0.0.1").ca, url)

    url = "https://127.0.0.1:9999"

    monkeypatch.setattr(cli, "serve", fake_serve)
    argv = ["emulator", "--port", "9999", "--data-dir", str(tmp_path)]
    argv += ["--integration", f"DICLICLICLICLICLICLI:{SECRET}", "--new-user-policy", "allow"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"Duo emulator CA: {tmp_path / 'ca.pem'}" in out
    assert "https://127.0.0.1:9999 (api_host 127.0.0.1:9999)" in out
    assert "DICLICLICLICLICLICLI (allow)" in out
    assert f"Duo emulator CA pin: {certs.spki_pin(tmp_path / 'ca.pem')}" in out
    assert SECRET not in out
    (call,) = calls
    assert call["port"] == 9999
    assert call["integrations"][0].new_user_policy == "allow"
    url = "https://127.0.0.2"  # as serve() spells it on port 443
    assert (
        main(["emulator", "--host", "127.0.0.2", "--port", "443", "--data-dir", str(tmp_path)]) == 0
    )
    assert "listening on https://127.0.0.2 (api_host 127.0.0.2)" in capsys.readouterr().out


def test_cli_warns_off_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Binding beyond loopback warns that the control API has no authentication."""
    monkeypatch.setattr(cli, "serve", lambda *_a, **_k: None)
    assert main(["emulator", "--host", "0.0.0.0", "--data-dir", str(tmp_path)]) == 0  # noqa: S104
    assert "not loopback" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["nocolon", ":secret", "DIX:"])
def test_cli_refuses_malformed_integration(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``--integration`` must be CLIENT_ID:CLIENT_SECRET."""
    with pytest.raises(SystemExit):
        main(["emulator", "--integration", value])
    assert "expected CLIENT_ID:CLIENT_SECRET" in capsys.readouterr().err


def test_cli_refuses_bad_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    """Credentials of the wrong shape are refused without echoing the secret."""
    assert main(["emulator", "--integration", "DISHORT:tooshortsecret"]) == 2
    err = capsys.readouterr().err
    assert "client_id must be 20 letters or digits" in err
    assert "tooshortsecret" not in err


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("10.0.0.1", False),
        ("duo.test", False),
    ],
)
def test_is_loopback(host: str, loopback: bool) -> None:  # noqa: FBT001
    """Loopback names and addresses are recognised."""
    assert cli._is_loopback(host) is loopback


def test_default_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The data directory follows XDG_DATA_HOME, else ``~/.local/share``."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert cli.default_data_dir() == tmp_path / "keycloak-duo-bridge" / "duo-emulator"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert cli.default_data_dir() == Path.home() / ".local/share/keycloak-duo-bridge/duo-emulator"


def test_injected_timeout_ends_when_the_client_gives_up(
    duo_emulator: RunningEmulator, duo_integration: object
) -> None:
    """A hung health check answers nothing; the client's own timeout fires, the hang ends."""
    del duo_integration  # clears the faults afterwards
    duo_emulator.control.set_faults(health="timeout", token="timeout")
    context = ssl.create_default_context(cafile=str(duo_emulator.ca_path))
    with httpx2.Client(verify=context, timeout=0.5) as client:
        for path in ("/oauth/v1/health_check", "/oauth/v1/token"):
            with pytest.raises(httpx2.ReadTimeout):
                client.post(f"{duo_emulator.base_url}{path}")
    outcomes = [e["outcome"] for e in duo_emulator.control.events()[-2:]]
    assert outcomes == ["fault_timeout", "fault_timeout"]


def test_hosts_without_a_host_header() -> None:
    """Without a Host header (HTTP/1.0), the server's own address stands in."""
    request = Request({"type": "http", "headers": [], "server": ("127.0.0.1", 8443)})
    assert _http.hosts(request) == {"127.0.0.1:8443"}
    assert _http.hosts(Request({"type": "http", "headers": []})) == {"localhost:443", "localhost"}
