"""The `cluster` strategy: the CNB lifecycle in a Pod of the cluster, no local daemon.

A build is one Pod in the app's namespace, run unprivileged (uid 1000, Pod
Security "restricted"), from the builder image by digest:

1. its container ``build`` starts by waiting for the source;
2. the CLI sends the source as a gzipped tar over the exec API into that
   container (``head -c SIZE | tar -x``, so the end of the archive is known
   without closing stdin), then marks it received;
3. the container copies the build environment from the build's own Secret
   (mounted read-only, one file per variable) to ``/platform/env`` and
   becomes ``/cnb/lifecycle/creator``, which detects, restores
   the cache, builds and publishes the image to the registry; its log
   streams to the CLI;
4. the Pod and its Secrets are deleted, whether the build passed, failed or
   was interrupted (and the Secrets are owned by the Pod, so the cluster
   deletes them with it should the CLI die first).

No value of the build environment is in the pod spec or the exec command,
which the API server's audit log keeps: only in the Secret.

The per-app cache is the PersistentVolumeClaim ``paas-build-cache`` when the
cluster has a default StorageClass, else a cache image next to the app's
images (``REPO:paas-build-cache``), which needs nothing but the registry.
The pod and its objects are made, purely, in `paas.build.cluster_pod`; `cluster_build()` runs it.
`run_build_pod()` (the credentials Secret, the pod, the source, following the
log, the clean-up) is shared with a Dockerfile app's build in the cluster,
kaniko's (`paas.build.dockerfile_cluster`).
"""

from __future__ import annotations

import contextlib
import json
import secrets
import tarfile
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from paas.build.cluster_pod import (
    BUILD_CONTAINER,
    CACHE_CLAIM,
    CNB_UID,
    SOURCE_WAIT,
    BuildPod,
    auth_secret,
    build_pod,
    cache_claim,
    env_secret,
    receive_script,
)
from paas.build.cnb import DIGEST, explain_failure
from paas.build.plan import BuildPlan
from paas.build.source import IgnoreRules, source_files
from paas.build.tools import OutputLine
from paas.errors import BuildError, ClusterError
from paas.names import object_name

if TYPE_CHECKING:
    from paas.kube.api import Kube
    from paas.objects import Obj


def builder_run_image(builder: str, *, insecure: bool) -> str | None:
    """The run image the builder's metadata names (``images``, else the older ``stack``)."""
    from paas.registry import image_labels

    labels = image_labels(builder, insecure=insecure)
    try:
        metadata = json.loads(labels.get("io.buildpacks.builder.metadata", "{}"))
    except ValueError:
        return None
    for entry in metadata.get("images") or []:
        if entry.get("image"):
            return str(entry["image"])
    run_image = (metadata.get("stack") or {}).get("runImage", {}).get("image")
    return str(run_image) if run_image else None


def source_archive(source_dir: Path, rules: IgnoreRules, out: IO[bytes]) -> int:
    """Write the files a build gets from `source_dir` to `out` as a gzipped tar; return how many."""

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = CNB_UID
        info.uname = info.gname = ""
        return info

    count = 0
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=1) as archive:
        for rel in source_files(source_dir, rules):
            archive.add(source_dir / rel, arcname=rel, recursive=False, filter=normalise)
            count += 1
    return count


