"""The `cluster` strategy for a Dockerfile app: kaniko's executor in a Pod, no local daemon.

Why kaniko: Pod Security "restricted" forbids root, and the RuntimeDefault
seccomp profile (containerd's) refuses ``unshare(CLONE_NEWUSER)``, so
rootless buildah and rootless BuildKit, which both need a user namespace
(and BuildKit's runc also mounts), cannot run there. kaniko needs neither: it
unpacks each stage's base image over its own container's root and runs the
``RUN`` commands in it directly, which takes root in the container and the
ordinary file capabilities (chown, override file modes, set uids), nothing
more. So the build pod runs as uid 0 with Pod Security "baseline": every
capability dropped but those (`KANIKO_CAPABILITIES`, all in the container
runtime's default set), no privilege escalation, seccomp RuntimeDefault, no
service account token, no host path. An app's own namespace stays
"restricted": the pod runs in a namespace of its own, ``NAMESPACE-build``
(`build_namespace()`), labelled for "baseline", which holds only builds.

The rest is the CNB cluster build's (`paas.build.cluster`): the source as a
gzipped tar over the exec API, the build env in a Secret of the build (kaniko
gets ``--build-arg NAME`` and takes the value from its environment, which
reads the Secret: no value is in the pod spec or the exec command), the log
streamed, the pod and its Secrets deleted when the build ends, fails or is
interrupted. The layer cache
is kept in the registry, in the repository ``REGISTRY/APP/paas-dockerfile-cache``
(kaniko's ``--cache-repo``: one image per cached ``RUN`` layer, tagged with its
cache key), which also works with a plain-HTTP registry.

`executor_arguments()`, `dockerfile_build_pod()`, `dockerfile_steps()` and
`progress_line()` are pure; `dockerfile_cluster_build()` runs it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paas.build.buildenv import TOOL_ENV, by_name_env
from paas.build.cluster import BuildPodRun, builder_digest, run_build_pod
from paas.build.cluster_pod import (
    BUILD_CONTAINER,
    BUILD_DEADLINE,
    READY_MARK,
    SOURCE_WAIT,
    BuildPod,
    pod_object,
)
from paas.build.plan import BuildPlan
from paas.build.source import IgnoreRules
from paas.build.tools import OutputLine
from paas.errors import BuildError
from paas.names import BUILD_FOR_LABEL, build_namespace

if TYPE_CHECKING:
    from paas.kube.api import Kube
    from paas.objects import Obj

EXECUTOR = "/kaniko/executor"
CACHE_REPOSITORY = "paas-dockerfile-cache"
#: What kaniko needs as root in its container: own and chown the files it
#: unpacks, keep their modes and file capabilities, run `USER` steps as
#: another uid. All are in the container runtime's default set, which Pod
#: Security "baseline" allows; `NET_RAW`, `MKNOD`, `SYS_CHROOT` and the
#: rest of the default set are dropped.
KANIKO_CAPABILITIES = (
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETFCAP",
)
POD_SECURITY_BASELINE = {
    "pod-security.kubernetes.io/enforce": "baseline",
    "pod-security.kubernetes.io/enforce-version": "latest",
}
#: ``Pushed REGISTRY/APP@sha256:...``, once per destination (and once for each cache layer).
_PUSHED = re.compile(r"^Pushed (\S+)@(sha256:[0-9a-f]{64})$")
#: ``Building stage 'IMAGE' [idx: '0', base-idx: '-1']``: the stage's FROM.
_STAGE = re.compile(r"^Building stage '([^']*)'")
_INSTRUCTIONS = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
        "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
    }
)  # fmt: skip
_LEVELS = {"warning": "warning: ", "error": "error: ", "fatal": "error: ", "panic": "error: "}
#: What kaniko's own image runs with, besides the tools' common variables.
KANIKO_ENV = TOOL_ENV | {"SSL_CERT_DIR", "USER", "DOCKER_CREDENTIAL_GCR_CONFIG", "KANIKO_DIR"}


def build_namespace_object(plan: BuildPlan) -> Obj:
    """The namespace of the app's Dockerfile builds, enforcing Pod Security "baseline".

    It has no ``paas.dev/app`` label, so `paas apps` does not list it as an
    app; ``paas.dev/build-for`` names the app it builds for.
    """
    from paas.render import MANAGED_BY

    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": build_namespace(plan.namespace),
            "labels": {
                "app.kubernetes.io/managed-by": MANAGED_BY,
                BUILD_FOR_LABEL: plan.app,
                **POD_SECURITY_BASELINE,
            },
        },
    }


def cache_repository(plan: BuildPlan) -> str:
    """Where kaniko keeps the app's cached layers: ``REGISTRY/APP/paas-dockerfile-cache``."""
    return f"{plan.repository}/{CACHE_REPOSITORY}"


