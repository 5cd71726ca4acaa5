"""End to end: a Dockerfile app built in the cluster by kaniko, unprivileged, no local daemon.

`paas build --strategy cluster` of the Dockerfile starter (with a dependency
step added) runs the `paas/dockerfile-builder` image that `hack/testbed`
builds from the Go module proxy, in the app's build namespace (Pod Security
"baseline"). Nothing can be pulled from the internet here, so the app's
`FROM` is the python base the deploy tests build, pushed to the testbed
registry, which the pod pulls over plain HTTP. Each test's namespaces are
deleted afterwards.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_cluster_build import cluster_build

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]

REPO = Path(__file__).resolve().parents[3]
STARTER = REPO / "templates" / "dockerfile"
PYTHON_BASE = "localhost/paas-e2e/python-base:bookworm"
#: The dependency step: slow enough to interrupt, visible when it runs again.
DOCKERFILE = """\
ARG BASE_IMAGE=docker.io/library/python:3.12-slim
FROM ${BASE_IMAGE}

WORKDIR /app
COPY requirements.txt ./
RUN echo "installing $(cat requirements.txt)" && sleep ${INSTALL_SECONDS} \\
    && cp requirements.txt /app/installed.txt
COPY server.py ./

ENV PORT=5000 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 1000
EXPOSE 5000
CMD ["python3", "server.py"]
"""
INSTALL_STEP = (
    'STEP 4/9: RUN echo "installing $(cat requirements.txt)" && sleep ${INSTALL_SECONDS} '
    "&& cp requirements.txt /app/installed.txt"
)


def _registry_has(registry: str, repository: str, tag: str) -> bool:
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={
            "Accept": "application/vnd.docker.distribution.manifest.v2+json, "
            "application/vnd.oci.image.manifest.v1+json"
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def registry_tags(registry: str, repository: str) -> list[str]:
    try:
        with urllib.request.urlopen(f"http://{registry}/v2/{repository}/tags/list") as response:
            return list(json.loads(response.read()).get("tags") or [])
    except OSError:
        return []


@pytest.fixture(scope="session")
def dockerfile_builder(build_testbed) -> str:
    """The kaniko image `hack/testbed` pushes; its absence fails the test (it is part of `up`)."""
    if not _registry_has(build_testbed.registry, "paas/dockerfile-builder", "latest"):
        pytest.fail(
            f"no `{build_testbed.registry}/paas/dockerfile-builder:latest`: run "
            "`hack/testbed dockerfile-builder` (or `hack/testbed up`)",
            pytrace=False,
        )
    return f"{build_testbed.registry}/paas/dockerfile-builder:latest"


@pytest.fixture(scope="session")
def base_image(build_testbed) -> str:
    """Debian bookworm with python3 in the testbed registry, for the app's `FROM`."""
    ref = f"{build_testbed.registry}/paas-e2e/python-base:bookworm"
    if _registry_has(build_testbed.registry, "paas-e2e/python-base", "bookworm"):
        return ref
    if subprocess.run(["podman", "image", "exists", PYTHON_BASE], check=False).returncode != 0:
        containerfile = (
            "FROM localhost/debian:bookworm\n"
            "RUN apt-get update && apt-get install -y --no-install-recommends "
            "python3 && rm -rf /var/lib/apt/lists/*\n"
        )
        subprocess.run(
            ["podman", "build", "--pull=never", "-t", PYTHON_BASE, "-f", "-", str(STARTER)],
            input=containerfile,
            text=True,
            check=True,
            capture_output=True,
            timeout=900,
        )
    subprocess.run(
        ["podman", "push", "--tls-verify=false", PYTHON_BASE, ref],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return ref


@pytest.fixture
def dockerfile_app(
    cluster, tmp_path: Path, base_image: str, dockerfile_builder: str
) -> Iterator[Callable[..., Path]]:
    """The Dockerfile starter with a dependency step, under a fresh name; namespaces deleted after."""
    from kubernetes import client

    names: list[str] = []

    def make(install_seconds: int = 2, run_step: str | None = None) -> Path:
        name = f"t-dockerfile-{uuid.uuid4().hex[:6]}"
        path = tmp_path / name
        shutil.copytree(STARTER, path)
        dockerfile = DOCKERFILE.replace("${INSTALL_SECONDS}", str(install_seconds))
        if run_step is not None:
            dockerfile = dockerfile.replace(
                "COPY server.py ./\n", f"{run_step}\nCOPY server.py ./\n"
            )
        (path / "Dockerfile").write_text(dockerfile)
        (path / "requirements.txt").write_text("greeting-lib==1.0\n")
        (path / "paas.yaml").write_text(
            f"name: {name}\n"
            "build:\n"
            "  dockerfile: Dockerfile\n"
            f"  env: {{BASE_IMAGE: {base_image}}}\n"
            "processes:\n"
            "  web:\n"
            "    healthcheck: /healthz\n"
        )
        names.append(name)
        return path

    yield make
    core = client.CoreV1Api(cluster.api_client)
    for name in names:
        for namespace in (name, f"{name}-build"):
            try:
                core.delete_namespace(
                    namespace, propagation_policy="Background", grace_period_seconds=0
                )
            except client.ApiException as exc:
                if exc.status != 404:
                    raise


# No daemon is used: DOCKER_HOST points nowhere, so a local build could not run.
NO_DAEMON = {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}


def _env(build_testbed, cluster) -> dict[str, str]:
    return {**build_testbed.env, "KUBECONFIG": str(cluster.kubeconfig), **NO_DAEMON}


def pods_left(cluster, namespace: str) -> list[str]:
    from kubernetes import client

    pods = client.CoreV1Api(cluster.api_client).list_namespaced_pod(namespace).items
    return [p.metadata.name for p in pods if p.metadata.deletion_timestamp is None]


def built_image(build_testbed, cluster, path: Path) -> tuple[str, str]:
    result = cluster_build(build_testbed, cluster, path, extra_env=NO_DAEMON)
    assert result.returncode == 0, result.stderr[-6000:]
    data = json.loads(result.stdout)
    assert re.match(rf"^{re.escape(build_testbed.registry)}/{path.name}@sha256:[0-9a-f]{{64}}$", data["image"]), data  # fmt: skip
    assert data["strategy"] == "cluster"
    assert data["builder"] == f"{build_testbed.registry}/paas/dockerfile-builder:latest"
    return data["image"], result.stderr


def test_dockerfile_app_builds_in_the_cluster_serves_and_a_code_change_reuses_the_layers(
    build_testbed, cluster, dockerfile_app, run_image
) -> None:
    from kubernetes import client

    app = dockerfile_app()
    first, first_log = built_image(build_testbed, cluster, app)
    assert re.search(r"-----> Sending \d+ files \(\d+ KiB\) to pod `", first_log)
    assert (
        "STEP 1/9: FROM " + build_testbed.registry + "/paas-e2e/python-base:bookworm" in first_log
    )
    # kaniko joins the continuation line keeping its indent.
    assert INSTALL_STEP.replace("${INSTALL_SECONDS}", "2") in re.sub(" +", " ", first_log)
    assert "installing greeting-lib==1.0" in first_log
    assert "No cached layer found for cmd RUN" in first_log
    assert pods_left(cluster, f"{app.name}-build") == []
    # The pod ran in the build namespace, labelled "baseline"; the app's stays "restricted".
    core = client.CoreV1Api(cluster.api_client)
    build_ns = core.read_namespace(f"{app.name}-build").metadata.labels
    assert build_ns["pod-security.kubernetes.io/enforce"] == "baseline"
    assert registry_tags(build_testbed.registry, f"{app.name}/paas-dockerfile-cache")

    running = run_image(first, None, {})
    assert "Hello from dockerfile" in running.get("/")
    assert running.get("/healthz").strip() == "ok"

    server = app / "server.py"
    server.write_text(server.read_text().replace('"Hello"', '"Howdy"'))
    second, second_log = built_image(build_testbed, cluster, app)
    assert second != first
    # The dependency step came from the cache image: it did not run again.
    assert "Using caching version of cmd: RUN" in second_log
    assert "Found cached layer, extracting to filesystem" in second_log
    assert "installing greeting-lib" not in second_log
    assert "Howdy from dockerfile" in run_image(second, None, {}).get("/")
    assert pods_left(cluster, f"{app.name}-build") == []


def test_failing_run_in_the_cluster_names_the_step_and_leaves_no_pod(
    build_testbed, cluster, dockerfile_app
) -> None:
    app = dockerfile_app(run_step='RUN echo "checking the build" && exit 3')
    result = cluster_build(build_testbed, cluster, app, extra_env=NO_DAEMON)
    assert result.returncode == 7, result.stderr[-3000:]
    assert (
        f"error: The Dockerfile build of `{app.name}` failed at step 5/10: "
        'RUN echo "checking the build" && exit 3.'
    ) in result.stderr
    assert "hint: Fix `Dockerfile` there; the output above shows the error." in result.stderr
    assert "checking the build" in result.stderr
    assert pods_left(cluster, f"{app.name}-build") == []
    assert registry_tags(build_testbed.registry, app.name) == []


def test_ctrl_c_mid_dockerfile_build_deletes_the_pod_and_pushes_nothing(
    build_testbed, cluster, dockerfile_app
) -> None:
    app = dockerfile_app(install_seconds=120)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paas",
            "build",
            str(app),
            "--strategy",
            "cluster",
            "--settings",
            str(build_testbed.settings),
        ],
        env=_env(build_testbed, cluster),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        if "installing greeting-lib" in line:
            break
    assert any("installing greeting-lib" in line for line in seen), "".join(seen)
    assert pods_left(cluster, f"{app.name}-build"), "no build pod while the build runs"
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    output = "".join(seen) + rest
    assert proc.returncode == 130, output[-3000:]
    assert "interrupted" in output, output[-2000:]
    deadline = time.monotonic() + 30
    while pods_left(cluster, f"{app.name}-build") and time.monotonic() < deadline:
        time.sleep(0.5)
    assert pods_left(cluster, f"{app.name}-build") == []
    assert registry_tags(build_testbed.registry, app.name) == []