class BuildPodRun:
    """The CLI's side of one build pod: start it, send the source, follow the build."""

    def __init__(self, kube: Kube, pod: BuildPod, *, pull_hint: str = "") -> None:
        self.kube = kube
        self.pod = pod
        self.pull_hint = pull_hint or (
            "Check that the nodes reach the registry (and trust it, for plain "
            "HTTP), or create the builder there with `paas builder create`."
        )

    def wait_started(self) -> Obj:
        """Wait until the build container runs (or has ended); explain a pod that cannot start."""
        from paas.diagnosis import pod_failure
        from paas.kube.api import seconds_since

        deadline = time.monotonic() + SOURCE_WAIT
        while True:
            pod = self.kube.get("v1", "Pod", self.pod.namespace, self.pod.name)
            if pod is None:
                raise BuildError(
                    f"The build pod `{self.pod.name}` disappeared.",
                    "Someone deleted it, or the node went away; build again.",
                )
            status = pod.get("status", {})
            for cs in status.get("containerStatuses", []):
                state = cs.get("state", {})
                if "running" in state or "terminated" in state:
                    return dict(state)
            age = seconds_since(pod["metadata"].get("creationTimestamp", ""))
            failure = pod_failure(pod, [], running_for=0, age=age)
            if failure is not None and failure.reason == "ImagePullBackOff":
                raise BuildError(
                    f"The cluster cannot pull the builder `{self.pod.builder}`: {failure.detail}",
                    self.pull_hint,
                )
            if status.get("phase") == "Failed":
                raise BuildError(
                    f"The build pod `{self.pod.name}` failed before the build started: "
                    f"{status.get('reason', '')} {status.get('message', '')}".rstrip(),
                    "See `kubectl describe pod` in the app's namespace.",
                )
            if time.monotonic() > deadline:
                unschedulable = failure is not None and failure.reason == "Unschedulable"
                raise BuildError(
                    f"The build pod `{self.pod.name}` did not start within {SOURCE_WAIT}s"
                    + (f": {failure.detail}" if unschedulable and failure else "."),
                    "The build asks for 0.5 CPU and 512 MiB; check the cluster's capacity.",
                )
            time.sleep(0.2)

    def send_source(self, archive: IO[bytes], size: int) -> None:
        """Stream the archive into the build container and wait for it to be unpacked."""
        from paas.kube.run import exec_with_input

        archive.seek(0)
        code, errors = exec_with_input(
            self.kube,
            self.pod.namespace,
            self.pod.name,
            container=BUILD_CONTAINER,
            command=["sh", "-c", receive_script(size)],
            data=archive,
            timeout=SOURCE_WAIT,
        )
        if code != 0:
            raise BuildError(
                f"Sending the source to the build pod failed (exit {code}): {errors[-500:]}",
                "Check the app directory's files (and `.paasignore`), then build again.",
            )

    def follow(self) -> Iterator[str]:
        """The build container's log lines, as they come."""
        from paas.kube.logs import stream_log

        yield from stream_log(
            self.kube, self.pod.namespace, self.pod.name, container=BUILD_CONTAINER, follow=True
        )

    def exit_code(self) -> int:
        """The build container's exit code, once it has ended."""
        from paas.kube.run import wait_exit_code

        return wait_exit_code(
            self.kube,
            self.pod.namespace,
            self.pod.name,
            container=BUILD_CONTAINER,
            deadline_code=124,
            poll=0.1,
        )


def default_storage_class(kube: Kube) -> str | None:
    """The name of the cluster's default StorageClass, or None (also when it may not be read)."""
    try:
        classes = kube.list("storage.k8s.io/v1", "StorageClass", None)
    except ClusterError:
        return None
    return next(
        (
            str(c["metadata"]["name"])
            for c in classes
            if c["metadata"]
            .get("annotations", {})
            .get("storageclass.kubernetes.io/is-default-class")
            == "true"
        ),
        None,
    )


def builder_digest(plan: BuildPlan, *, what: str = "builder", hint: str = "") -> str:
    """The build image of `plan` (`plan.builder`) by digest, so the pod runs exactly it.

    Raises:
        BuildError: it is not in the registry.
    """
    from paas.errors import ImageNotFoundError
    from paas.registry import resolve_digest

    if plan.builder is None:
        raise ValueError("a cluster build needs a builder")
    try:
        return resolve_digest(plan.builder, insecure=plan.insecure_registry)
    except ImageNotFoundError:
        raise BuildError(
            f"The {what} `{plan.builder}` is not in the registry.",
            hint or "Create it with `paas builder create`, or name another with `--builder`.",
        ) from None


def cluster_build(
    plan: BuildPlan,
    source_dir: Path,
    rules: IgnoreRules,
    *,
    kube: Kube,
    on_line: OutputLine,
    clear_cache: bool = False,
    secret_env: Mapping[str, str] | None = None,
) -> tuple[str, int]:
    """Build and publish the image of `plan` in a pod of the cluster.

    `secret_env` (mirror credentials) goes to the lifecycle's platform
    directory with the build env, through the build's env Secret: never into
    the pod spec, the exec command or the log.

    Returns:
        The image digest and the number of files sent.

    Raises:
        BuildError: the builder is missing or cannot be pulled, the pod cannot
            start, or the build failed (the message names the step).
        RegistryError: the registry cannot be reached or refuses the credentials.
    """
    from paas.registry import credentials
    from paas.render import namespace_object

    builder = builder_digest(plan)
    namespace = plan.namespace
    build_id = secrets.token_hex(3)
    auth = credentials(plan.registry)
    env = {**plan.env, **(secret_env or {})}
    has_volumes = default_storage_class(kube) is not None
    pod = BuildPod(
        namespace=namespace,
        name=object_name(plan.app, "build", build_id),
        build_id=build_id,
        builder=builder,
        cache_claim=CACHE_CLAIM if has_volumes else None,
        # The lifecycle (v0.20) cannot keep a cache image in a plain-HTTP registry.
        cache_image=not plan.insecure_registry,
        auth_secret=object_name(plan.app, "build", build_id, "auth") if auth else None,
        # The lifecycle (v0.20) checks the run images of the builder's run.toml
        # without its insecure-registry setting, so a plain-HTTP registry needs
        # the run image named.
        run_image=builder_run_image(builder, insecure=True) if plan.insecure_registry else None,
        env_secret=object_name(plan.app, "build", build_id, "env") if env else None,
    )
    if env:
        env_secret(plan, pod, env)  # refuse a bad name before anything is made
    kube.apply(namespace_object(plan.app, namespace))
    if pod.cache_claim:
        kube.apply(cache_claim(plan))
    elif not pod.cache_image:
        on_line(
            "-----> Building without a cache: the cluster has no default StorageClass for a "
            "cache volume, and the registry is plain HTTP, which a cache image cannot use"
        )
    return run_build_pod(
        plan,
        pod,
        build_pod(plan, pod, clear_cache=clear_cache),
        source_dir,
        rules,
        kube=kube,
        on_line=on_line,
        env=env,
        auth=auth,
        carry_out=lambda run: _run_creator(plan, run, on_line),
    )


