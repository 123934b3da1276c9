"""deploy/: every recipe parses, validates against pinned schemas, and runs the same
command lines as keycloak_duo_bridge.recipes (which the tests run)."""

from __future__ import annotations

import configparser
import json
import os
import shlex
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import kubernetes_validate
import pytest
import yaml

from bench.scale import REALM_CACHE, keycloak_environment
from keycloak_duo_bridge import keygen, recipes, versions
from keycloak_duo_bridge.sandbox.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SCHEMAS = Path(__file__).resolve().parent / "deploy_schemas"
KUBERNETES_VERSION = "1.34.0"  # the Kubernetes release whose schemas the manifests must meet
SECRET_VARIABLES = {*keygen.VARIABLES, "KDB_BRIDGE_CLIENT_SECRET"}


def documents(path: Path) -> list[Any]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]


def manifests() -> dict[str, Any]:
    return {d["kind"]: d for d in documents(DEPLOY / "kubernetes" / "bridge.yaml")}


def test_every_yaml_file_parses() -> None:
    """Every YAML file under deploy/ is valid YAML with at least one document."""
    files = sorted(DEPLOY.rglob("*.yaml"))
    assert len(files) >= 3
    for path in files:
        assert documents(path), path


@pytest.mark.parametrize("kind", ["Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"])
def test_kubernetes_manifests_validate(kind: str) -> None:
    """Each bridge manifest validates, strictly, against the pinned Kubernetes schemas."""
    document = manifests()[kind]
    assert kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_an_invalid_manifest_is_caught() -> None:
    """The validation is real: a probe port of the wrong type fails it."""
    broken = manifests()["Deployment"]
    broken["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_deployment_is_locked_down() -> None:
    """Non-root, read-only root filesystem, no privilege escalation, both probes, the serve
    command, and every secret by secretKeyRef, never inline."""
    pod = manifests()["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["command"] == list(recipes.SERVE)
    assert container["livenessProbe"]["httpGet"]["path"] == recipes.LIVENESS
    assert container["readinessProbe"]["httpGet"]["path"] == recipes.READINESS
    env = {e["name"]: e for e in container["env"]}
    assert set(env) >= SECRET_VARIABLES
    for name in SECRET_VARIABLES:
        assert "value" not in env[name]
        assert env[name]["valueFrom"]["secretKeyRef"]["key"] == name


# The fields the Keycloak Operator's CRD (k8s.keycloak.org/v2alpha1) requires, and what
# this recipe relies on: the built image, started optimized.
KEYCLOAK_CR = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "k8s.keycloak.org/v2alpha1"},
        "kind": {"const": "Keycloak"},
        "metadata": {"type": "object", "required": ["name"]},
        "spec": {
            "type": "object",
            "required": ["image", "startOptimized", "db", "hostname", "instances"],
            "properties": {
                "image": {"type": "string"},
                "startOptimized": {"const": True},
                "instances": {"type": "integer", "minimum": 1},
                "db": {"type": "object", "required": ["vendor", "host"]},
                "hostname": {"type": "object", "required": ["hostname"]},
                "http": {"type": "object", "required": ["tlsSecret"]},
            },
        },
    },
}


def test_the_keycloak_resource_runs_the_built_image() -> None:
    """The Keycloak resource has the operator's required fields and runs the recipe's image
    (a supported, tested release) optimized."""
    (resource,) = documents(DEPLOY / "kubernetes" / "keycloak.yaml")
    jsonschema.validate(resource, KEYCLOAK_CR)
    assert resource["spec"]["image"].rsplit(":", 1)[1] in versions.TESTED


def test_the_kit_sizes_keycloaks_realm_cache_alike() -> None:
    """Compose and the Keycloak resource give the realm cache the same room, under the option
    the scale benchmark measured it with (docs/scale.md)."""
    (resource,) = documents(DEPLOY / "kubernetes" / "keycloak.yaml")
    options = {o["name"]: o["value"] for o in resource["spec"]["additionalOptions"]}
    (compose,) = documents(DEPLOY / "compose" / "compose.yaml")
    environment = compose["services"]["keycloak"]["environment"]
    measured = keycloak_environment(int(options["cache-embedded-realms-max-count"]))
    assert measured == keycloak_environment(REALM_CACHE) != {}
    assert all(environment[k] == v for k, v in measured.items())


def test_the_compose_file_meets_the_compose_spec() -> None:
    """compose.yaml validates against the pinned Compose Specification schema; the bridge is
    read-only and non-root, and trusts forwarded headers from the proxy's address only."""
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text(encoding="utf-8"))
    (compose,) = documents(DEPLOY / "compose" / "compose.yaml")
    jsonschema.Draft201909Validator(schema).validate(compose)
    services = compose["services"]
    assert set(services) == {"postgres", "keycloak", "bridge", "proxy"}
    bridge = services["bridge"]
    assert bridge["read_only"] is True
    assert not bridge["user"].startswith("0")
    assert bridge["command"] == list(recipes.SERVE)
    assert services["keycloak"]["command"] == list(recipes.KC_START)
    proxy_ip = services["proxy"]["networks"]["backend"]["ipv4_address"]
    assert bridge["environment"]["KDB_FORWARDED_ALLOW_IPS"] == proxy_ip
    assert bridge["environment"]["KDB_BRIDGE_URL"].startswith("https://")
    assert not SECRET_VARIABLES & {k for k, v in bridge["environment"].items() if "${" not in v}


