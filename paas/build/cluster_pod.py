"""The objects of a build in the cluster: the build Pod, its cache claim and its Secrets.

Pure: a `BuildPlan` and a `BuildPod` (the names of one build) in, Kubernetes
objects and the creator's arguments out. `paas.build.cluster` applies them and
runs the build; kaniko's Dockerfile build (`paas.build.dockerfile_cluster`)
shares `pod_object()`, `auth_secret()` and `env_secret()`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paas.build.buildenv import is_env_name
from paas.build.plan import BuildPlan
from paas.errors import BuildError

if TYPE_CHECKING:
    from paas.objects import Obj

#: The platform API the pod speaks to the builder's lifecycle (v0.20 knows 0.7 to 0.14).
PLATFORM_API = "0.13"
#: The CNB user of the paas builder's images.
CNB_UID = 1000
BUILD_CONTAINER = "build"
#: A build pod still there after this long is stopped by the kubelet.
BUILD_DEADLINE = 3600
#: How long the pod waits for the source, and the CLI for the pod to start.
SOURCE_WAIT = 300
CACHE_CLAIM = "paas-build-cache"
CACHE_TAG = "paas-build-cache"
CACHE_SIZE = "5Gi"
READY_MARK = "/tmp/paas-source-received"  # noqa: S108 - inside the pod's own /tmp
AUTH_MOUNT = "/paas/registry-auth"
#: Where the build's env Secret is mounted: one file per variable.
ENV_MOUNT = "/paas/build-env"


@dataclass(frozen=True)
class BuildPod:
    """Where and how one cluster build runs.

    Attributes:
        namespace: The app's namespace.
        name: The pod's name, ``APP-build-ID``.
        build_id: A short random id; the pod's process label is ``build.ID``.
        builder: The builder image by digest.
        cache_claim: The PersistentVolumeClaim holding the cache, or None.
        cache_image: Without a claim, keep the cache as an image in the app's
            repository; False builds without a cache.
        auth_secret: A ``kubernetes.io/dockerconfigjson`` Secret with registry
            credentials (pull the builder, publish the image), or None.
        run_image: The run image to name to the creator, or None for the builder's own choice.
        env_secret: The Secret that holds the build environment (one key per
            variable), or None when there is none.
    """

    namespace: str
    name: str
    build_id: str
    builder: str
    cache_claim: str | None = None
    cache_image: bool = True
    auth_secret: str | None = None
    run_image: str | None = None
    env_secret: str | None = None


def cache_image(plan: BuildPlan) -> str:
    """The cache image of an app without a cache volume: a tag of its own repository."""
    return f"{plan.repository}:{CACHE_TAG}"


def creator_arguments(plan: BuildPlan, pod: BuildPod, *, clear_cache: bool = False) -> list[str]:
    """The ``/cnb/lifecycle/creator`` command line that carries out `plan`."""
    args = [
        "/cnb/lifecycle/creator",
        "-app",
        "/workspace",
        "-layers",
        "/layers",
        "-platform",
        "/platform",
        "-previous-image",
        plan.previous_image,
        "-log-level",
        "info",
        # Lines go through the console, which colours them itself.
        "-no-color",
    ]
    if pod.run_image:
        args += ["-run-image", pod.run_image]
    if pod.cache_claim:
        args += ["-cache-dir", "/cache"]
    elif pod.cache_image:
        args += ["-cache-image", cache_image(plan)]
    if clear_cache:
        args.append("-skip-restore")
    for tag in plan.image_tags[1:]:
        args += ["-tag", tag]
    if plan.insecure_registry:
        args += ["-insecure-registry", plan.registry]
    args.append(plan.image)
    return args


def pod_labels(plan: BuildPlan, build_id: str) -> dict[str, str]:
    """The labels of a build pod (and its Secret) of `plan`."""
    from paas.render import labels

    # `build.ID`: the dot keeps the pod out of every process's selector.
    return labels(plan.app, f"build.{build_id}")


def _security() -> Obj:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def pod_object(plan: BuildPlan, pod: BuildPod, spec: Obj) -> Obj:
    """The build Pod with `spec`; with the registry credentials Secret as DOCKER_CONFIG.

    `spec` has one container, whose `env` and `volumeMounts` and the pod's
    `volumes` are lists this adds the Secret's mount to.
    """
    if pod.auth_secret:
        container = spec["containers"][0]
        spec["volumes"].append(
            {
                "name": "registry-auth",
                "secret": {
                    "secretName": pod.auth_secret,
                    "items": [{"key": ".dockerconfigjson", "path": "config.json"}],
                },
            }
        )
        container["volumeMounts"].append(
            {"name": "registry-auth", "mountPath": AUTH_MOUNT, "readOnly": True}
        )
        container["env"].append({"name": "DOCKER_CONFIG", "value": AUTH_MOUNT})
        spec["imagePullSecrets"] = [{"name": pod.auth_secret}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod.name,
            "namespace": pod.namespace,
            "labels": pod_labels(plan, pod.build_id),
        },
        "spec": spec,
    }


def build_pod(plan: BuildPlan, pod: BuildPod, *, clear_cache: bool = False) -> Obj:
    """The Pod that builds `plan` in the cluster.

    Its one container waits (up to `SOURCE_WAIT`) for the CLI to send the
    source, copies the build environment from the mounted env Secret to
    ``/platform/env``, then becomes the creator.
    """
    waited = int(SOURCE_WAIT * 10)
    wait_then_create = (
        f"i=0; while [ ! -e {READY_MARK} ]; do i=$((i+1)); "
        f'if [ "$i" -gt {waited} ]; then echo "no source arrived in {SOURCE_WAIT}s" >&2; '
        "exit 1; fi; sleep 0.1; done; mkdir -p /platform/env || exit 1; "
        # The Secret's files are links into a hidden `..data`, which `*` skips.
        f'for f in {ENV_MOUNT}/*; do if [ -f "$f" ]; then '
        'cp "$f" /platform/env/ || exit 1; fi; done; exec "$@"'
    )
    mounts: list[Obj] = [
        {"name": "workspace", "mountPath": "/workspace"},
        {"name": "platform", "mountPath": "/platform"},
        {"name": "layers", "mountPath": "/layers"},
    ]
    volumes: list[Obj] = [
        {"name": "workspace", "emptyDir": {}},
        {"name": "platform", "emptyDir": {}},
        {"name": "layers", "emptyDir": {}},
    ]
    env = [{"name": "CNB_PLATFORM_API", "value": PLATFORM_API}]
    if pod.cache_claim:
        volumes.append({"name": "cache", "persistentVolumeClaim": {"claimName": pod.cache_claim}})
        mounts.append({"name": "cache", "mountPath": "/cache"})
    if pod.env_secret:
        volumes.append(
            # Readable by the CNB group (fsGroup) only.
            {"name": "build-env", "secret": {"secretName": pod.env_secret, "defaultMode": 0o440}}
        )
        mounts.append({"name": "build-env", "mountPath": ENV_MOUNT, "readOnly": True})
    spec: Obj = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "activeDeadlineSeconds": BUILD_DEADLINE,
        "terminationGracePeriodSeconds": 5,
        "securityContext": {
            "runAsUser": CNB_UID,
            "runAsGroup": CNB_UID,
            "fsGroup": CNB_UID,
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": BUILD_CONTAINER,
                "image": pod.builder,
                "imagePullPolicy": "IfNotPresent",
                "command": [
                    "sh",
                    "-c",
                    wait_then_create,
                    "sh",
                    *creator_arguments(plan, pod, clear_cache=clear_cache),
                ],
                "env": env,
                "volumeMounts": mounts,
                "securityContext": _security(),
                "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}},
            }
        ],
        "volumes": volumes,
    }
    return pod_object(plan, pod, spec)


def cache_claim(plan: BuildPlan) -> Obj:
    """The app's build cache volume (the cluster's default StorageClass provides it)."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": CACHE_CLAIM,
            "namespace": plan.namespace,
            "labels": pod_labels(plan, "cache"),
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": CACHE_SIZE}},
        },
    }


