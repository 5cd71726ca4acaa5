"""What paas keeps in the cluster: cluster settings, release records and the app lock.

- Cluster settings: ConfigMap `paas-settings` in namespace `paas-system`.
- Release records: one Secret `release-vN` per release in the app's namespace
  (it holds config values), gzip-compressed JSON.
- The app lock: Lease `paas-lock` in the app's namespace, renewed while held.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paas.errors import BusyError, ClusterError, NotFoundError, PaasError
from paas.kube.api import Kube, KubeApiError, resource_path, timestamp
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
#
# A Lease per app, as client-go's leader election uses one. Expiry is never
# judged by comparing the holder's renewTime with this machine's clock (two
# clocks more than a lease apart would let two commands hold it): a waiter
# notes, on its own monotonic clock, when it last saw the Lease change (holder,
# renewTime or resourceVersion), and takes it only when it stayed unchanged for
# a whole lease duration measured here. The holder renews every RENEW_SECONDS
# and counts the lease lost when it could not renew within RENEW_DEADLINE
# (shorter than the duration, so it stops before a waiter can take over), or
# when it sees another holder or no Lease at all. The deploy checks
# `AppLock.check()` between its steps and while it waits for a rollout (fencing).

LOCK_KIND = ("coordination.k8s.io/v1", "Lease")
RENEW_SECONDS = 5.0
RENEW_DEADLINE = 20.0
LOCK_REQUEST_SECONDS = 5.0
POLL_SECONDS = 1.0


class LockLostError(BusyError):
    """The app's lock was taken from this command while it worked (fencing).

    Attributes:
        doing: What the command was doing when it noticed, like `waiting for the rollout`.
    """

    def __init__(self, message: str, hint: str = "", *, doing: str = "") -> None:
        super().__init__(message, hint)
        self.doing = doing


@dataclass(frozen=True)
class Sighting:
    """What a waiter last saw of the Lease, and when on its own monotonic clock it changed."""

    key: tuple[str, str, str]
    changed_at: float


def lease_key(lease: Obj) -> tuple[str, str, str]:
    """What changes when a holder renews or takes the Lease: holder, renewTime, resourceVersion."""
    spec = lease.get("spec") or {}
    return (
        str(spec.get("holderIdentity") or ""),
        str(spec.get("renewTime") or spec.get("acquireTime") or ""),
        str((lease.get("metadata") or {}).get("resourceVersion") or ""),
    )


def observe(previous: Sighting | None, lease: Obj, now: float) -> Sighting:
    """The sighting after reading `lease` at monotonic time `now`: kept while it is unchanged."""
    key = lease_key(lease)
    if previous is not None and previous.key == key:
        return previous
    return Sighting(key, now)


def lease_expired(sighting: Sighting, lease: Obj, now: float) -> bool:
    """Whether a waiter may take `lease`: nobody holds it, or it went unchanged for its duration.

    Only the waiter's own clock is used (`now` and `sighting.changed_at` are
    monotonic readings here), never the holder's renewTime as a time.
    """
    spec = lease.get("spec") or {}
    if not spec.get("holderIdentity"):
        return True
    duration = spec.get("leaseDurationSeconds") or LEASE_SECONDS
    return now - sighting.changed_at >= float(duration)


def lost_reason(
    lease: Obj | None, holder: str, last_renewed: float, now: float, *, deadline: float
) -> str:
    """Why `holder` no longer holds the lock ("" while it does); `now` and `last_renewed` monotonic.

    `last_renewed` is when the last successful renewal was sent (or the lock taken).
    """
    if lease is None:
        return "its Lease was deleted"
    other = (lease.get("spec") or {}).get("holderIdentity") or ""
    if other != holder:
        return "another operation took it" if other else "someone else released it"
    if now - last_renewed > deadline:
        return f"it could not be renewed for {int(now - last_renewed)} s"
    return ""


class AppLock:
    """A held app lock: the renewer's state, and the fence the deploy checks.

    Attributes:
        app: The app, for messages.
        holder: This command's identity in the Lease.
        previous_holder: Whose expired lease this one took over ("" when it was free).
    """

    def __init__(
        self,
        kube: Kube,
        namespace: str,
        holder: str,
        *,
        app: str,
        previous_holder: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.holder = holder
        self.app = app
        self.previous_holder = previous_holder
        self.clock = clock
        self.last_renewed = clock()
        # The Lease's resourceVersion as this lock last wrote it: while the Lease still has
        # it, nobody else wrote it since, so the lock is still ours however long ago that was.
        self.version = ""
        self.lost = ""  # why it was lost; "" while held
        self.taken_by = ""
        self.stop = threading.Event()

    def check(self, doing: str) -> None:
        """Fail when the lock was lost; `doing` says what the command was doing, for the message.

        Raises:
            LockLostError: another operation took the lock, or it could not be renewed in time.
        """
        if not self.lost and self.clock() - self.last_renewed > RENEW_DEADLINE:
            # Not renewed in time (the API server was away?): the lock is still ours only if
            # the Lease is as this lock last wrote it; a renewal now proves that, or not.
            with suppress(ClusterError):
                self.renew_once()
            if self.clock() - self.last_renewed > RENEW_DEADLINE:
                self.lose(f"it could not be renewed for {int(self.clock() - self.last_renewed)} s")
        if self.lost:
            who = self.taken_by or "another operation"
            raise LockLostError(
                f"lost the lock of app `{self.app}` to {who} while {doing}: {self.lost}",
                "See `paas releases` and `paas ps` for what serves now, and run the command "
                "again once that operation has ended.",
                doing=doing,
            )

    def lose(self, reason: str, taken_by: str = "") -> None:
        """Note that the lock is lost; the deploy stops at its next `check()`."""
        if not self.lost:
            self.lost = reason
            self.taken_by = taken_by

    def renew_once(self) -> None:
        """One renewal: read the Lease, and write a new renewTime if it is still ours."""
        if self.lost:
            return
        started = self.clock()
        lease = self._get()
        untouched = (
            bool(self.version)
            and (lease or {}).get("metadata", {}).get("resourceVersion") == self.version
        )
        reason = lost_reason(
            lease,
            self.holder,
            self.last_renewed,
            started,
            deadline=float("inf") if untouched else RENEW_DEADLINE,
        )
        if reason:
            taken = (lease or {}).get("spec", {}).get("holderIdentity") or ""
            self.lose(reason, taken if taken != self.holder else "")
            return
        assert lease is not None
        lease["spec"]["renewTime"] = timestamp(micro=True)
        try:
            written = self._put(lease)
        except KubeApiError as exc:
            if exc.status != 409:
                raise
            return  # it changed since the read: the next round reads who holds it now
        if written is None:
            self.lose("its Lease was deleted")
            return
        self.version = str(written.get("metadata", {}).get("resourceVersion") or "")
        self.last_renewed = started

    def renew_loop(self) -> None:
        """Renew every RENEW_SECONDS until stopped or lost; never raises (it runs in a thread)."""
        while not self.stop.wait(RENEW_SECONDS):
            try:
                self.renew_once()
            except ClusterError:
                pass  # not reachable now: try again; `check()` counts the time without renewal
            except Exception as exc:  # a thread's traceback would help no one
                self.lose(f"renewing it failed ({type(exc).__name__})")
            if self.lost:
                return

    def release(self) -> None:
        """Free the Lease if it is still ours (else it is someone else's, or expires by itself).

        Raises:
            ClusterError: the cluster refused or could not be reached.
        """
        if self.lost:
            return
        lease = self._get()
        if lease is None or (lease.get("spec") or {}).get("holderIdentity") != self.holder:
            return
        lease["spec"]["holderIdentity"] = ""
        self._put(lease)  # a Lease deleted meanwhile is free already

    def _get(self) -> Obj | None:
        return self.kube.get(*LOCK_KIND, self.namespace, LOCK_NAME, timeout=LOCK_REQUEST_SECONDS)

    def _put(self, lease: Obj) -> Obj | None:
        """Write `lease` back (only over the version read); None when it was deleted since."""
        try:
            written: Obj = self.kube.request(
                "PUT",
                resource_path(*LOCK_KIND, self.namespace, LOCK_NAME),
                body=lease,
                timeout=LOCK_REQUEST_SECONDS,
            )
        except NotFoundError:
            return None
        return written if isinstance(written, dict) else {}


@contextmanager
def app_lock(
    kube: Kube,
    namespace: str,
    holder: str,
    *,
    app: str = "",
    wait: float = 300,
    on_wait: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Iterator[AppLock]:
    """Hold the app's Lease while the block runs; wait up to `wait` seconds for it.

    The Lease is renewed in the background, so a long push keeps it; a client
    that died loses it once its Lease has not changed for LEASE_SECONDS as
    seen here. The block gets the `AppLock`, whose `check()` it calls between
    steps. A failure to free the Lease at the end is reported to `on_warning`
    and never hides the block's own error (the Lease then expires by itself).

    Raises:
        BusyError: someone else held it for longer than `wait`.
    """
    app = app or namespace
    deadline = time.monotonic() + wait
    told = False
    sighting: Sighting | None = None
    while True:
        taken, lease, sighting, version = _try_acquire(kube, namespace, holder, sighting)
        if taken:
            break
        other = str((lease or {}).get("spec", {}).get("holderIdentity") or "")
        if not other and time.monotonic() <= deadline:
            continue  # it was free when read and another took it first: read who did
        if time.monotonic() > deadline:
            raise BusyError(
                f"the app is busy: {other or 'someone'} holds its lock",
                "Wait for that operation to end, then run the command again.",
            )
        if not told and on_wait:
            on_wait(other)
            told = True
        time.sleep(POLL_SECONDS)
    previous = str((lease or {}).get("spec", {}).get("holderIdentity") or "")
    lock = AppLock(
        kube, namespace, holder, app=app, previous_holder="" if previous == holder else previous
    )
    lock.version = version
    renewer = threading.Thread(target=lock.renew_loop, daemon=True, name="paas-lock-renewer")
    renewer.start()
    failed = False
    try:
        yield lock
    except BaseException:
        failed = True
        raise
    finally:
        lock.stop.set()
        renewer.join(timeout=LOCK_REQUEST_SECONDS + 1)
        try:
            lock.release()
        except PaasError as exc:
            if on_warning:
                what = "after the failure above" if failed else "at the end"
                on_warning(
                    f"Could not free the lock of app `{app}` {what} ({exc.message}); "
                    f"it frees itself within {LEASE_SECONDS} s."
                )


def _lease(namespace: str, holder: str, previous: Obj | None = None) -> Obj:
    now = timestamp(micro=True)
    meta: Obj = {"name": LOCK_NAME, "namespace": namespace, "labels": dict(MANAGED)}
    transitions = 0
    if previous is not None:
        meta["resourceVersion"] = previous["metadata"]["resourceVersion"]
        transitions = int((previous.get("spec") or {}).get("leaseTransitions") or 0) + 1
    return {
        "apiVersion": LOCK_KIND[0],
        "kind": LOCK_KIND[1],
        "metadata": meta,
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": LEASE_SECONDS,
            "acquireTime": now,
            "renewTime": now,
            "leaseTransitions": transitions,
        },
    }


def _try_acquire(
    kube: Kube, namespace: str, holder: str, sighting: Sighting | None
) -> tuple[bool, Obj | None, Sighting | None, str]:
    """One try to take the lock: (taken, the Lease as read, the waiter's sighting, our version).

    The version is the resourceVersion of the Lease as this try wrote it ("" if not taken).

    A conflict (someone was faster) is not an error: the caller tries again.
    """
    lease = kube.get(*LOCK_KIND, namespace, LOCK_NAME, timeout=LOCK_REQUEST_SECONDS)
    try:
        if lease is None:
            return True, None, None, _version(kube.create(_lease(namespace, holder)))
        sighting = observe(sighting, lease, time.monotonic())
        mine = (lease.get("spec") or {}).get("holderIdentity") == holder
        if mine or lease_expired(sighting, lease, time.monotonic()):
            written = kube.replace(_lease(namespace, holder, lease))
            return True, lease, sighting, _version(written)
    except NotFoundError:  # deleted between the read and the write
        return False, lease, None, ""
    except KubeApiError as exc:
        if exc.status == 409:  # someone was faster
            return False, lease, sighting, ""
        raise
    return False, lease, sighting, ""


def _version(written: Obj | None) -> str:
    return str(((written or {}).get("metadata") or {}).get("resourceVersion") or "")