def executor_arguments(plan: BuildPlan, *, clear_cache: bool = False) -> list[str]:
    """The kaniko executor command line that builds and publishes `plan`.

    Build args are named only (``--build-arg NAME``): kaniko takes each
    value from its environment, which the pod fills from the build's env
    Secret, so no value is in the pod spec.
    """
    if plan.dockerfile is None:
        raise ValueError("a Dockerfile build needs a Dockerfile")
    args = [
        EXECUTOR,
        "--context",
        "dir:///workspace",
        "--dockerfile",
        f"/workspace/{plan.dockerfile}",
        # One JSON object per log line: read as data, not scraped.
        "--log-format",
        "json",
        "--verbosity",
        "info",
        # mtime-based snapshots: the default `full` reads every file of the image.
        "--snapshot-mode",
        "redo",
    ]
    for tag in plan.image_tags:
        args += ["--destination", tag]
    if clear_cache:
        args.append("--cache=false")
    else:
        args += ["--cache=true", "--cache-repo", cache_repository(plan)]
    if plan.insecure_registry:
        args += ["--insecure-registry", plan.registry]
    for name in sorted(plan.env):
        args += ["--build-arg", name]
    return args


def build_arg_env(plan: BuildPlan, pod: BuildPod) -> list[Obj]:
    """The kaniko container's env entries for the build args: each from the build's env Secret.

    Raises:
        BuildError: a build arg is named like a variable kaniko itself runs with.
    """
    names = sorted(by_name_env(plan.env, tool="kaniko", reserved=KANIKO_ENV))
    if names and not pod.env_secret:
        raise ValueError("build args need the build's env Secret")
    return [
        {"name": name, "valueFrom": {"secretKeyRef": {"name": pod.env_secret, "key": name}}}
        for name in names
    ]


def _wait_then_build() -> str:
    """The pod's shell: wait for the source, then exec kaniko."""
    waited = int(SOURCE_WAIT * 10)
    return (
        f"i=0; while [ ! -e {READY_MARK} ]; do i=$((i+1)); "
        f'if [ "$i" -gt {waited} ]; then echo "no source arrived in {SOURCE_WAIT}s" >&2; '
        'exit 1; fi; sleep 0.1; done; exec "$@"'
    )


def dockerfile_build_pod(plan: BuildPlan, pod: BuildPod, *, clear_cache: bool = False) -> Obj:
    """The Pod that builds `plan`'s Dockerfile with kaniko, in the app's build namespace.

    Root in the container (kaniko replaces the container's filesystem with the
    base image's), only `KANIKO_CAPABILITIES`, no privilege escalation,
    seccomp RuntimeDefault: Pod Security "baseline", never "privileged".
    """
    mounts: list[Obj] = [{"name": "workspace", "mountPath": "/workspace"}]
    volumes: list[Obj] = [{"name": "workspace", "emptyDir": {}}]
    env = build_arg_env(plan, pod)
    spec: Obj = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "activeDeadlineSeconds": BUILD_DEADLINE,
        "terminationGracePeriodSeconds": 5,
        "securityContext": {
            "runAsUser": 0,
            "runAsGroup": 0,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": BUILD_CONTAINER,
                "image": pod.builder,
                "imagePullPolicy": "IfNotPresent",
                "command": [
                    "/kaniko/bin/sh",
                    "-c",
                    _wait_then_build(),
                    "sh",
                    *executor_arguments(plan, clear_cache=clear_cache),
                ],
                "env": env,
                "volumeMounts": mounts,
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "privileged": False,
                    "capabilities": {"drop": ["ALL"], "add": list(KANIKO_CAPABILITIES)},
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "resources": {"requests": {"cpu": "500m", "memory": "512Mi"}},
            }
        ],
        "volumes": volumes,
    }
    return pod_object(plan, pod, spec)