def _local_build(build_testbed, path: Path, env: dict[str, str]):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "paas",
            "build",
            str(path),
            "--strategy",
            "dockerfile",
            "--settings",
            str(build_testbed.settings),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_local_dockerfile_build_goes_through_the_daemon_api_and_falls_back_to_a_cli(
    build_testbed, base_image: str, tmp_path: Path, run_image
) -> None:
    """The same Dockerfile app built locally: through podman's API socket, then without it."""
    app = tmp_path / f"t-dockerfile-local-{uuid.uuid4().hex[:6]}"
    shutil.copytree(STARTER, app)
    (app / "paas.yaml").write_text(
        f"name: {app.name}\nbuild:\n  dockerfile: Dockerfile\n"
        f"  env: {{BASE_IMAGE: {PYTHON_BASE}}}\n"
    )
    # No podman, buildah or docker on the PATH: only the daemon's API can build it.
    no_tools = {**build_testbed.env, "PATH": str(Path(sys.executable).parent)}
    result = _local_build(build_testbed, app, no_tools)
    assert result.returncode == 0, result.stderr[-4000:]
    image = json.loads(result.stdout)["image"]
    assert image.startswith(f"{build_testbed.registry}/{app.name}@sha256:")
    assert "STEP 3/7: COPY server.py ./" in result.stderr
    assert f"Pushing {build_testbed.registry}/{app.name}:latest" in result.stderr
    assert "Hello from dockerfile" in run_image(image, None, {}).get("/")

    (app / "Dockerfile").write_text(
        f"FROM {PYTHON_BASE}\nRUN echo building && false\nCOPY server.py ./\n"
    )
    failed = _local_build(build_testbed, app, no_tools)
    assert failed.returncode == 7, failed.stderr[-3000:]
    assert (
        f"error: The Dockerfile build of `{app.name}` failed at step 2/3: "
        "RUN echo building && false." in failed.stderr
    )
    assert "Try it with `docker build -f Dockerfile .`" in failed.stderr
    # No daemon answers: podman's CLI builds it, daemonless, and names the step the same way.
    no_daemon = {**build_testbed.env, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    fallback = _local_build(build_testbed, app, no_daemon)
    assert fallback.returncode == 7, fallback.stderr[-3000:]
    assert (
        f"error: The Dockerfile build of `{app.name}` failed at step 2/3: "
        "RUN echo building && false." in fallback.stderr
    )
    assert "Try it with `podman build -f Dockerfile .`" in fallback.stderr


def test_a_namespace_that_is_not_the_apps_build_namespace_is_never_relaxed(
    build_testbed, cluster, dockerfile_app
) -> None:
    from kubernetes import client

    app = dockerfile_app()
    core = client.CoreV1Api(cluster.api_client)
    # Another app's namespace happens to have the build namespace's name.
    restricted = {"paas.dev/app": f"{app.name}-build", "pod-security.kubernetes.io/enforce": "restricted"}  # fmt: skip
    core.create_namespace(
        client.V1Namespace(
            metadata=client.V1ObjectMeta(name=f"{app.name}-build", labels=restricted)
        )
    )
    result = cluster_build(build_testbed, cluster, app, extra_env=NO_DAEMON)
    assert result.returncode == 7, result.stderr[-3000:]
    assert (
        f"error: The namespace `{app.name}-build` exists and is not the build namespace "
        f"of `{app.name}`." in result.stderr
    )
    labels = core.read_namespace(f"{app.name}-build").metadata.labels
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert pods_left(cluster, f"{app.name}-build") == []
