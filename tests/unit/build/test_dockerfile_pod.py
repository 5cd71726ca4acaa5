"""The pure parts of a Dockerfile build in the cluster: the plan, the kaniko pod, its log."""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

import pytest
from kubernetes_validate import validate

from paas.build.cluster_pod import READY_MARK, BuildPod, build_pod
from paas.build.dockerfile_cluster import (
    KANIKO_CAPABILITIES,
    KanikoProgress,
    build_namespace,
    build_namespace_object,
    cache_repository,
    dockerfile_build_pod,
    dockerfile_steps,
    executor_arguments,
    explain_dockerfile_failure,
)
from paas.build.plan import plan_build
from paas.errors import BuildError
from paas.manifest import read_app
from paas.settings import ClusterSettings

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "templates"
BUILDER = "reg:5000/paas/dockerfile-builder@sha256:" + "b" * 64
#: The capabilities Pod Security "baseline" lets a container add (the runtime's defaults).
BASELINE_CAPABILITIES = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}


def plan_for(template: str = "dockerfile", *, strategy: str = "cluster", **settings: object):
    app, detection = read_app(TEMPLATES / template)
    return plan_build(
        app,
        detection,
        ClusterSettings(registry="reg:5000", **settings),  # type: ignore[arg-type]
        strategy=strategy,
        extra_env={"BASE_IMAGE": "reg:5000/base:1"},
    ).with_tag("t1")


def pod_for(**fields: object) -> BuildPod:
    values: dict[str, object] = {
        "namespace": "dockerfile-build",
        "name": "dockerfile-build-abc123",
        "build_id": "abc123",
        "builder": BUILDER,
        "env_secret": "dockerfile-build-abc123-env",
    }
    values.update(fields)
    return BuildPod(**values)  # type: ignore[arg-type]


def test_a_dockerfile_app_plans_a_cluster_build_with_the_dockerfile_builder() -> None:
    plan = plan_for()
    assert plan.strategy == "cluster"
    assert plan.builds_dockerfile
    assert plan.dockerfile == "Dockerfile"
    assert plan.builder == "reg:5000/paas/dockerfile-builder:latest"
    # Build args only: no buildpack variable, no mirror.
    assert plan.env == {"BASE_IMAGE": "reg:5000/base:1"}
    other = plan_for(dockerfile_builder="registry.example.com/tools/kaniko:v1.24.0")
    assert other.builder == "registry.example.com/tools/kaniko:v1.24.0"


def test_a_buildpacks_app_still_plans_the_cnb_builder_for_the_cluster() -> None:
    plan = plan_for("go-http")
    assert not plan.builds_dockerfile
    assert plan.builder == "reg:5000/paas/builder:latest"


def test_a_dockerfile_app_with_buildpacks_is_still_refused_and_the_hint_names_cluster() -> None:
    with pytest.raises(BuildError) as caught:
        plan_for(strategy="local")
    assert caught.value.message == (
        "App `dockerfile` builds from `Dockerfile`, which buildpacks do not use."
    )
    assert "`--strategy cluster`" in caught.value.hint


def test_executor_publishes_every_tag_and_caches_layers_in_the_app_repository() -> None:
    plan = plan_for()
    args = executor_arguments(plan)
    assert args[:5] == [
        "/kaniko/executor",
        "--context",
        "dir:///workspace",
        "--dockerfile",
        "/workspace/Dockerfile",
    ]
    pairs = list(itertools.pairwise(args))
    assert ("--destination", "reg:5000/dockerfile:t1") in pairs
    assert ("--destination", "reg:5000/dockerfile:latest") in pairs
    assert ("--log-format", "json") in pairs
    assert "--cache=true" in args
    assert ("--cache-repo", "reg:5000/dockerfile/paas-dockerfile-cache") in pairs
    assert cache_repository(plan) == "reg:5000/dockerfile/paas-dockerfile-cache"
    # Plain HTTP only when the settings say so; build args by name, their values never
    # on the command line.
    assert "--insecure-registry" not in args
    assert ("--build-arg", "BASE_IMAGE") in pairs
    assert not any("reg:5000/base:1" in a for a in args)


