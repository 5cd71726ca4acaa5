"""Fixtures for the deploy end-to-end tests: the CLI on the testbed, apps, images.

Each test gets its own app (namespace) and destroys it after. Images are built
once per machine from the testbed's Debian base (podman's cache keeps them) and
pushed to the testbed registry; the tests then drive `paas` exactly as a user
does, and check what the Ingress serves.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_helpers import DOMAIN, PYTHON_BASE, REPO, Cluster, Images, Paas


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
        "--router-settle",
        "0.7",  # the testbed's Traefik applies endpoint changes within 0.5 s
        "--routing",
        "ingress",  # the default; an app's paas.yaml may choose the testbed's Gateway
        "--gateway",
        "gateway/paas",
        # The testbed's own builds from Debian's packages (hack/paas_testbed/addon_images.py).
        "--addon-image",
        f"postgres={cluster.registry}/paas/postgres:15",
        "--addon-image",
        f"redis={cluster.registry}/paas/redis:7",
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
