"""Cluster fixtures shared by every test that needs a real Kubernetes API server.

The cluster is the kubeconfig named by `PAAS_TEST_KUBECONFIG`, else the testbed's
(`hack/testbed up`) when it is running. Tests that need it are marked
`@pytest.mark.cluster`; with `CI` set a missing cluster fails them, elsewhere it
skips them with one line saying how to start the testbed.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parent.parent
TESTBED_STATE = (
    Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "paas" / "testbed"
)
TESTBED_KUBECONFIG = TESTBED_STATE / "admin.kubeconfig"
TESTBED_REGISTRY = "registry.paas.test:5000"
HOW_TO_START = "start one with `hack/testbed up` or set PAAS_TEST_KUBECONFIG"


@dataclass(frozen=True)
class Cluster:
    """A reachable cluster: its kubeconfig, an API client, and its test registry."""

    kubeconfig: Path
    api_client: Any  # kubernetes.client.ApiClient
    registry: str | None  # host:port that the host pushes to and the cluster pulls from
    is_testbed: bool


def _no_cluster(reason: str) -> None:
    message = f"no Kubernetes cluster for this test ({reason}): {HOW_TO_START}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)  # only outside CI: in CI the line above fails the test


def _kubeconfig() -> tuple[Path | None, str]:
    named = os.environ.get("PAAS_TEST_KUBECONFIG")
    if named:
        path = Path(named)
        return (path, "") if path.is_file() else (None, f"PAAS_TEST_KUBECONFIG={named} not found")
    if TESTBED_KUBECONFIG.is_file():
        return TESTBED_KUBECONFIG, ""
    return None, "the testbed is not up"


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    """The cluster under test; skips (or fails in CI) when there is none."""
    path, reason = _kubeconfig()
    if path is None:
        _no_cluster(reason)
    from kubernetes import client, config

    api_client = config.new_client_from_config(config_file=str(path))
    try:
        client.VersionApi(api_client).get_code(_request_timeout=5)
    except Exception as e:
        _no_cluster(f"{path} does not answer: {type(e).__name__}: {e}".splitlines()[0])
    is_testbed = path == TESTBED_KUBECONFIG
    registry = os.environ.get("PAAS_TEST_REGISTRY") or (TESTBED_REGISTRY if is_testbed else None)
    return Cluster(kubeconfig=path, api_client=api_client, registry=registry, is_testbed=is_testbed)


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    from kubernetes import client

    core = client.CoreV1Api(cluster.api_client)
    stem = "".join(ch if ch.isalnum() else "-" for ch in request.node.name.lower())[:40]
    name = f"t-{stem.strip('-')}-{uuid.uuid4().hex[:6]}"
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={"paas.dev/test": "1"}))
    )
    # Pods are refused until the ServiceAccount controller made `default`.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if core.list_namespaced_service_account(name, field_selector="metadata.name=default").items:
            break
        time.sleep(0.2)
    try:
        yield name
    finally:
        core.delete_namespace(name, propagation_policy="Background", grace_period_seconds=0)


@pytest.fixture(scope="session")
def kubectl(cluster: Cluster) -> list[str]:
    """argv prefix for the kubectl the testbed built (else one on PATH), on this cluster."""
    import shutil

    built = TESTBED_STATE / "bin" / "kubectl"
    found = str(built) if built.exists() else shutil.which("kubectl")
    if found is None:
        pytest.fail("no kubectl: `hack/testbed up` builds one", pytrace=False)
    return [found, f"--kubeconfig={cluster.kubeconfig}"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give every `cluster`-marked test the cluster fixture, so it skips or fails alike."""
    for item in items:
        if item.get_closest_marker("cluster") and "cluster" not in item.fixturenames:  # type: ignore[attr-defined]
            item.fixturenames.insert(0, "cluster")  # type: ignore[attr-defined]