def run_build_pod(
    plan: BuildPlan,
    pod: BuildPod,
    manifest: Obj,
    source_dir: Path,
    rules: IgnoreRules,
    *,
    kube: Kube,
    on_line: OutputLine,
    env: Mapping[str, str],
    auth: tuple[str, str] | None,
    carry_out: Callable[[BuildPodRun], str],
    pull_hint: str = "",
) -> tuple[str, int]:
    """Run one build pod: its Secrets and Pod created, the source sent, the build followed.

    `env` goes into the env Secret (`pod.env_secret`), `auth` into the
    registry credentials Secret. `carry_out` follows the build and returns
    the digest. The pod and the Secrets are deleted however it ends, Ctrl-C
    included; they are owned by the pod, so the cluster deletes them with it
    if the CLI dies first.

    Returns:
        The image digest and the number of files sent.
    """
    with tempfile.TemporaryFile(prefix="paas-source-") as archive:
        files = source_archive(source_dir, rules, archive)
        size = archive.tell()
        on_line(f"-----> Sending {files} files ({size / 1024:.0f} KiB) to pod `{pod.name}`")
        secret_names = [
            name
            for name, wanted in ((pod.auth_secret, auth), (pod.env_secret, env))
            if name and wanted
        ]
        try:
            if auth and pod.auth_secret:
                kube.create(auth_secret(plan, pod, *auth))
            if env and pod.env_secret:
                kube.create(env_secret(plan, pod, env))
            created = kube.create(manifest)
            _owned_by_pod(kube, pod, created, secret_names)
            runner = BuildPodRun(kube, pod, pull_hint=pull_hint)
            if "terminated" in runner.wait_started():
                raise BuildError(
                    f"The build pod `{pod.name}` stopped before it got the source.",
                    "Build again; `paas logs -p build` shows the pod's output.",
                )
            runner.send_source(archive, size)
            digest = carry_out(runner)
        finally:
            with contextlib.suppress(ClusterError):
                kube.delete("v1", "Pod", pod.namespace, pod.name, grace_seconds=0)
            for name in secret_names:
                with contextlib.suppress(ClusterError):
                    kube.delete("v1", "Secret", pod.namespace, name)
    return digest, files


def _owned_by_pod(kube: Kube, pod: BuildPod, created: Obj, secret_names: list[str]) -> None:
    """Make the build's Secrets the pod's, so deleting the pod deletes them (best effort)."""
    uid = created.get("metadata", {}).get("uid")
    if not uid:
        return
    owner = {"apiVersion": "v1", "kind": "Pod", "name": pod.name, "uid": uid}
    for name in secret_names:
        with contextlib.suppress(ClusterError):
            kube.merge_patch(
                "v1", "Secret", pod.namespace, name, {"metadata": {"ownerReferences": [owner]}}
            )


def _run_creator(plan: BuildPlan, runner: BuildPodRun, on_line: OutputLine) -> str:
    tail: deque[str] = deque(maxlen=80)
    digest = ""
    for text in runner.follow():
        tail.append(text)
        match = DIGEST.search(text)
        if match:
            digest = match.group(1)
        on_line(text)
    code = runner.exit_code()
    if code != 0:
        raise explain_failure(plan, list(tail), code, tool="the lifecycle's creator")
    if not digest:
        raise BuildError(
            f"The creator built `{plan.app}` but printed no image digest.",
            "Check the builder's lifecycle version (v0.20 is tested) and the output above.",
        )
    return digest