def dockerfile_steps(text: str) -> list[str]:
    """The instructions of a Dockerfile from its first ``FROM`` on, one string each.

    Continuation lines are joined and comments dropped; ``ARG`` before the
    first ``FROM`` is not a step (podman and buildah do not count it either).
    """
    steps: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].strip() + " "
            continue
        instruction = (pending + line).strip()
        pending = ""
        keyword = instruction.split(maxsplit=1)[0].upper() if instruction else ""
        if keyword == "FROM" or steps:
            steps.append(instruction)
    if pending.strip() and steps:
        steps.append(pending.strip())
    return steps


@dataclass
class KanikoProgress:
    """Reads kaniko's JSON log: the lines to show, the step it is at, the digest pushed.

    Attributes:
        steps: The Dockerfile's instructions (`dockerfile_steps`).
        repository: The app's repository (kaniko also says `Pushed` for cache layers).
        at: The index in `steps` of the instruction kaniko runs now, or -1.
        command: That instruction as kaniko prints it.
        digest: The digest kaniko pushed to `repository`, once it has.
        error: kaniko's last error line.
    """

    steps: Sequence[str]
    repository: str
    at: int = -1
    command: str = ""
    digest: str = ""
    error: str = ""

    @property
    def step(self) -> str | None:
        """The step kaniko was at, like ``2/6: RUN pip install -r requirements.txt``."""
        if self.at < 0:
            return None
        return f"{self.at + 1}/{len(self.steps)}: {self.command}"

    def read(self, text: str) -> str | None:
        """One line of the pod's log, as the user sees it (None to hide it)."""
        line = progress_line(text)
        if line is None:
            return None
        message, level = line
        if level == "info":
            keyword = message.split(maxsplit=1)[0] if message else ""
            stage = _STAGE.match(message)
            if stage:
                # kaniko logs no FROM; its stage line stands for it, with the image resolved.
                keyword, message = "FROM", f"FROM {stage.group(1)}"
            if keyword in _INSTRUCTIONS and (keyword != "FROM" or stage):
                self._advance(keyword)
                self.command = message
                number = f"{self.at + 1}/{len(self.steps)}" if self.at >= 0 else "?"
                return f"STEP {number}: {message}"
            pushed = _PUSHED.match(message)
            if pushed and pushed.group(1) == self.repository:
                self.digest = pushed.group(2)
        if level in ("error", "fatal", "panic"):
            self.error = message
        if level == "plain" and message.startswith("error "):
            self.error = message
        return _LEVELS.get(level, "") + message

    def _advance(self, keyword: str) -> None:
        for index in range(self.at + 1, len(self.steps)):
            if self.steps[index].split(maxsplit=1)[0].upper() == keyword:
                self.at = index
                return


def progress_line(text: str) -> tuple[str, str] | None:
    """A line of kaniko's output as (message, level); the RUN steps' own output is ``plain``.

    kaniko logs JSON objects (``{"level": "info", "msg": "...", "time": ...}``);
    what the Dockerfile's commands print, and kaniko's last error, are plain text.
    """
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("msg"), str):
            return data["msg"], str(data.get("level", "info"))
    return text, "plain"


def explain_dockerfile_failure(
    plan: BuildPlan, progress: KanikoProgress, exit_code: int
) -> BuildError:
    """The error of a failed kaniko build: the step it failed at, like the local strategy's."""
    step = progress.step
    if step and progress.error.startswith("error building image: error building stage"):
        return BuildError(
            f"The Dockerfile build of `{plan.app}` failed at step {step}.",
            f"Fix `{plan.dockerfile}` there; the output above shows the error.",
        )
    reason = progress.error or f"the executor exited {exit_code}"
    where = f" at step {step}" if step else ""
    return BuildError(
        f"The Dockerfile build of `{plan.app}` failed{where}: {reason}",
        f"Check `{plan.dockerfile}` (its `FROM` images must be in a registry the cluster "
        "reaches) and the output above.",
    )