def auth_secret(plan: BuildPlan, pod: BuildPod, user: str, password: str) -> Obj:
    """The registry credentials of one build, as a Docker config Secret."""
    from paas.build.credentials import config_with_credentials

    auths = config_with_credentials({}, plan.registry, user, password)["auths"]
    config = json.dumps({"auths": auths})
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": {
            "name": pod.auth_secret,
            "namespace": pod.namespace,
            "labels": pod_labels(plan, pod.build_id),
        },
        "stringData": {".dockerconfigjson": config},
    }


def env_secret(plan: BuildPlan, pod: BuildPod, env: Mapping[str, str]) -> Obj:
    """The build environment of one build as a Secret: one key per variable.

    Raises:
        BuildError: a name is no environment variable name (a Secret key and
            a file in ``/platform/env`` must be one).
    """
    bad = next((name for name in sorted(env) if not is_env_name(name)), None)
    if bad is not None:
        raise BuildError(
            f"Build variable `{bad}` cannot be passed to a build in the cluster: it is not "
            "an environment variable name, and the build reads each variable from a file "
            "named after it.",
            "Mirror credentials of `npm` need the `local` strategy (`--strategy local`); "
            "otherwise rename the variable.",
        )
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": pod.env_secret,
            "namespace": pod.namespace,
            "labels": pod_labels(plan, pod.build_id),
        },
        "data": {
            name: base64.b64encode(value.encode()).decode() for name, value in sorted(env.items())
        },
    }


def receive_script(size: int) -> str:
    """The shell the source container runs to take the archive from stdin."""
    lines = ["set -e"]
    lines.append(f"head -c {size} | tar -xzf - -C /workspace --no-same-owner")
    lines.append(f"touch {READY_MARK}")
    return "\n".join(lines)