def test_an_invalid_compose_file_is_caught() -> None:
    """The compose schema is really applied: an unknown service key fails it."""
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text(encoding="utf-8"))
    (compose,) = documents(DEPLOY / "compose" / "compose.yaml")
    compose["services"]["bridge"]["read_only_root"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft201909Validator(schema).validate(compose)


def test_the_bridge_image_recipe() -> None:
    """The bridge's Containerfile installs the wheel with the recipe's pip line, runs as a
    non-root user, has a health check, and starts `serve`."""
    text = (DEPLOY / "bridge" / "Containerfile").read_text(encoding="utf-8")
    assert f"RUN {recipes.shell(recipes.PIP_INSTALL)}\n" in text
    assert f"ENTRYPOINT {recipes.exec_form(recipes.SERVE)}\n" in text
    assert "\nUSER 10001:10001\n" in text
    assert "\nHEALTHCHECK " in text
    assert recipes.LIVENESS in text


def test_the_keycloak_image_recipe() -> None:
    """Keycloak's Containerfile copies the jar into providers/, runs the recipe's kc.sh build
    and starts optimized, on a tested Keycloak release."""
    text = (DEPLOY / "keycloak" / "Containerfile").read_text(encoding="utf-8")
    assert "/opt/keycloak/providers/" in text
    assert f"RUN {recipes.shell(recipes.KC_BUILD)}\n" in text
    assert f"ENTRYPOINT {recipes.exec_form(recipes.KC_START)}\n" in text
    tags = {line.split(":")[-1].split()[0] for line in text.splitlines() if line.startswith("FROM")}
    assert tags <= set(versions.TESTED)


def test_the_systemd_unit() -> None:
    """The unit runs `serve` as an unprivileged user, with secrets from an EnvironmentFile."""
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "systemd" / "keycloak-duo-bridge.service", encoding="utf-8")
    assert {"Unit", "Service", "Install"} <= set(unit.sections())
    service = unit["Service"]
    assert service["ExecStart"].endswith("/bin/" + recipes.shell(recipes.SERVE))
    assert service["User"] not in {"", "root"}
    assert service["NoNewPrivileges"] == "yes"
    text = (DEPLOY / "systemd" / "keycloak-duo-bridge.service").read_text(encoding="utf-8")
    assert "EnvironmentFile=/etc/keycloak-duo-bridge/secrets.env" in text
    assert recipes.shell(recipes.PIP_INSTALL) in text


def test_the_serve_line_runs(tmp_path: Path) -> None:
    """The recipes' serve line, run as they run it (settings in KDB_* variables, from a
    read-only working directory), answers the liveness probe."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KDB_")},
        **keygen.generate("k1"),
        "KDB_BRIDGE_HOST": "127.0.0.1",
        "KDB_BRIDGE_PORT": str(port),
        "KDB_BRIDGE_URL": f"http://127.0.0.1:{port}",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    workdir = tmp_path / "ro"
    workdir.mkdir(mode=0o555)
    process = subprocess.Popen(
        shlex.split(recipes.shell(recipes.SERVE)),  # the line, split as a shell splits it
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx2.get(f"http://127.0.0.1:{port}{recipes.LIVENESS}").status_code
            except httpx2.HTTPError:
                time.sleep(0.2)
        assert status == 200
    finally:
        process.terminate()
        _, err = process.communicate(timeout=10)
    assert keygen.VARIABLES[1] not in err.decode()


def test_the_deploy_page_shows_the_same_lines() -> None:
    """docs/deploy.md's install steps use the recipes' own pip, kc.sh build and kc.sh start
    lines, so the page and the recipes cannot drift apart."""
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for argv in (recipes.PIP_INSTALL, recipes.KC_BUILD, recipes.KC_START):
        assert recipes.shell(argv) in text, argv


def test_the_pip_line_installs_the_wheel(tmp_path: Path) -> None:
    """The recipes' pip line, run by a shell in the folder holding the built wheel, installs
    the console script into a fresh virtualenv. The dependencies come from this test
    environment (PYTHONPATH) rather than PyPI, so the test stays offline and quick."""
    dist, venv = tmp_path / "dist", tmp_path / "venv"
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [bin_dir / "uv", "build", "--wheel", "--out-dir", dist, ROOT],
        check=True,
        capture_output=True,
    )
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True)
    site = sysconfig.get_paths()["purelib"]
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": site,
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    subprocess.run(  # noqa: S602 - the recipe's line, with its glob, as a shell runs it
        recipes.shell(recipes.PIP_INSTALL),
        shell=True,
        cwd=dist,
        env=env,
        check=True,
        capture_output=True,
    )
    installed = venv / "bin" / "keycloak-duo-bridge"
    version = subprocess.run(
        [installed, "--version"], env=env, check=True, capture_output=True, text=True
    )
    assert version.stdout.startswith("keycloak-duo-bridge ")
    assert list(venv.glob("lib/python*/site-packages/keycloak_duo_bridge/recipes.py"))
