"""End to end: `-e` values reach a build in the cluster through its Secret, and nothing is left.

A CNB build gets the value in ``/platform/env`` (copied from the mounted
Secret): `-e PAAS_WEB_COMMAND=...` becomes the image's default process. A
kaniko build gets ``--build-arg NAME`` and the value from the Secret: a
Dockerfile ``LABEL`` shows it. Afterwards no pod and no Secret of the build
is left, and the pod never had the value.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from test_cluster_build import cluster_build, delete_namespaces
from test_cluster_dockerfile import base_image, dockerfile_builder  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]

REPO = Path(__file__).resolve().parents[3]
TEMPLATES = REPO / "templates"
#: No local daemon: the build can only be the cluster's.
NO_DAEMON = {"DOCKER_HOST": "unix:///nonexistent/docker.sock", "PATH": "/usr/bin:/bin"}


def _left(cluster, namespace: str) -> tuple[list[str], list[str]]:
    from kubernetes import client

    core = client.CoreV1Api(cluster.api_client)
    pods = [p.metadata.name for p in core.list_namespaced_pod(namespace).items]
    secrets = [
        s.metadata.name
        for s in core.list_namespaced_secret(namespace).items
        if s.metadata.deletion_timestamp is None and "-build-" in s.metadata.name
    ]
    return pods, secrets


def test_a_cnb_build_in_the_cluster_gets_e_through_its_secret(
    build_testbed, builder, cluster, app_copy
) -> None:
    from paas.registry import image_labels

    app = app_copy(TEMPLATES / "go-http")
    command = f"go-http --from-secret {uuid.uuid4().hex[:8]}"
    try:
        result = cluster_build(
            build_testbed, cluster, app, "-e", f"PAAS_WEB_COMMAND={command}", extra_env=NO_DAEMON
        )
        assert result.returncode == 0, result.stderr[-6000:]
        image = json.loads(result.stdout)["image"]
        metadata = json.loads(image_labels(image, insecure=True)["io.buildpacks.build.metadata"])
        web = next(p for p in metadata["processes"] if p["type"] == "web")
        shown = " ".join([*(web.get("command") or []), *(web.get("args") or [])])
        assert command in shown, web
        assert _left(cluster, app.name) == ([], [])
    finally:
        delete_namespaces(cluster, app.name)


def test_a_kaniko_build_in_the_cluster_gets_e_as_a_build_arg(
    build_testbed,
    cluster,
    app_copy,
    base_image: str,  # noqa: F811
    dockerfile_builder: str,  # noqa: F811
) -> None:
    from paas.registry import image_labels

    app = app_copy(TEMPLATES / "dockerfile")
    dockerfile = app / "Dockerfile"
    dockerfile.write_text(
        dockerfile.read_text() + 'ARG PAAS_E2E_TOKEN\nLABEL token="${PAAS_E2E_TOKEN}"\n'
    )
    # Plain characters: a Dockerfile `LABEL` itself parses quotes and `$` in what it expands.
    token = f"s3cret {uuid.uuid4().hex[:8]}"
    try:
        result = cluster_build(
            build_testbed,
            cluster,
            app,
            "-e",
            f"PAAS_E2E_TOKEN={token}",
            "-e",
            f"BASE_IMAGE={base_image}",
            extra_env=NO_DAEMON,
        )
        assert result.returncode == 0, result.stderr[-6000:]
        # kaniko logs the `LABEL` with the arg expanded, as Docker keeps it in the image:
        # a build arg is no secret in the image (docs/security.md).
        image = json.loads(result.stdout)["image"]
        assert image_labels(image, insecure=True)["token"] == token
        assert _left(cluster, f"{app.name}-build") == ([], [])
    finally:
        delete_namespaces(cluster, app.name, f"{app.name}-build")