def dockerfile_cluster_build(
    plan: BuildPlan,
    source_dir: Path,
    rules: IgnoreRules,
    *,
    kube: Kube,
    on_line: OutputLine,
    clear_cache: bool = False,
) -> tuple[str, int]:
    """Build `plan`'s Dockerfile in a kaniko pod of the cluster and publish every tag.

    Returns:
        The image digest and the number of files sent.

    Raises:
        BuildError: the Dockerfile builder is missing or cannot be pulled, the
            pod cannot start, or the build failed (the message names the step).
        RegistryError: the registry cannot be reached or refuses the credentials.
    """
    import secrets

    from paas.names import object_name
    from paas.registry import credentials

    if plan.builder is None or plan.dockerfile is None:
        raise ValueError("a cluster Dockerfile build needs the Dockerfile builder and a Dockerfile")
    builder = builder_digest(
        plan,
        what="Dockerfile builder",
        hint="Build and push it with `hack/testbed dockerfile-builder` (kaniko's executor, "
        "see docs/testbed.md), or name another with `paas cluster init --dockerfile-builder`.",
    )
    from paas.detect.appdir import AppDir

    # Read through the sandbox: inside the source, a regular file, at most 1 MiB.
    data = AppDir(source_dir).read_bytes(plan.dockerfile, error=BuildError)
    if data is None:
        raise BuildError(
            f"`{plan.dockerfile}` cannot be read: it does not exist.",
            "Check `build.dockerfile` in paas.yaml.",
        )
    steps = dockerfile_steps(data.decode("utf-8", errors="replace"))
    build_id = secrets.token_hex(3)
    auth = credentials(plan.registry)
    namespace = build_namespace(plan.namespace)
    pod = BuildPod(
        namespace=namespace,
        name=object_name(plan.app, "build", build_id),
        build_id=build_id,
        builder=builder,
        cache_claim=None,
        auth_secret=object_name(plan.app, "build", build_id, "auth") if auth else None,
        env_secret=object_name(plan.app, "build", build_id, "env") if plan.env else None,
    )
    build_arg_env(plan, pod)  # refuse a bad name before anything is made
    existing = kube.get("v1", "Namespace", None, namespace)
    if (
        existing is not None
        and existing["metadata"].get("labels", {}).get(BUILD_FOR_LABEL) != plan.app
    ):
        # Never relax the Pod Security of a namespace paas did not make for these builds
        # (an app called `APP-build`, say).
        raise BuildError(
            f"The namespace `{namespace}` exists and is not the build namespace of `{plan.app}`.",
            "Rename the app (or the other one), or build with `--strategy dockerfile`.",
        )
    kube.apply(build_namespace_object(plan))
    progress = KanikoProgress(steps, plan.repository)

    def carry_out(run: BuildPodRun) -> str:
        for text in run.follow():
            shown = progress.read(text)
            if shown is not None:
                on_line(shown)
        code = run.exit_code()
        if code != 0:
            raise explain_dockerfile_failure(plan, progress, code)
        if not progress.digest:
            raise BuildError(
                f"kaniko built `{plan.app}` but printed no pushed digest.",
                "Check the Dockerfile builder's version (kaniko v1.24.0 is tested) and the "
                "output above.",
            )
        return progress.digest

    return run_build_pod(
        plan,
        pod,
        dockerfile_build_pod(plan, pod, clear_cache=clear_cache),
        source_dir,
        rules,
        kube=kube,
        on_line=on_line,
        env=dict(plan.env),
        auth=auth,
        pull_hint="Check that the nodes reach the registry (and trust it, for plain HTTP), "
        "or push the Dockerfile builder there with `hack/testbed dockerfile-builder`.",
        carry_out=carry_out,
    )
