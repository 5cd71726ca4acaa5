"""`paas doctor`: check everything a push needs, and say what to fix (I/O, read-only)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from paas.errors import PaasError

if TYPE_CHECKING:
    from paas.kube.api import Kube
    from paas.rights import Right
    from paas.settings import ClusterSettings


@dataclass(frozen=True)
class Check:
    """One check's outcome."""

    name: str
    ok: bool
    detail: str
    fix: str = ""


def _run(name: str, probe: Callable[[], str], fix: str) -> Check:
    try:
        return Check(name, True, probe())
    except PaasError as exc:
        return Check(name, False, exc.message, exc.hint or fix)
    except Exception as exc:
        return Check(name, False, f"{type(exc).__name__}: {exc}", fix)


def run_checks(context: str | None) -> list[Check]:
    """Every check, in the order a push needs them; later ones skip when an earlier fails."""
    from paas.kube import server_version
    from paas.kube.api import Kube
    from paas.kube.store import read_cluster_settings

    checks: list[Check] = []
    kube_holder: list[Kube] = []

    def kubeconfig() -> str:
        import os

        from paas.kube import ENV_KUBECONFIG

        kube_holder.append(Kube(context))
        given = f" from `{ENV_KUBECONFIG}`" if os.environ.get(ENV_KUBECONFIG, "").strip() else ""
        return f"context `{context or 'current'}` loaded{given}"

    checks.append(
        _run(
            "kubeconfig",
            kubeconfig,
            "Set `KUBECONFIG` (or `PAAS_KUBECONFIG`: a path or the content) to your "
            "cluster's kubeconfig, or pass `--context`.",
        )
    )
    if not checks[-1].ok:
        return checks
    kube = kube_holder[0]
    checks.append(
        _run(
            "cluster",
            lambda: f"API server {server_version(context)}",
            "Check the cluster is up and reachable from here.",
        )
    )
    if not checks[-1].ok:
        return checks
    checks.append(
        _run(
            "permissions",
            lambda: _permissions(kube),
            "Ask a cluster admin to apply `paas doctor --print-role`.",
        )
    )
    settings_holder: list[ClusterSettings] = []

    def stored_settings() -> str:
        settings_holder.append(read_cluster_settings(kube))
        return _settings(settings_holder[0])

    settings_check = _run(
        "settings", stored_settings, "Run `paas cluster init --domain D --registry R`."
    )
    checks.append(settings_check)
    if settings_check.ok:
        settings = settings_holder[0]
        checks.append(
            _run(
                "registry",
                lambda: _registry(settings.registry, settings.insecure_registry),
                "Check the registry address in `paas cluster info`.",
            )
        )
        checks.append(
            _run(
                "cluster builds",
                lambda: _cluster_builds(kube, settings),
                "Create the builder with `paas builder create`.",
            )
        )
    checks.append(
        _run(
            "build tools",
            _build_tools,
            "Install pack and podman (or docker), or build in the cluster with "
            "`--strategy cluster`.",
        )
    )
    return checks


def _permissions(kube: Kube) -> str:
    """Every right in `paas.rights.RIGHTS`, asked at once (SelfSubjectAccessReviews)."""
    from concurrent.futures import ThreadPoolExecutor

    from paas.rights import RIGHTS, SYSTEM_NAMESPACE

    def allowed(right: Right) -> bool:
        plural, _, sub = right.resource.partition("/")
        attributes = {
            "verb": right.verb,
            "resource": plural,
            "subresource": sub,
            "group": right.group,
            "namespace": SYSTEM_NAMESPACE if right.scope == "system" else "",
        }
        review = kube.request(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            body={
                "apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attributes},
            },
            timeout=10,
        )
        return bool((review or {}).get("status", {}).get("allowed"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(allowed, RIGHTS))
    missing = [right for right, ok in zip(RIGHTS, answers, strict=True) if not ok]
    if missing:
        raise PaasError(missing_rights_message(missing, len(RIGHTS)), ROLE_HINT)
    return f"all {len(RIGHTS)} rights the commands use (`paas doctor --print-role` lists them)"


ROLE_HINT = (
    "`paas doctor --print-role` prints a ClusterRole and a Role with every right; "
    "have a cluster admin apply it (`kubectl apply -f`)."
)


def missing_rights_message(missing: list[Right], total: int) -> str:
    """`2 of 52 rights missing: `create pods/attach` (for run (with a terminal)); ...`."""
    named = "; ".join(
        f"`{r.name}`{' in paas-system' if r.scope == 'system' else ''} (for {r.needed_by})"
        for r in missing
    )
    return f"{len(missing)} of {total} rights missing: {named}"


def _settings(settings: ClusterSettings) -> str:
    return f"domain `{settings.domain}`, registry `{settings.registry}`"


def _registry(registry: str, insecure: bool) -> str:
    import httpx

    host = registry.split("/", 1)[0]
    url = f"{'http' if insecure else 'https'}://{host}/v2/"
    try:
        response = httpx.get(url, timeout=5)
    except httpx.HTTPError as exc:
        raise PaasError(f"cannot reach `{url}`: {exc}") from None
    if response.status_code not in (200, 401):
        raise PaasError(f"`{url}` answered {response.status_code}, not a registry")
    return f"`{host}` answers" + (" (plain HTTP)" if insecure else "")


def _cluster_builds(kube: Kube, settings: ClusterSettings) -> str:
    """Whether `--strategy cluster` can run: the builder is there; where its cache goes."""
    from paas.build.cluster import default_storage_class
    from paas.build.plan import resolve_builder
    from paas.errors import RegistryError
    from paas.registry import resolve_digest

    builder = resolve_builder(settings.builder, settings.registry)
    try:
        resolve_digest(builder, insecure=settings.insecure_registry)
    except RegistryError as exc:
        raise PaasError(f"builder `{builder}`: {exc.message}", exc.hint) from None
    storage = default_storage_class(kube)
    if storage:
        cache = f"cache volumes from StorageClass `{storage}`"
    elif settings.insecure_registry:
        cache = (
            "no build cache (no default StorageClass; a plain-HTTP registry holds no cache image)"
        )
    else:
        cache = "build cache as an image (no default StorageClass)"
    return f"builder `{builder}` in the registry; {cache}; {_dockerfile_builder(settings)}"


def _dockerfile_builder(settings: ClusterSettings) -> str:
    """Whether Dockerfile apps can build in the cluster: a note, never a failure."""
    from paas.build.plan import resolve_builder
    from paas.errors import RegistryError
    from paas.registry import resolve_digest

    image = resolve_builder(settings.dockerfile_builder, settings.registry)
    try:
        resolve_digest(image, insecure=settings.insecure_registry)
    except RegistryError as exc:
        return (
            f"no Dockerfile builder `{image}` ({exc.message}): Dockerfile apps build only "
            "with `--strategy dockerfile` until it is pushed (`hack/testbed dockerfile-builder`)"
        )
    return f"Dockerfile builder `{image}` in the registry (kaniko, Pod Security baseline)"


def _build_tools() -> str:
    found = [tool for tool in ("pack", "podman", "docker", "buildah") if shutil.which(tool)]
    if "pack" not in found and not any(t in found for t in ("podman", "docker", "buildah")):
        raise PaasError("no pack, podman, docker or buildah on PATH")
    host = os.environ.get("DOCKER_HOST", "")
    return ", ".join(found) + (f"; DOCKER_HOST={host}" if host else "")
