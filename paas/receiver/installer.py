"""`paas receiver install`, `status` and `uninstall`: the receiver's objects on a cluster.

The receiver's image is built in the cluster from this paas (a Dockerfile
build with the cluster's own builder, pushed to the cluster's registry, not
rebuilt while its source is unchanged), its objects are applied server-side,
and the install waits until the pod serves `/healthz`. Uninstall deletes
them all but the repositories' volume and the tokens, unless told to purge.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paas.errors import ClusterError
from paas.receiver.cluster_store import TOKEN_LABEL, KubeTokenStore
from paas.receiver.install import (
    IMAGE_APP,
    NAME,
    ReceiverPlan,
    image_source,
    namespace_labels,
    receiver_objects,
)
from paas.rights import SYSTEM_NAMESPACE

if TYPE_CHECKING:
    from paas.kube.api import Kube
    from paas.objects import Obj
    from paas.settings import ClusterSettings

Say = Callable[[str], None]
#: Waiting reasons of the receiver's container that will not fix themselves.
STUCK = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "CrashLoopBackOff", "CreateContainerConfigError"}
)


def dependency_pins() -> dict[str, str]:
    """The dependencies of this paas at the versions installed here (the receiver gets the same)."""
    import re
    from importlib import metadata

    pins: dict[str, str] = {}
    for requirement in metadata.requires("paas") or []:
        if "extra ==" in requirement:
            continue
        found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        if found:
            pins[found.group(0).lower()] = metadata.version(found.group(0))
    return pins


def default_base_image(settings: ClusterSettings) -> str:
    """Debian 12 from the cluster's registry when it has it, else from Docker Hub."""
    from paas.errors import RegistryError
    from paas.registry import resolve_digest

    mirrored = f"{settings.registry}/debian:bookworm"
    try:
        resolve_digest(mirrored, insecure=settings.insecure_registry)
    except RegistryError:
        return "docker.io/library/debian:bookworm"
    return mirrored


def build_image(
    kube: Kube,
    settings: ClusterSettings,
    *,
    base: str | None,
    ca_file: Path | None,
    say: Say,
    on_line: Say,
) -> str:
    """Build the receiver's image in the cluster unless it is published; return it by digest."""
    import paas
    from paas.build import build_unless_published
    from paas.project import Project

    base = base or default_base_image(settings)
    say(f"Receiver image from `{base}` and paas {paas.__version__}.")
    with tempfile.TemporaryDirectory(prefix="paas-receiver-image-") as tmp:
        image_source(
            Path(tmp),
            Path(paas.__file__).parent,
            base=base,
            pins=dependency_pins(),
            index_url=settings.mirrors.pip,
            extra_ca=ca_file.read_bytes() if ca_file else b"",
        )
        project = Project.read(Path(tmp), name=IMAGE_APP)
        return build_unless_published(
            project, settings, strategy="cluster", kube=kube, on_info=say, on_line=on_line
        )


def install(kube: Kube, settings: ClusterSettings, plan: ReceiverPlan, *, say: Say) -> list[Obj]:
    """Apply the receiver's objects; return them as applied."""
    kube.merge_patch("v1", "Namespace", None, SYSTEM_NAMESPACE, namespace_labels())
    applied = []
    for obj in receiver_objects(plan, settings):
        applied.append(kube.apply(obj))
        say(f"  applied {obj['kind']} {obj['metadata']['name']}")
    return applied


