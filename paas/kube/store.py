"""What paas keeps in the cluster: cluster settings, release records and the app lock.

- Cluster settings: ConfigMap `paas-settings` in namespace `paas-system`.
- Release records: one Secret `release-vN` per release in the app's namespace
  (it holds config values), gzip-compressed JSON.
- The app lock: Lease `paas-lock` in the app's namespace, renewed while held.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from paas.errors import BusyError, ClusterError, NotFoundError
from paas.kube.api import Kube, KubeApiError, seconds_since, timestamp
from paas.objects import Obj
from paas.releases import ReleaseRecord
from paas.settings import ClusterSettings

SYSTEM_NAMESPACE = "paas-system"
SETTINGS_NAME = "paas-settings"
LOCK_NAME = "paas-lock"
LEASE_SECONDS = 30
RELEASE_TYPE = "paas.dev/release"
MANAGED = {"app.kubernetes.io/managed-by": "paas"}


# ---- cluster settings


def read_cluster_settings(kube: Kube, *, timeout: float | None = None) -> ClusterSettings:
    """The cluster's settings.

    Raises:
        NotFoundError: `paas cluster init` has not been run on this cluster.
        ClusterError: the cluster cannot be reached.
    """
    found = kube.get("v1", "ConfigMap", SYSTEM_NAMESPACE, SETTINGS_NAME, timeout=timeout)
    if found is None:
        raise NotFoundError(
            "this cluster has no paas settings yet",
            "Run `paas cluster init --domain DOMAIN --registry REGISTRY` once.",
        )
    return ClusterSettings.model_validate_json(found["data"]["settings.json"])


def read_mirror_credentials(kube: Kube, name: str) -> dict[str, str]:
    """The decoded data of the mirror credentials Secret `name` in paas-system.

    Raises:
        NotFoundError: there is no such Secret.
        ClusterError: the cluster cannot be reached or refuses the read.
    """
    found = kube.get("v1", "Secret", SYSTEM_NAMESPACE, name)
    if found is None:
        raise NotFoundError(
            f"there is no Secret `{name}` in namespace {SYSTEM_NAMESPACE}",
            "Create it with the mirrors' usernames and passwords.",
        )
    return {
        key: base64.b64decode(value).decode("utf-8", errors="replace")
        for key, value in (found.get("data") or {}).items()
    }


# How long a command that also works without a cluster waits for one to answer.
PROBE_SECONDS = 5


def settings_for(
    context: str | None, settings_file: Path | None, *, on_info: Callable[[str], None]
) -> tuple[ClusterSettings, Kube | None]:
    """The settings a command works with, read the same way by every command.

    `--settings FILE` when given; else the cluster's, when a cluster answers
    (the current kubeconfig context, or `context`); else the local defaults,
    and `on_info` says so and why. The cluster is returned when it answered.
    """
    from paas.settings import settings_from_file

    if settings_file is not None:
        return settings_from_file(settings_file), None
    kube: Kube | None = None
    try:
        kube = Kube(context)
        return read_cluster_settings(kube, timeout=PROBE_SECONDS), kube
    except NotFoundError:
        reason = "The cluster has no paas settings yet"
    except ClusterError as exc:
        reason = f"No cluster answered ({exc.message.rstrip('.')})"
        kube = None
    defaults = ClusterSettings()
    on_info(
        f"{reason}: using the local default settings (registry `{defaults.registry}`, "
        f"domain `{defaults.domain}`); run `paas cluster init` on the cluster, or pass "
        "`--settings FILE`."
    )
    return defaults, kube


def write_settings(kube: Kube, settings: ClusterSettings) -> None:
    """Store `settings` for everyone who deploys to this cluster."""
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": SYSTEM_NAMESPACE, "labels": dict(MANAGED)},
        }
    )
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": SETTINGS_NAME,
                "namespace": SYSTEM_NAMESPACE,
                "labels": dict(MANAGED),
            },
            "data": {"settings.json": settings.model_dump_json(indent=2)},
        }
    )


# ---- release records


def _record_name(version: int) -> str:
    return f"release-v{version}"


def _encode(value: Any) -> str:
    return base64.b64encode(gzip.compress(json.dumps(value).encode(), 6)).decode()


def _decode(data: str) -> Any:
    return json.loads(gzip.decompress(base64.b64decode(data)))


def save_release(
    kube: Kube,
    namespace: str,
    record: ReleaseRecord,
    objects: list[Obj] | None = None,
    *,
    create: bool = False,
) -> None:
    """Write a release record; with `create`, fail if that version exists already.

    Raises:
        BusyError: `create` and the version was taken by another client at once.
    """
    data = {"release.json.gz": _encode(record.model_dump(mode="json"))}
    if objects is not None:
        data["objects.json.gz"] = _encode(objects)
    secret: Obj = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": RELEASE_TYPE,
        "metadata": {
            "name": _record_name(record.version),
            "namespace": namespace,
            "labels": {
                **MANAGED,
                "paas.dev/app": record.app.name,
                "paas.dev/kind": "release",
                "paas.dev/release": record.name,
            },
            "annotations": {"paas.dev/status": record.status},
        },
        "data": data,
    }
    if create:
        try:
            kube.create(secret)
        except KubeApiError as exc:
            if exc.status == 409:
                raise BusyError(
                    f"release {record.name} was just created by someone else",
                    "Run the command again.",
                ) from None
            raise
        return
    if objects is None:  # keep the stored objects: patch only the record
        kube.merge_patch(
            "v1",
            "Secret",
            namespace,
            _record_name(record.version),
            {"data": data, "metadata": {"annotations": {"paas.dev/status": record.status}}},
        )
    else:
        kube.apply(secret)


def list_releases(kube: Kube, namespace: str) -> list[ReleaseRecord]:
    """Every recorded release of the app in `namespace`, oldest first."""
    secrets = kube.list("v1", "Secret", namespace, selector="paas.dev/kind=release")
    records = [
        ReleaseRecord.model_validate(_decode(s["data"]["release.json.gz"]))
        for s in secrets
        if s.get("type") == RELEASE_TYPE
    ]
    return sorted(records, key=lambda r: r.version)


def release_objects(kube: Kube, namespace: str, version: int) -> list[Obj]:
    """The objects release `version` applied.

    Raises:
        NotFoundError: no such release (or it was pruned from the history).
    """
    secret = kube.get("v1", "Secret", namespace, _record_name(version))
    if secret is None or "objects.json.gz" not in secret.get("data", {}):
        raise NotFoundError(
            f"release v{version} is not in the history", "See `paas releases` for the ones kept."
        )
    objects: list[Obj] = _decode(secret["data"]["objects.json.gz"])
    return objects


def delete_release(kube: Kube, namespace: str, version: int) -> None:
    """Forget release `version` (history pruning)."""
    kube.delete("v1", "Secret", namespace, _record_name(version))


# ---- the app lock


def _expired(lease: Obj) -> bool:
    spec = lease.get("spec", {})
    if not spec.get("holderIdentity"):
        return True
    renewed = spec.get("renewTime") or spec.get("acquireTime")
    if not renewed:
        return True
    return bool(seconds_since(renewed) > spec.get("leaseDurationSeconds", LEASE_SECONDS))


@contextmanager
def app_lock(
    kube: Kube,
    namespace: str,
    holder: str,
    *,
    wait: float = 300,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the app's Lease while the block runs; wait up to `wait` seconds for it.

    The Lease is renewed in the background, so a long push keeps it, and a
    client that died loses it after LEASE_SECONDS.

    Raises:
        BusyError: someone else held it for longer than `wait`.
    """
    deadline = time.monotonic() + wait
    told = False
    while True:
        lease = _try_acquire(kube, namespace, holder)
        if lease is None:
            break
        if time.monotonic() > deadline:
            other = lease["spec"].get("holderIdentity", "someone")
            raise BusyError(
                f"the app is busy: {other} holds its lock",
                "Wait for that operation to end, then run the command again.",
            )
        if not told and on_wait:
            on_wait(str(lease["spec"].get("holderIdentity", "someone")))
            told = True
        time.sleep(1)
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(kube, namespace, holder, stop), daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=5)
        _release(kube, namespace, holder)


