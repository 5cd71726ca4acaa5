"""Fixtures for the cluster tests: a locally built app image in the test registry."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import Cluster

APP_DIR = Path(__file__).resolve().parent / "app"
BASE_IMAGE = os.environ.get("PAAS_TEST_BASE_IMAGE", "localhost/debian:bookworm")


def _run(argv: list[str], timeout: float = 600) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        pytest.fail(
            f"`{' '.join(argv)}` exited {proc.returncode}:\n{proc.stderr[-3000:]}", pytrace=False
        )
    return proc.stdout


@pytest.fixture(scope="session")
def app_image(cluster: Cluster) -> str:
    """The test app, built with podman from the Debian base and pushed to the registry."""
    if cluster.registry is None:
        pytest.fail("this cluster has no test registry: set PAAS_TEST_REGISTRY", pytrace=False)
    if shutil.which("podman") is None:
        pytest.fail(
            "podman is needed to build the test image (`hack/testbed up` installs it)",
            pytrace=False,
        )
    digest = hashlib.sha256()
    for name in ("Containerfile", "app.py"):
        digest.update((APP_DIR / name).read_bytes())
    ref = f"{cluster.registry}/paas-test/app:{digest.hexdigest()[:12]}"
    _run(
        [
            "podman",
            "build",
            "--pull=never",
            "--network=host",
            "--build-arg",
            f"BASE={BASE_IMAGE}",
            "-t",
            ref,
            "-f",
            str(APP_DIR / "Containerfile"),
            str(APP_DIR),
        ]
    )
    _run(["podman", "push", ref], timeout=120)
    return ref