def wait_ready(kube: Kube, *, timeout: float, say: Say) -> None:
    """Wait until the receiver's one pod runs the current template and is ready.

    Raises:
        ClusterError: it is not ready in `timeout` seconds, or its pod is stuck.
    """
    deadline = time.monotonic() + timeout
    said = ""
    while True:
        deployment = kube.get("apps/v1", "Deployment", SYSTEM_NAMESPACE, NAME)
        if deployment is not None and _rolled_out(deployment):
            return
        problem = _pod_problem(kube)
        if problem and problem[0] in STUCK:
            raise ClusterError(
                f"The receiver's pod cannot start: {problem[0]}: {problem[1]}",
                "See `kubectl -n paas-system describe pod -l "
                "app.kubernetes.io/name=paas-receiver`.",
            )
        line = f"  waiting for the receiver: {problem[0] if problem else 'starting'}"
        if line != said:
            say(line)
            said = line
        if time.monotonic() > deadline:
            raise ClusterError(
                f"The receiver was not ready after {timeout:.0f} s"
                + (f": {problem[0]}: {problem[1]}" if problem else "."),
                "See `paas receiver status` and the pod's log "
                "(`kubectl -n paas-system logs deploy/paas-receiver`).",
            )
        time.sleep(1)


def _rolled_out(deployment: Obj) -> bool:
    status = deployment.get("status", {})
    return bool(
        status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 1)
        and status.get("updatedReplicas", 0) == 1
        and status.get("readyReplicas", 0) == 1
        and status.get("replicas", 0) == 1
    )


def _pod_problem(kube: Kube) -> tuple[str, str] | None:
    """The first waiting reason of the receiver's containers, with its message."""
    from paas.console import sanitise

    pods = kube.list("v1", "Pod", SYSTEM_NAMESPACE, selector=f"app.kubernetes.io/name={NAME}")
    for pod in pods:
        for state in pod.get("status", {}).get("containerStatuses", []):
            waiting = state.get("state", {}).get("waiting")
            if waiting and waiting.get("reason") not in (None, "ContainerCreating"):
                return str(waiting["reason"]), sanitise(str(waiting.get("message", "")))[:300]
    return None


def status(kube: Kube, settings: ClusterSettings) -> dict[str, Any]:
    """What is installed: the pod's readiness, image, URL, volume and tokens."""
    deployment = kube.get("apps/v1", "Deployment", SYSTEM_NAMESPACE, NAME)
    claim = kube.get("v1", "PersistentVolumeClaim", SYSTEM_NAMESPACE, f"{NAME}-repos")
    ingress = kube.get("networking.k8s.io/v1", "Ingress", SYSTEM_NAMESPACE, NAME)
    now = time.time()
    tokens = KubeTokenStore(kube).tokens()
    hosts = [r.get("host", "") for r in (ingress or {}).get("spec", {}).get("rules", [])]
    scheme = "https" if ingress and ingress.get("spec", {}).get("tls") else "http"
    problem = _pod_problem(kube) if deployment else None
    return {
        "installed": deployment is not None,
        "ready": bool(deployment and _rolled_out(deployment)),
        "problem": f"{problem[0]}: {problem[1]}" if problem else None,
        "image": (
            deployment["spec"]["template"]["spec"]["containers"][0]["image"] if deployment else None
        ),
        "url": f"{scheme}://{hosts[0]}" if hosts else None,
        "volume": (claim or {}).get("status", {}).get("phase") if claim else None,
        "tokens": {
            "active": sum(t.state(now) == "active" for t in tokens),
            "total": len(tokens),
        },
    }


def uninstall(kube: Kube, settings: ClusterSettings, *, purge: bool, say: Say) -> list[str]:
    """Delete the receiver's objects (with `purge`, its volume and tokens too); return what went."""
    plan = ReceiverPlan(image="-", host="-")
    gone = []
    for obj in reversed(receiver_objects(plan, settings)):
        if obj["kind"] == "PersistentVolumeClaim" and not purge:
            say(f"  kept PersistentVolumeClaim {obj['metadata']['name']} (--purge deletes it)")
            continue
        meta = obj["metadata"]
        if kube.delete(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"]):
            gone.append(f"{obj['kind']} {meta['name']}")
            say(f"  deleted {obj['kind']} {meta['name']}")
    if purge:
        for secret in kube.list("v1", "Secret", SYSTEM_NAMESPACE, selector=f"{TOKEN_LABEL}=true"):
            name = secret["metadata"]["name"]
            if kube.delete("v1", "Secret", SYSTEM_NAMESPACE, name):
                gone.append(f"Secret {name}")
        say("  deleted the tokens")
    return gone
