"""The pure parts of the `cluster` strategy: the build pod, the creator's arguments, the source."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

from kubernetes_validate import validate

from paas.build.cluster import source_archive
from paas.build.cluster_pod import (
    READY_MARK,
    BuildPod,
    auth_secret,
    build_pod,
    cache_claim,
    creator_arguments,
    receive_script,
)
from paas.build.cnb import explain_failure
from paas.build.plan import plan_build
from paas.build.source import IgnoreRules
from paas.manifest import read_app
from paas.settings import ClusterSettings

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "templates"
BUILDER = "reg:5000/paas/builder@sha256:" + "a" * 64


def plan_for(template: str, **settings: object):
    path = TEMPLATES / template
    app, detection = read_app(path)
    return plan_build(
        app, detection, ClusterSettings(registry="reg:5000", **settings), strategy="cluster"
    ).with_tag("t1")


def pod_for(**fields: object) -> BuildPod:
    values: dict[str, object] = {
        "namespace": "go-http",
        "name": "go-http-build-abc123",
        "build_id": "abc123",
        "builder": BUILDER,
    }
    values.update(fields)
    return BuildPod(**values)  # type: ignore[arg-type]


def test_the_plan_names_the_app_namespace_with_the_cluster_prefix() -> None:
    assert plan_for("go-http").namespace == "go-http"
    assert plan_for("go-http", namespace_prefix="apps-").namespace == "apps-go-http"


def test_creator_publishes_the_tags_and_reuses_the_previous_image() -> None:
    args = creator_arguments(plan_for("go-http"), pod_for(cache_claim="paas-build-cache"))
    assert args[0] == "/cnb/lifecycle/creator"
    assert args[-1] == "reg:5000/go-http:t1"
    assert "-no-color" in args
    pairs = {flag: args[i + 1] for i, flag in enumerate(args[:-1]) if flag.startswith("-")}
    assert pairs["-app"] == "/workspace"
    assert pairs["-layers"] == "/layers"
    assert pairs["-platform"] == "/platform"
    assert pairs["-previous-image"] == "reg:5000/go-http:latest"
    assert pairs["-tag"] == "reg:5000/go-http:latest"
    assert pairs["-cache-dir"] == "/cache"
    assert "-cache-image" not in args
    assert "-insecure-registry" not in args
    assert "-skip-restore" not in args
    assert "-run-image" not in args


def test_creator_without_a_cache_volume_uses_a_cache_image_in_the_app_repository() -> None:
    args = creator_arguments(plan_for("go-http"), pod_for(), clear_cache=True)
    assert args[args.index("-cache-image") + 1] == "reg:5000/go-http:paas-build-cache"
    assert "-skip-restore" in args


def test_creator_without_volume_or_cache_image_builds_without_a_cache() -> None:
    args = creator_arguments(plan_for("go-http"), pod_for(cache_image=False))
    assert "-cache-image" not in args
    assert "-cache-dir" not in args


def test_creator_names_insecure_registry_and_run_image_when_asked() -> None:
    plan = plan_for("go-http", insecure_registry=True)
    args = creator_arguments(plan, pod_for(run_image="reg:5000/paas/run:bookworm"))
    assert args[args.index("-insecure-registry") + 1] == "reg:5000"
    assert args[args.index("-run-image") + 1] == "reg:5000/paas/run:bookworm"


def test_build_pod_is_restricted_unprivileged_and_valid() -> None:
    plan = plan_for("python-flask")
    pod = build_pod(plan, pod_for(namespace="python-flask", cache_claim="paas-build-cache"))
    validate(pod, "1.33.0", strict=True)
    spec = pod["spec"]
    assert spec["restartPolicy"] == "Never"
    assert spec["automountServiceAccountToken"] is False
    assert spec["activeDeadlineSeconds"] == 3600
    assert spec["securityContext"]["runAsUser"] == 1000
    assert spec["securityContext"]["runAsNonRoot"] is True
    (container,) = spec["containers"]
    assert container["image"] == BUILDER
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert "initContainers" not in spec
    command = container["command"]
    assert command[:2] == ["sh", "-c"]
    assert READY_MARK in command[2]
    assert 'exec "$@"' in command[2]
    assert command[4:] == creator_arguments(plan, pod_for(cache_claim="paas-build-cache"))
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["cache"]["persistentVolumeClaim"] == {"claimName": "paas-build-cache"}
    assert {m["mountPath"] for m in container["volumeMounts"]} == {
        "/workspace",
        "/layers",
        "/platform",
        "/cache",
    }
    labels = pod["metadata"]["labels"]
    assert labels["paas.dev/app"] == "python-flask"
    # `build.ID` is no process's selector value, so no ReplicaSet adopts the pod.
    assert labels["paas.dev/process"] == "build.abc123"


def test_build_pod_waits_for_the_source_then_becomes_the_creator(tmp_path: Path) -> None:
    command = build_pod(plan_for("go-http"), pod_for())["spec"]["containers"][0]["command"]
    script = command[2].replace(READY_MARK, str(tmp_path / "mark"))
    (tmp_path / "mark").write_text("")
    done = subprocess.run(
        ["sh", "-c", script, "sh", "echo", "creator", "ran"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == "creator ran\n"


def test_registry_credentials_go_in_a_docker_config_secret_used_for_pull_and_push() -> None:
    plan = plan_for("go-http")
    pod = pod_for(auth_secret="go-http-build-abc123-auth")
    secret = auth_secret(plan, pod, "ci", "s3cret")
    validate(secret, "1.33.0", strict=True)
    config = json.loads(secret["stringData"][".dockerconfigjson"])
    assert config == {"auths": {"reg:5000": {"auth": "Y2k6czNjcmV0"}}}
    spec = build_pod(plan, pod)["spec"]
    assert spec["imagePullSecrets"] == [{"name": "go-http-build-abc123-auth"}]
    env = {e["name"]: e["value"] for e in spec["containers"][0]["env"]}
    assert env["DOCKER_CONFIG"] == "/paas/registry-auth"


def test_cache_claim_is_a_valid_claim_in_the_app_namespace() -> None:
    claim = cache_claim(plan_for("go-http"))
    validate(claim, "1.33.0", strict=True)
    assert claim["metadata"] == {
        "name": "paas-build-cache",
        "namespace": "go-http",
        "labels": claim["metadata"]["labels"],
    }


def test_source_archive_and_receive_script_unpack_the_app(tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / "static").mkdir(parents=True)
    (app / "static" / "site.css").write_text("body{}\n")
    (app / "run.sh").write_text("#!/bin/sh\n")
    (app / "run.sh").chmod(0o755)
    (app / "debug.log").write_text("noise\n")
    archive = io.BytesIO()
    count = source_archive(app, IgnoreRules.parse("*.log\n"), archive)
    assert count == 2
    data = archive.getvalue()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["run.sh", "static/site.css"]
    # Run the script as the pod does, with its fixed paths moved under tmp_path.
    script = receive_script(len(data))
    for fixed in ("/workspace", READY_MARK):
        script = script.replace(fixed, str(tmp_path / fixed.strip("/").replace("/", "-")))
    (tmp_path / "workspace").mkdir()
    subprocess.run(["sh", "-c", script], input=data + b"trailing bytes", check=True)
    assert (tmp_path / "workspace" / "static" / "site.css").read_text() == "body{}\n"
    assert (tmp_path / "workspace" / "run.sh").stat().st_mode & 0o111
    assert not (tmp_path / "workspace" / "debug.log").exists()
    assert (tmp_path / READY_MARK.strip("/").replace("/", "-")).exists()


def test_creator_failure_in_a_buildpack_step_names_the_step() -> None:
    error = explain_failure(
        plan_for("python-flask"),
        [
            "-----> Dependencies with pip (requirements.txt)",
            " !     error in step `pip install`: pip could not install the dependencies",
            " !     hint: fix the dependency list",
            "ERROR: failed to build: exit status 1",
        ],
        51,
        tool="the lifecycle's creator",
    )
    assert error.message.endswith(
        "failed in step `pip install`: pip could not install the dependencies"
    )
    assert error.hint == "fix the dependency list"


def test_creator_failure_reaching_the_registry_says_so() -> None:
    error = explain_failure(
        plan_for("go-http"),
        ["ERROR: failed to export: dial tcp 10.0.0.1:5000: connect: connection refused"],
        62,
        tool="the lifecycle's creator",
    )
    assert error.message == "the lifecycle's creator could not reach the registry `reg:5000`."
