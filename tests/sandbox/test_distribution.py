"""Fetching, verifying and unpacking the Keycloak distribution.

The real download from Maven Central happens in the session's sandbox fixture; these tests
inject the faults Maven Central cannot be made to produce (corruption, outages).
"""

from __future__ import annotations

import hashlib
import stat
import zipfile
from pathlib import Path

import httpx2
import pytest

from keycloak_duo_bridge.errors import ChecksumMismatchError, DownloadError
from keycloak_duo_bridge.sandbox import distribution

REPO = "https://repo.example/maven2"


def make_zip(path: Path, version: str = "1.0", *, with_kc: bool = True) -> bytes:
    with zipfile.ZipFile(path, "w") as bundle:
        if with_kc:
            info = zipfile.ZipInfo(f"keycloak-{version}/bin/kc.sh")
            info.external_attr = (stat.S_IFREG | 0o755) << 16
            bundle.writestr(info, "#!/bin/sh\n")
        bundle.writestr(f"keycloak-{version}/version.txt", "Keycloak - 1.0\n")
    return path.read_bytes()


def serve(files: dict[str, bytes], calls: list[str]) -> httpx2.MockTransport:
    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.url.path)
        body = files.get(str(request.url))
        if body is None:
            return httpx2.Response(404)
        return httpx2.Response(200, content=body, headers={"content-length": str(len(body))})

    return httpx2.MockTransport(handler)


def test_artifact_url_follows_the_repository_layout() -> None:
    """The URL is the Maven layout path of keycloak-quarkus-dist's zip or its checksum."""
    assert distribution.artifact_url("https://repo1.maven.org/maven2/", "26.7.3") == (
        "https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist/26.7.3/"
        "keycloak-quarkus-dist-26.7.3.zip"
    )
    assert distribution.artifact_url(REPO, "1.0", "zip.sha1").endswith("-1.0.zip.sha1")


def test_parse_sha1_accepts_a_trailing_file_name() -> None:
    """A .sha1 file may carry the file name after the digest, and upper-case hex."""
    digest = "A" * 40
    assert distribution.parse_sha1(f"{digest}  file.zip\n") == "a" * 40


@pytest.mark.parametrize("text", ["", "abc", "z" * 40])
def test_parse_sha1_rejects_garbage(text: str) -> None:
    """Anything but a 40-hex-digit digest is refused."""
    with pytest.raises(DownloadError, match="not a SHA-1"):
        distribution.parse_sha1(text)


def test_fetch_downloads_verifies_and_then_uses_the_cache(tmp_path: Path) -> None:
    """A fresh fetch downloads and verifies; the next one reuses the cache without the network."""
    body = make_zip(tmp_path / "src.zip")
    digest = hashlib.sha1(body, usedforsecurity=False).hexdigest()
    files = {
        distribution.artifact_url(REPO, "1.0"): body,
        distribution.artifact_url(REPO, "1.0", "zip.sha1"): digest.encode(),
    }
    calls: list[str] = []
    messages: list[str] = []
    cache = tmp_path / "cache"
    archive = distribution.fetch(
        cache, "1.0", REPO, progress=messages.append, transport=serve(files, calls)
    )
    assert archive.read_bytes() == body
    assert len(calls) == 2
    assert any("downloading" in m for m in messages)
    assert f"sha1 {digest}" in messages[-1]
    calls.clear()
    again = distribution.fetch(cache, "1.0", REPO, transport=serve(files, calls))
    assert again == archive
    assert calls == []


def test_fetch_rejects_a_corrupt_download(tmp_path: Path) -> None:
    """A body that does not match the published SHA-1 is removed and reported."""
    files = {
        distribution.artifact_url(REPO, "1.0"): b"not the real zip",
        distribution.artifact_url(REPO, "1.0", "zip.sha1"): b"0" * 40,
    }
    with pytest.raises(ChecksumMismatchError, match="does not match the published"):
        distribution.fetch(tmp_path, "1.0", REPO, transport=serve(files, []))
    assert not (tmp_path / "keycloak-quarkus-dist-1.0.zip").exists()


def test_fetch_replaces_a_corrupt_cached_file(tmp_path: Path) -> None:
    """A cached zip whose checksum is wrong is downloaded again."""
    body = make_zip(tmp_path / "src.zip")
    digest = hashlib.sha1(body, usedforsecurity=False).hexdigest()
    (tmp_path / "keycloak-quarkus-dist-1.0.zip").write_bytes(b"truncated")
    (tmp_path / "keycloak-quarkus-dist-1.0.zip.sha1").write_text(digest)
    files = {distribution.artifact_url(REPO, "1.0"): body}
    calls: list[str] = []
    archive = distribution.fetch(tmp_path, "1.0", REPO, transport=serve(files, calls))
    assert archive.read_bytes() == body
    assert len(calls) == 1


def test_fetch_reports_a_missing_artifact(tmp_path: Path) -> None:
    """A 404 from the repository is a DownloadError naming the URL."""
    with pytest.raises(DownloadError, match=r"could not download .*\.zip\.sha1"):
        distribution.fetch(tmp_path, "9.9", REPO, transport=serve({}, []))


def test_fetch_reports_a_broken_connection(tmp_path: Path) -> None:
    """A connection that fails mid-download leaves no partial file behind."""
    sha_url = distribution.artifact_url(REPO, "1.0", "zip.sha1")

    def handler(request: httpx2.Request) -> httpx2.Response:
        if str(request.url) == sha_url:
            return httpx2.Response(200, content=b"0" * 40)
        raise httpx2.ReadError("connection reset", request=request)

    with pytest.raises(DownloadError, match="connection reset"):
        distribution.fetch(tmp_path, "1.0", REPO, transport=httpx2.MockTransport(handler))
    assert list(tmp_path.glob("*.part")) == []


def test_unpack_once_keeps_exec_bits(tmp_path: Path) -> None:
    """Unpacking restores kc.sh's exec bit and is skipped once complete."""
    archive = tmp_path / "dist.zip"
    make_zip(archive)
    home = distribution.unpack(archive, tmp_path / "out", "1.0")
    assert home == tmp_path / "out" / "keycloak-1.0"
    assert (home / "bin" / "kc.sh").stat().st_mode & stat.S_IXUSR
    (home / "version.txt").write_text("kept")
    assert distribution.unpack(archive, tmp_path / "out", "1.0") == home
    assert (home / "version.txt").read_text() == "kept"


def test_unpack_redoes_an_interrupted_unpack(tmp_path: Path) -> None:
    """A home without the completion marker is wiped and unpacked again."""
    archive = tmp_path / "dist.zip"
    make_zip(archive)
    leftover = tmp_path / "out" / "keycloak-1.0" / "junk"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("half")
    home = distribution.unpack(archive, tmp_path / "out", "1.0")
    assert not leftover.exists()
    assert (home / "bin" / "kc.sh").is_file()


def test_unpack_rejects_an_archive_without_keycloak(tmp_path: Path) -> None:
    """An archive without bin/kc.sh is not a Keycloak distribution."""
    archive = tmp_path / "dist.zip"
    make_zip(archive, with_kc=False)
    with pytest.raises(DownloadError, match=r"holds no keycloak-1\.0/bin/kc\.sh"):
        distribution.unpack(archive, tmp_path / "out", "1.0")
