"""Fetch the Keycloak distribution from Maven Central, verify it, and unpack it once.

The zip is ``org.keycloak:keycloak-quarkus-dist:<version>:zip``. It is cached in the
user's cache dir (never in the repository), checked against the ``.sha1`` that the
repository publishes next to it, and unpacked into ``<cache>/keycloak-<version>/``.
A marker file written last makes an interrupted unpack start over.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx2

from keycloak_duo_bridge.errors import ChecksumMismatchError, DownloadError

GROUP_PATH = "org/keycloak"
ARTIFACT = "keycloak-quarkus-dist"
_UNPACKED_MARKER = ".kdb-unpacked"
_CHUNK = 1 << 20

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    """Default progress sink: say nothing."""


def artifact_url(repository: str, version: str, suffix: str = "zip") -> str:
    """The repository-layout URL of the distribution (or of its checksum file)."""
    name = f"{ARTIFACT}-{version}.{suffix}"
    return f"{repository.rstrip('/')}/{GROUP_PATH}/{ARTIFACT}/{version}/{name}"


def parse_sha1(text: str) -> str:
    """The hex digest from a Maven ``.sha1`` file (which may carry a file name after it)."""
    words = text.split()
    digest = words[0].lower() if words else ""
    if len(digest) != 40 or any(c not in "0123456789abcdef" for c in digest):  # noqa: PLR2004
        raise DownloadError(f"the published .sha1 is not a SHA-1 digest: {text[:60]!r}")
    return digest


def sha1_of(path: Path) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _get_text(client: httpx2.Client, url: str) -> str:
    try:
        response = client.get(url)
        response.raise_for_status()
    except httpx2.HTTPError as exc:
        raise DownloadError(f"could not download {url}: {exc}") from exc
    return response.text


def _download(client: httpx2.Client, url: str, target: Path, progress: Progress) -> None:
    partial = target.with_name(target.name + ".part")
    try:
        with client.stream("GET", url) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length", 0))
            done = 0
            next_report = 0
            with partial.open("wb") as handle:
                for chunk in response.iter_bytes(_CHUNK):
                    handle.write(chunk)
                    done += len(chunk)
                    if total and done >= next_report:
                        progress(f"downloading {url}: {done * 100 // total}%")
                        next_report = done + total // 10
    except httpx2.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise DownloadError(f"could not download {url}: {exc}") from exc
    partial.replace(target)


def fetch(
    cache_dir: Path,
    version: str,
    repository: str,
    *,
    progress: Progress = _quiet,
    transport: httpx2.BaseTransport | None = None,
) -> Path:
    """The verified distribution zip in the cache, downloading it when missing or corrupt."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{ARTIFACT}-{version}.zip"
    with httpx2.Client(
        transport=transport, timeout=httpx2.Timeout(30.0), follow_redirects=True
    ) as client:
        checksum_file = target.with_name(target.name + ".sha1")
        if checksum_file.is_file():
            expected = parse_sha1(checksum_file.read_text(encoding="utf-8"))
        else:
            expected = parse_sha1(_get_text(client, artifact_url(repository, version, "zip.sha1")))
            checksum_file.write_text(expected + "\n", encoding="utf-8")
        if target.is_file() and sha1_of(target) == expected:
            progress(f"using cached {target}")
            return target
        _download(client, artifact_url(repository, version), target, progress)
    actual = sha1_of(target)
    if actual != expected:
        target.unlink()
        raise ChecksumMismatchError(
            f"{target.name}: SHA-1 {actual} does not match the published {expected}; "
            "the corrupt download was removed, run again"
        )
    progress(f"downloaded and verified {target} (sha1 {expected})")
    return target


def unpack(archive: Path, destination_root: Path, version: str) -> Path:
    """Unpack the distribution once; return its home (``.../keycloak-<version>``)."""
    home = destination_root / f"keycloak-{version}"
    if (home / _UNPACKED_MARKER).is_file():
        return home
    if home.exists():
        shutil.rmtree(home)
    destination_root.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            extracted = Path(bundle.extract(member, destination_root))
            mode = (member.external_attr >> 16) & 0o777
            if mode & stat.S_IXUSR:
                extracted.chmod(mode)
    if not (home / "bin" / "kc.sh").is_file():
        raise DownloadError(f"{archive.name} holds no keycloak-{version}/bin/kc.sh")
    (home / _UNPACKED_MARKER).write_text(version + "\n", encoding="utf-8")
    return home