def _lease(namespace: str, holder: str, resource_version: str | None = None) -> Obj:
    now = timestamp(micro=True)
    meta: Obj = {"name": LOCK_NAME, "namespace": namespace, "labels": dict(MANAGED)}
    if resource_version:
        meta["resourceVersion"] = resource_version
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": meta,
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": LEASE_SECONDS,
            "acquireTime": now,
            "renewTime": now,
        },
    }


def _try_acquire(kube: Kube, namespace: str, holder: str) -> Obj | None:
    """Take the lock; return None when taken, or the Lease that someone else holds."""
    lease = kube.get("coordination.k8s.io/v1", "Lease", namespace, LOCK_NAME)
    try:
        if lease is None:
            kube.create(_lease(namespace, holder))
            return None
        if _expired(lease) or lease["spec"].get("holderIdentity") == holder:
            kube.replace(_lease(namespace, holder, lease["metadata"]["resourceVersion"]))
            return None
    except KubeApiError as exc:
        if exc.status == 409:  # someone was faster
            return kube.get("coordination.k8s.io/v1", "Lease", namespace, LOCK_NAME) or {
                "spec": {"holderIdentity": "someone"}
            }
        raise
    return lease


def _renew(kube: Kube, namespace: str, holder: str, stop: threading.Event) -> None:
    """Renew the Lease every third of its duration while `holder` still holds it."""
    while not stop.wait(LEASE_SECONDS / 3):
        try:
            lease = kube.get("coordination.k8s.io/v1", "Lease", namespace, LOCK_NAME)
            if lease is None or lease["spec"].get("holderIdentity") != holder:
                return  # lost (it expired and someone took it): never renew theirs
            lease["spec"]["renewTime"] = timestamp(micro=True)
            kube.replace(lease)  # refused (409) if it changed since the read
        except ClusterError:
            continue  # try again next period; the lease lasts three periods


def _release(kube: Kube, namespace: str, holder: str) -> None:
    lease = kube.get("coordination.k8s.io/v1", "Lease", namespace, LOCK_NAME)
    if lease and lease["spec"].get("holderIdentity") == holder:
        lease["spec"]["holderIdentity"] = ""
        with contextlib.suppress(ClusterError):  # else it expires by itself
            kube.replace(lease)
