"""End to end: `paas build --strategy cluster` builds in a pod of the testbed, no local daemon.

Each test copies an app under a fresh name, builds it with the builder in
the registry through a pod in the app's namespace (source sent over exec,
cache on the app's volume), and runs the image by digest with podman the way
a paas pod runs it. The namespace is deleted afterwards.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from e2e_apps import full_build_log

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]

REPO = Path(__file__).resolve().parents[3]
TEMPLATES = REPO / "templates"
DIGEST_REF = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")


@pytest.fixture
def cluster_app(cluster, app_copy) -> Iterator[Callable[..., Path]]:
    """Copy an app (see `app_copy`) and delete its namespace after the test."""

    names: list[str] = []

    def copy(source: Path) -> Path:
        path = app_copy(source)
        names.append(path.name)
        return path

    yield copy
    delete_namespaces(cluster, *names)


def delete_namespaces(cluster, *names: str) -> None:
    """Delete these namespaces (in the background); one already gone is fine."""
    from kubernetes import client

    core = client.CoreV1Api(cluster.api_client)
    for name in names:
        try:
            core.delete_namespace(name, propagation_policy="Background", grace_period_seconds=0)
        except client.ApiException as exc:
            if exc.status != 404:
                raise


def cluster_build(
    build_testbed, cluster, path: Path, *args: str, extra_env: dict[str, str] | None = None
):
    env = {**build_testbed.env, "KUBECONFIG": str(cluster.kubeconfig), **(extra_env or {})}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "paas",
            "build",
            str(path),
            "--strategy",
            "cluster",
            "--settings",
            str(build_testbed.settings),
            "--json",
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )


def built_image(build_testbed, cluster, path: Path, *args: str) -> tuple[str, str]:
    result = cluster_build(build_testbed, cluster, path, *args)
    assert result.returncode == 0, result.stderr[-6000:]
    data = json.loads(result.stdout)
    assert DIGEST_REF.match(data["image"]), data
    assert data["image"].startswith(f"{build_testbed.registry}/{path.name}@sha256:")
    assert data["strategy"] == "cluster"
    return data["image"], result.stderr


def pods_left(cluster, namespace: str) -> list[str]:
    from kubernetes import client

    pods = client.CoreV1Api(cluster.api_client).list_namespaced_pod(namespace).items
    return [p.metadata.name for p in pods if p.metadata.deletion_timestamp is None]


def registry_tags(registry: str, repository: str) -> list[str]:
    try:
        with urllib.request.urlopen(f"http://{registry}/v2/{repository}/tags/list") as response:
            return list(json.loads(response.read()).get("tags") or [])
    except OSError:
        return []


@pytest.mark.parametrize(
    ("template", "command"),
    [
        (
            "python-flask",
            "gunicorn app:app --bind 0.0.0.0:${PORT:-5000} --workers 2 --access-logfile -",
        ),
        ("node-express", "node index.js"),
        ("go-http", "go-http"),
        ("static-site", "paas-static-server"),
        (
            "web-worker",
            "gunicorn app:app --bind 0.0.0.0:${PORT:-5000} --workers 2 --access-logfile -",
        ),
    ],
)
def test_starter_builds_in_the_cluster_and_serves(
    template: str,
    command: str,
    build_testbed,
    builder,
    cluster,
    cluster_app,
    run_image,
) -> None:
    app = cluster_app(TEMPLATES / template)
    image, log = built_image(build_testbed, cluster, app)
    assert re.search(r"-----> Sending \d+ files \(\d+ KiB\) to pod `", log)
    assert "===> EXPORTING" in full_build_log(app)
    assert "===> EXPORTING" not in log
    running = run_image(image, command, {"PAAS_RELEASE": "v3", "GREETING": "Hi"})
    body = running.get("/")
    assert "release=v3" in body
    assert "greeting=Hi" in body
    assert running.get("/healthz").strip() == "ok"
    assert pods_left(cluster, app.name) == []


def test_code_only_change_in_the_cluster_reuses_the_cached_dependencies(
    build_testbed, builder, cluster, cluster_app, run_image
) -> None:
    app = cluster_app(TEMPLATES / "python-flask")
    first, first_log = built_image(build_testbed, cluster, app)
    assert "reusing the cached dependencies" not in first_log
    page = app / "app.py"
    page.write_text(page.read_text().replace('id="greeting">greeting=', 'id="greeting">greeting2='))
    second, second_log = built_image(build_testbed, cluster, app)
    assert second != first
    # The cache volume kept the virtualenv; nothing was installed again.
    assert "reusing the cached dependencies: requirements.txt did not change" in second_log
    assert "Installing collected packages" not in second_log
    assert "Reusing layer 'paas/python:venv'" in full_build_log(app)
    assert "greeting2=" in run_image(second, None, {}).get("/")


def test_failing_dependency_install_in_the_cluster_names_the_step_and_leaves_no_pod(
    build_testbed, builder, cluster, cluster_app
) -> None:
    app = cluster_app(TEMPLATES / "python-flask")
    (app / "requirements.txt").write_text("flask==3.1.3\nno-such-package-paas-e2e==9.9.9\n")
    result = cluster_build(build_testbed, cluster, app)
    assert result.returncode == 7, result.stderr[-3000:]
    assert "failed in step `pip install`" in result.stderr
    assert "no-such-package-paas-e2e" in result.stderr
    assert "hint: fix the dependency list" in result.stderr
    assert pods_left(cluster, app.name) == []
    assert registry_tags(build_testbed.registry, app.name) == []


def test_missing_builder_is_a_clear_error(build_testbed, cluster, cluster_app) -> None:
    app = cluster_app(TEMPLATES / "go-http")
    result = cluster_build(build_testbed, cluster, app, "--builder", "paas/no-such-builder")
    assert result.returncode == 7, result.stderr
    assert (
        f"error: The builder `{build_testbed.registry}/paas/no-such-builder:latest` "
        "is not in the registry." in result.stderr
    )
    assert "hint: Create it with `paas builder create`" in result.stderr


def test_ctrl_c_mid_build_deletes_the_pod_and_pushes_nothing(
    build_testbed, builder, cluster, cluster_app
) -> None:
    app = cluster_app(TEMPLATES / "python-flask")
    env = {**build_testbed.env, "KUBECONFIG": str(cluster.kubeconfig)}
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
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    seen: list[str] = []
    for line in proc.stdout:
        seen.append(line)
        if line.startswith("-----> Python"):  # the creator is building
            break
    assert any(line.startswith("-----> Python") for line in seen), "".join(seen)
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    output = "".join(seen) + rest
    assert proc.returncode == 130, output[-3000:]
    assert "interrupted" in output, output[-2000:]
    deadline = time.monotonic() + 30
    while pods_left(cluster, app.name) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert pods_left(cluster, app.name) == []
    assert registry_tags(build_testbed.registry, app.name) == []
