"""A local CA and a server certificate for the emulator, kept in its data directory."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificatePaths", "ensure_certificates", "names_for", "spki_pin"]

CA_DAYS = 3650
SERVER_DAYS = 365
RENEW_BEFORE = dt.timedelta(days=7)
Name = x509.DNSName | x509.IPAddress


@dataclass(frozen=True)
class CertificatePaths:
    """Where the CA and the server's certificate and key live."""

    ca: Path
    ca_key: Path
    cert: Path
    key: Path


def names_for(host: str) -> list[Name]:
    """The subject alternative names: ``host``, ``localhost``, ``127.0.0.1`` and ``::1``."""
    wanted = [host, "localhost", "127.0.0.1", "::1"]
    names: list[Name] = []
    for name in dict.fromkeys(h.strip("[]") for h in wanted if h.strip("[]")):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            names.append(x509.DNSName(name))
    return names


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _fresh(cert: x509.Certificate) -> bool:
    return cert.not_valid_after_utc - RENEW_BEFORE > _now()


def _load_ca(paths: CertificatePaths) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    if not (paths.ca.exists() and paths.ca_key.exists()):
        return None
    cert = x509.load_pem_x509_certificate(paths.ca.read_bytes())
    key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not _fresh(cert):
        return None
    return cert, key


def _make_ca(paths: CertificatePaths) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "keycloak-duo-bridge emulator CA")])
    now = _now()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(paths.ca_key, key)
    paths.ca.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _server_covers(paths: CertificatePaths, ca: x509.Certificate, names: list[Name]) -> bool:
    if not (paths.cert.exists() and paths.key.exists()):
        return False
    cert = x509.load_pem_x509_certificate(paths.cert.read_bytes())
    if cert.issuer != ca.subject or not _fresh(cert):
        return False
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return all(name in san for name in names)


def _make_server(
    paths: CertificatePaths,
    ca: x509.Certificate,
    ca_key: ec.EllipticCurvePrivateKey,
    names: list[Name],
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(names[0].value))])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(paths.key, key)
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_certificates(data_dir: Path, host: str) -> CertificatePaths:
    """Create (first start) or reuse the CA and a server certificate covering ``host``.

    The CA is kept across starts, so clients can keep trusting ``ca.pem``; the server
    certificate is renewed when it expires or does not cover ``host``.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = CertificatePaths(
        ca=data_dir / "ca.pem",
        ca_key=data_dir / "ca-key.pem",
        cert=data_dir / "server.pem",
        key=data_dir / "server-key.pem",
    )
    loaded = _load_ca(paths)
    ca, ca_key = loaded if loaded is not None else _make_ca(paths)
    names = names_for(host)
    if not _server_covers(paths, ca, names):
        _make_server(paths, ca, ca_key, names)
    return paths


def spki_pin(cert_path: Path) -> str:
    """The certificate's public-key pin, ``sha256/<base64>``, as OkHttp and HPKP spell it.

    It is the SHA-256 of the DER SubjectPublicKeyInfo. Pinning clients (Duo's Java SDK,
    through OkHttp's ``CertificatePinner``) accept a chain that contains a certificate with
    this key; the CA's pin stays valid when the server certificate is renewed.
    """
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "sha256/" + base64.b64encode(hashlib.sha256(spki).digest()).decode()