def test_executor_uses_plain_http_only_for_an_insecure_registry_and_skips_the_cache_on_clear() -> (
    None
):
    args = executor_arguments(plan_for(insecure_registry=True), clear_cache=True)
    pairs = list(itertools.pairwise(args))
    assert ("--insecure-registry", "reg:5000") in pairs
    assert "--cache=false" in args
    assert "--cache-repo" not in args


def test_build_namespace_is_the_app_namespace_plus_build_and_enforces_baseline() -> None:
    plan = plan_for(namespace_prefix="apps-")
    assert build_namespace(plan.namespace) == "apps-dockerfile-build"
    ns = build_namespace_object(plan)
    validate(ns, "1.33.0", strict=True)
    labels = ns["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["paas.dev/build-for"] == "dockerfile"
    # Not an app: `paas apps` selects namespaces by `paas.dev/app`.
    assert "paas.dev/app" not in labels
    assert len(build_namespace("a" * 63)) == 63


def test_kaniko_pod_is_baseline_never_privileged_and_valid() -> None:
    plan = plan_for()
    pod = dockerfile_build_pod(plan, pod_for())
    validate(pod, "1.33.0", strict=True)
    spec = pod["spec"]
    assert pod["metadata"]["namespace"] == "dockerfile-build"
    assert spec["restartPolicy"] == "Never"
    assert spec["automountServiceAccountToken"] is False
    assert spec["activeDeadlineSeconds"] == 3600
    assert spec["securityContext"]["runAsUser"] == 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for forbidden in ("hostNetwork", "hostPID", "hostIPC", "initContainers"):
        assert forbidden not in spec
    assert all("hostPath" not in v for v in spec["volumes"])
    (container,) = spec["containers"]
    assert container["image"] == BUILDER
    context = container["securityContext"]
    assert context["privileged"] is False
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    added = set(context["capabilities"]["add"])
    assert added == set(KANIKO_CAPABILITIES)
    assert added <= BASELINE_CAPABILITIES
    assert "NET_RAW" not in added
    assert "SYS_ADMIN" not in added
    command = container["command"]
    assert command[:2] == ["/kaniko/bin/sh", "-c"]
    assert READY_MARK in command[2]
    assert command[4:] == executor_arguments(plan)
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/workspace"}
    labels = pod["metadata"]["labels"]
    assert labels["paas.dev/app"] == "dockerfile"
    assert labels["paas.dev/process"] == "build.abc123"


def test_the_cnb_pod_stays_restricted() -> None:
    spec = build_pod(plan_for("go-http"), pod_for())["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["containers"][0]["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_kaniko_pod_with_credentials_pulls_and_pushes_with_the_secret() -> None:
    pod = pod_for(auth_secret="dockerfile-build-abc123-auth")
    spec = dockerfile_build_pod(plan_for(), pod)["spec"]
    assert spec["imagePullSecrets"] == [{"name": "dockerfile-build-abc123-auth"}]
    env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
    assert env == {"BASE_IMAGE": None, "DOCKER_CONFIG": "/paas/registry-auth"}
    mounts = {m["mountPath"]: m for m in spec["containers"][0]["volumeMounts"]}
    assert mounts["/paas/registry-auth"]["readOnly"] is True


def test_kaniko_pod_waits_for_the_source_then_runs_kaniko_with_build_args_by_name(
    tmp_path: Path,
) -> None:
    (container,) = dockerfile_build_pod(plan_for(), pod_for())["spec"]["containers"]
    # The value comes from the build's env Secret, through kaniko's environment.
    assert container["env"] == [
        {
            "name": "BASE_IMAGE",
            "valueFrom": {
                "secretKeyRef": {"name": "dockerfile-build-abc123-env", "key": "BASE_IMAGE"}
            },
        }
    ]
    script = container["command"][2].replace(READY_MARK, str(tmp_path / "mark"))
    (tmp_path / "mark").write_text("")
    printer = "import json, sys; print(json.dumps(sys.argv[1:]))"
    done = subprocess.run(
        ["sh", "-c", script, "sh", "python3", "-c", printer, "--build-arg", "BASE_IMAGE"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert json.loads(done.stdout) == ["--build-arg", "BASE_IMAGE"]


DOCKERFILE = """\
# syntax comment
ARG BASE_IMAGE=docker.io/library/python:3.12-slim
FROM ${BASE_IMAGE}

WORKDIR /app
COPY requirements.txt ./
RUN python3 -c "print('deps')" \\
    && echo installed > /app/deps.txt
COPY server.py ./
USER 1000
CMD ["python3", "server.py"]
"""


def test_dockerfile_steps_count_from_the_first_from_and_join_continuations() -> None:
    assert dockerfile_steps(DOCKERFILE) == [
        "FROM ${BASE_IMAGE}",
        "WORKDIR /app",
        "COPY requirements.txt ./",
        "RUN python3 -c \"print('deps')\" && echo installed > /app/deps.txt",
        "COPY server.py ./",
        "USER 1000",
        'CMD ["python3", "server.py"]',
    ]


def _log(msg: str, level: str = "info") -> str:
    return json.dumps({"level": level, "msg": msg, "time": "2026-12-02T01:00:00Z"})


def test_kaniko_log_becomes_numbered_steps_and_the_pushed_digest() -> None:
    progress = KanikoProgress(dockerfile_steps(DOCKERFILE), "reg:5000/dockerfile")
    digest = "sha256:" + "c" * 64
    cache_digest = "sha256:" + "d" * 64
    shown = [
        progress.read(line)
        for line in [
            _log("Retrieving image manifest reg:5000/base:1"),
            _log("Building stage 'reg:5000/base:1' [idx: '0', base-idx: '-1']"),
            _log("WORKDIR /app"),
            _log("COPY requirements.txt ./"),
            _log("Using caching version of cmd: RUN python3 -c \"print('deps')\""),
            _log("RUN python3 -c \"print('deps')\" && echo installed > /app/deps.txt"),
            "deps",
            _log("Unpacking rootfs as cmd COPY server.py ./ requires it.", "warning"),
            _log("COPY server.py ./"),
            _log(f"Pushed reg:5000/dockerfile/paas-dockerfile-cache@{cache_digest}"),
            _log(f"Pushed reg:5000/dockerfile@{digest}"),
        ]
    ]
    assert shown == [
        "Retrieving image manifest reg:5000/base:1",
        "STEP 1/7: FROM reg:5000/base:1",
        "STEP 2/7: WORKDIR /app",
        "STEP 3/7: COPY requirements.txt ./",
        "Using caching version of cmd: RUN python3 -c \"print('deps')\"",
        "STEP 4/7: RUN python3 -c \"print('deps')\" && echo installed > /app/deps.txt",
        "deps",
        "warning: Unpacking rootfs as cmd COPY server.py ./ requires it.",
        "STEP 5/7: COPY server.py ./",
        f"Pushed reg:5000/dockerfile/paas-dockerfile-cache@{cache_digest}",
        f"Pushed reg:5000/dockerfile@{digest}",
    ]
    assert progress.digest == digest


def test_a_failing_run_is_named_like_the_local_dockerfile_strategy() -> None:
    steps = dockerfile_steps("FROM base\nWORKDIR /app\nRUN false\nCOPY . .\n")
    progress = KanikoProgress(steps, "reg:5000/dockerfile")
    for line in [
        _log("WORKDIR /app"),
        _log("RUN false"),
        "error building image: error building stage: failed to execute command: "
        "waiting for process to exit: exit status 1",
    ]:
        progress.read(line)
    error = explain_dockerfile_failure(plan_for(), progress, 1)
    assert error.message == "The Dockerfile build of `dockerfile` failed at step 3/4: RUN false."
    assert error.hint == "Fix `Dockerfile` there; the output above shows the error."


def test_a_failure_before_any_step_says_what_kaniko_said() -> None:
    progress = KanikoProgress(
        dockerfile_steps("FROM reg:5000/missing:1\nRUN true\n"), "reg:5000/dockerfile"
    )
    progress.read(
        "error building image: unable to complete operation after 0 attempts, last error: "
        "GET http://reg:5000/v2/missing/manifests/1: MANIFEST_UNKNOWN"
    )
    error = explain_dockerfile_failure(plan_for(), progress, 1)
    assert error.message.startswith(
        "The Dockerfile build of `dockerfile` failed: error building image: unable to complete"
    )
    assert "`FROM` images must be in a registry the cluster reaches" in error.hint
