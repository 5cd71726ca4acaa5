"""Fixtures for the app-lifecycle end-to-end tests: the CLI on the testbed, apps, images.

Each test gets its own app (namespace) and destroys it after. Images are built
once per machine from the testbed's Debian base (podman's cache keeps them) and
pushed to the testbed registry; the tests then drive `paas` exactly as a user
does, and check what the Ingress serves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

Cluster = Any  # tests/conftest.py's Cluster: kubeconfig, registry


REPO = Path(__file__).resolve().parents[3]
DOMAIN = "localhost"
INGRESS = "http://127.0.0.1"
PYTHON_BASE = "localhost/paas-e2e/python-base:bookworm"


@dataclass
class Paas:
    """The paas CLI bound to the test cluster."""

    env: dict[str, str]

    def __call__(
        self, *args: str, timeout: float = 600, check: bool = False, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "paas", *args],
            env=self.env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"paas {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n"
                f"{result.stderr}",
                pytrace=False,
            )
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "paas", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def get(app: str, path: str = "/", timeout: float = 5) -> httpx.Response:
    """A request through the Ingress (Traefik on port 80) with the app's Host header."""
    return httpx.get(f"{INGRESS}{path}", headers={"Host": f"{app}.{DOMAIN}"}, timeout=timeout)


def wait_for_body(app: str, needle: str, timeout: float = 60) -> str:
    """Poll the app through the Ingress until its page contains `needle`."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            response = get(app)
            last = f"{response.status_code} {response.text[:200]}"
            if response.status_code == 200 and needle in response.text:
                return response.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.5)
    pytest.fail(f"`{app}` never served `{needle}`; last: {last}", pytrace=False)


@pytest.fixture(scope="session")
def paas(cluster: Cluster) -> Paas:
    """The CLI, with the cluster's settings stored once (`paas cluster init`)."""
    if cluster.registry is None:
        pytest.fail(
            "these tests need a registry the cluster pulls from: set PAAS_TEST_REGISTRY",
            pytrace=False,
        )
    env = {
        **os.environ,
        "KUBECONFIG": str(cluster.kubeconfig),
        "NO_COLOR": "1",
        "PAAS_AUTHOR": "e2e@paas.test",
    }
    env.pop("PAAS_CONTEXT", None)
    cli = Paas(env)
    cli(
        "cluster",
        "init",
        "--domain",
        DOMAIN,
        "--registry",
        cluster.registry,
        "--insecure-registry",
        check=True,
    )
    return cli


def _podman(*args: str, timeout: float = 900) -> str:
    result = subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"podman {' '.join(args)} failed:\n{result.stderr[-2000:]}", pytrace=False)
    return result.stdout


@pytest.fixture(scope="session")
def python_base() -> str:
    """Debian bookworm with python3, built once from the testbed's debootstrap image."""
    if shutil.which("podman") is None:
        pytest.fail("podman is missing: `hack/testbed up` installs it", pytrace=False)
    exists = subprocess.run(["podman", "image", "exists", PYTHON_BASE], check=False)
    if exists.returncode != 0:
        containerfile = (
            "FROM localhost/debian:bookworm\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends "
            "python3 && rm -rf /var/lib/apt/lists/*\n"
        )
        subprocess.run(
            ["podman", "build", "--pull=never", "-t", PYTHON_BASE, "-f", "-", "."],
            input=containerfile,
            text=True,
            cwd=REPO,
            check=True,
            capture_output=True,
            timeout=900,
        )
    return PYTHON_BASE


@dataclass(frozen=True)
class Images:
    """Two builds of the dockerfile starter that serve different pages."""

    v1: str
    v2: str


@pytest.fixture(scope="session")
def images(cluster: Cluster, python_base: str, tmp_path_factory: pytest.TempPathFactory) -> Images:
    """The dockerfile starter, and a variant with another default greeting, in the registry."""
    refs = []
    for variant, greeting in (("v1", "Hello"), ("v2", "Howdy")):
        source = tmp_path_factory.mktemp(f"starter-{variant}")
        shutil.copytree(REPO / "templates" / "dockerfile", source, dirs_exist_ok=True)
        server = source / "server.py"
        server.write_text(server.read_text().replace('"Hello"', f'"{greeting}"'))
        ref = f"{cluster.registry}/e2e/dockerfile:{variant}"
        _podman(
            "build",
            "--pull=never",
            "--build-arg",
            f"BASE_IMAGE={python_base}",
            "-t",
            ref,
            str(source),
        )
        _podman("push", "--tls-verify=false", ref)
        refs.append(ref)
    return Images(*refs)


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    """A copy of the dockerfile starter to push with `--image` (no build in these tests)."""
    target = tmp_path / "app"
    shutil.copytree(REPO / "templates" / "dockerfile", target)
    return target


@pytest.fixture
def app(paas: Paas) -> Iterator[str]:
    """A unique app name; the app is destroyed after the test."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    yield name
    paas("apps", "destroy", name, "--confirm", name, timeout=120)
