"""The one pipeline every change goes through: record a release, apply it, wait, roll back.

`paas push`, `config set`, `ps scale`, `domains add`, `rollback` and the git
receiver all call `deploy()`; they differ only in what changes (image, config,
formation, domains) and where the output goes (`Events`).

The app keeps serving its last good release through every failure: a failed
release phase applies nothing, a failed rollout re-applies the last good
release's objects, and Ctrl-C does the same before it ends the command.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from paas.errors import PaasError, RolloutError
from paas.kube.api import Kube, timestamp
from paas.kube.claims import check_hosts, check_namespace
from paas.kube.rollout import run_job, wait_for_rollout
from paas.kube.routing import wait_accepted, wait_routed
from paas.kube.store import (
    AppLock,
    LockLostError,
    app_lock,
    delete_release,
    list_releases,
    release_objects,
    save_release,
)
from paas.manifest import AppSpec
from paas.names import object_name
from paas.objects import Obj
from paas.releases import (
    Change,
    Release,
    ReleaseRecord,
    abandoned,
    current,
    next_release,
    to_prune,
)
from paas.render import check_policy, config_secret_name, namespace_object, render
from paas.settings import ClusterSettings

# What paas prunes when a process type, cron job or the web process goes away.
PRUNABLE = (
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("networking.k8s.io/v1", "Ingress"),
    ("policy/v1", "PodDisruptionBudget"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("batch/v1", "CronJob"),
)
#: Listed only on clusters whose settings name a Gateway (elsewhere the kind may not exist).
HTTPROUTE = ("gateway.networking.k8s.io/v1", "HTTPRoute")
ROUTE_KINDS = frozenset({"Ingress", "HTTPRoute"})
FIRST = ("Namespace", "ServiceAccount", "Secret")


@dataclass
class Events:
    """Where the pipeline reports progress; the CLI prints, the git receiver streams."""

    info: Callable[[str], None] = lambda _text: None
    warning: Callable[[str], None] = lambda _text: None
    release_line: Callable[[str], None] = lambda _line: None
    progress: Callable[[str, int, int], None] = lambda _process, _ready, _want: None


@dataclass
class Outcome:
    """What a deploy did."""

    record: ReleaseRecord
    url: str
    unchanged: bool = False
    waited: bool = True  # False: applied with `--no-wait`, the rollout not watched


def app_url(settings: ClusterSettings, app: str) -> str:
    """The app's default URL."""
    scheme = "https" if settings.tls.mode != "none" else "http"
    return f"{scheme}://{settings.app_host(app)}"


def deploy(
    kube: Kube,
    settings: ClusterSettings,
    app_name: str,
    change: Change,
    *,
    author: str,
    events: Events,
    holder: str,
    rollback: bool = True,
    timeout: float = 300,
    lock_wait: float = 300,
    wait: bool = True,
) -> Outcome:
    """Make and roll out the release `change` makes of `app_name` (see `next_release()`).

    The I/O around the decision: take the app's lock, read its history, decide,
    render, record, run the release phase, apply, wait, and roll back on failure.
    With `wait` False the release succeeds once it is applied (the release phase
    still gates it); the rollout goes on without anyone to roll it back.

    Raises:
        ManifestError: required config is missing.
        ReleasePhaseError: the release phase failed; nothing was rolled out.
        RolloutError: the new release did not become ready (and was rolled back).
        BusyError: another change held the app's lock for longer than `lock_wait`.
        LockLostError: another operation took the lock mid-deploy (fencing); the
            release is marked failed and nothing more is applied.
    """
    namespace = settings.namespace(app_name)
    if change.app is not None:
        check_policy(change.app, settings)  # before anything is applied
    check_namespace(kube, app_name, namespace)
    if change.app is not None:  # maybe a first deploy: the lock lives in the namespace
        kube.apply(namespace_object(app_name, namespace))
    with app_lock(
        kube,
        namespace,
        holder,
        app=app_name,
        wait=lock_wait,
        on_wait=lambda who: events.info(f"Waiting for {who} to finish..."),
        on_warning=events.warning,
    ) as lock:
        history = list_releases(kube, namespace)
        _fail_abandoned(kube, namespace, history, lock, events)
        last = current(history)
        record = next_release(
            history,
            change,
            app_name=app_name,
            author=author,
            now=timestamp(),
            new_secret=lambda: secrets.token_hex(32),
        )
        if record is None:
            assert last is not None  # nothing changed, so there is a release
            return Outcome(last, app_url(settings, app_name), unchanged=True)
        objects = render(record.app, record.release(), settings)
        check_hosts(kube, app_name, namespace, objects, gateway=bool(settings.gateway))
        lock.check("recording the release")
        save_release(kube, namespace, record, objects, create=True)
        events.info(f"Release {record.name}: {record.description}")
        with _naming(record):
            return _carry_out(
                kube,
                settings,
                app_name,
                namespace,
                record,
                objects,
                history,
                last,
                events,
                lock,
                rollback=rollback,
                timeout=timeout,
                wait=wait,
            )


@contextlib.contextmanager
def _naming(record: ReleaseRecord) -> Iterator[None]:
    """Errors from here on name the release they failed (`--json` reports it)."""
    try:
        yield
    except PaasError as error:
        error.release = error.release or record.name
        raise


def _carry_out(
    kube: Kube,
    settings: ClusterSettings,
    app_name: str,
    namespace: str,
    record: ReleaseRecord,
    objects: list[Obj],
    history: list[ReleaseRecord],
    last: ReleaseRecord | None,
    events: Events,
    lock: AppLock,
    *,
    rollback: bool,
    timeout: float,
    wait: bool = True,
) -> Outcome:
    """Roll out the recorded `record`, mark how it went, roll back on failure."""
    app = record.app
    release = record.release()
    try:
        _roll_out(
            kube,
            namespace,
            app,
            release,
            objects,
            record,
            events,
            lock,
            timeout=timeout,
            wait=wait,
            settle=settings.router_settle_seconds,
            gateway=bool(settings.gateway),
        )
    except (RolloutError, KeyboardInterrupt) as failure:
        _fail(kube, namespace, record, failure)
        if lock.lost:  # another operation owns the app now: roll nothing back
            raise _lost(lock, "the rollout failed", record) from failure
        target = (
            _rollback(kube, namespace, last, events, app_name)
            if (rollback and last is not None)
            else ""
        )
        if isinstance(failure, RolloutError) and target:
            failure.hint = f"Rolled back to {target}, which is serving again. {failure.hint}"
        raise
    except LockLostError as failure:
        _fail(kube, namespace, record, failure)
        raise _lost(lock, failure.doing, record) from None
    except Exception as failure:
        _fail(kube, namespace, record, failure)
        raise
    try:
        lock.check("marking the release succeeded")
    except LockLostError as failure:
        _fail(kube, namespace, record, failure)
        raise _lost(lock, failure.doing, record) from None
    record.status = "succeeded"
    save_release(kube, namespace, record)
    kube.merge_patch(
        "v1",
        "Namespace",
        None,
        namespace,
        {"metadata": {"annotations": {"paas.dev/current-release": record.name}}},
    )
    _prune_history(kube, namespace, app_name, [*history, record], settings.history)
    postdeploy = [
        o
        for o in objects
        if o["kind"] == "Job" and o["metadata"]["labels"].get("paas.dev/process") == "postdeploy"
    ]
    for job in postdeploy:
        events.info("Running the postdeploy script...")
        run_job(kube, job, on_line=events.release_line)
    return Outcome(record, app_url(settings, app_name), waited=wait)


def _lost(lock: AppLock, doing: str, record: ReleaseRecord) -> LockLostError:
    """The error a deploy ends with when its lock was taken: what was done, what was not."""
    who = lock.taken_by or "another operation"
    return LockLostError(
        f"lost the lock of app `{lock.app}` to {who} while {doing}: "
        f"{lock.lost or 'another operation took it'}; nothing more was applied, "
        f"release {record.name} marked failed",
        "See `paas releases` and `paas ps` for what serves now, and run the command again "
        "once that operation has ended.",
        doing=doing,
    )


def _fail_abandoned(
    kube: Kube, namespace: str, history: list[ReleaseRecord], lock: AppLock, events: Events
) -> None:
    """Mark failed the pending releases of commands that died or lost the lock mid-deploy.

    Under the lock no other command is deploying, so a pending release is one
    whose command stopped before it could record how it went.
    """
    for record in abandoned(history):
        record.status = "failed"
        record.failure = (
            f"abandoned: {lock.previous_holder} stopped renewing the app's lock before it ended"
            if lock.previous_holder
            else "abandoned: its command ended before recording how it went"
        )
        try:
            save_release(kube, namespace, record)
        except PaasError as exc:
            events.warning(f"Could not mark {record.name} failed: {exc.message}")
            continue
        events.info(f"Marked {record.name} failed: {record.failure}.")


def _roll_out(
    kube: Kube,
    namespace: str,
    app: AppSpec,
    release: Release,
    objects: list[Obj],
    record: ReleaseRecord,
    events: Events,
    lock: AppLock,
    *,
    timeout: float,
    wait: bool = True,
    settle: float = 0.0,
    gateway: bool = False,
) -> None:
    first = [o for o in objects if o["kind"] in FIRST]
    jobs = [o for o in objects if o["kind"] == "Job"]
    rest = [o for o in objects if o["kind"] not in FIRST and o["kind"] != "Job"]
    lock.check("applying the release")
    apply_objects(kube, first)
    release_jobs = [j for j in jobs if j["metadata"]["labels"].get("paas.dev/process") == "release"]
    if release_jobs and record.pod_version is None:
        events.info(f"Running the release phase: {app.release_command}")
        run_job(kube, release_jobs[0], on_line=events.release_line)
        lock.check("running the release phase")
    lock.check("applying the release")
    apply_objects(kube, rest)
    old_routes = _prune_objects(kube, namespace, app.name, objects, gateway=gateway)
    deployments = [o["metadata"]["name"] for o in rest if o["kind"] == "Deployment"]
    services = [o["metadata"]["name"] for o in rest if o["kind"] == "Service"]
    if not wait:
        return

    def progress(process: str, ready: int, want: int) -> None:
        lock.check("waiting for the rollout")  # polled once a second: the fence
        events.progress(process, ready, want)

    wait_for_rollout(
        kube,
        namespace,
        app.name,
        release.pod_name,
        deployments,
        timeout=timeout,
        progress=progress,
        on_outage=events.warning,
    )
    if services and record.pod_version is None:  # new pods: live once routed to
        lock.check("waiting for the router")
        if not wait_routed(kube, namespace, app.name, release.pod_name, services, settle=settle):
            events.info("Routing follows: the router still lists pods of the last release.")
    _switch_routes(kube, namespace, old_routes, rest, events, settle)


def apply_objects(kube: Kube, objects: list[Obj]) -> None:
    """Apply in order; an immutable Secret that exists already is left as it is.

    Config Secrets never change once made (a release's config is fixed), and the
    API server refuses even a no-op apply of one that was written differently.
    """
    for obj in objects:
        if obj["kind"] == "Secret" and obj.get("immutable"):
            meta = obj["metadata"]
            if kube.get("v1", "Secret", meta["namespace"], meta["name"]) is not None:
                continue
        kube.apply(obj)


def _stale_objects(
    kube: Kube, namespace: str, app: str, keep: list[Obj], *, gateway: bool = False
) -> list[Obj]:
    """The app's prunable objects in the cluster that `keep` does not have."""
    wanted = {(o["kind"], o["metadata"]["name"]) for o in keep}
    selector = f"paas.dev/app={app},app.kubernetes.io/managed-by=paas"
    kinds = (
        (*PRUNABLE, HTTPROUTE)
        if gateway or any(o["kind"] == "HTTPRoute" for o in keep)
        else PRUNABLE
    )
    return [
        obj
        for api_version, kind in kinds
        for obj in kube.list(api_version, kind, namespace, selector=selector)
        if (kind, obj["metadata"]["name"]) not in wanted
    ]


def _prune_objects(
    kube: Kube, namespace: str, app: str, keep: list[Obj], *, gateway: bool = False
) -> list[Obj]:
    """Delete what `keep` no longer has, except a route of the other kind; return those routes.

    While an app moves between an Ingress and an HTTPRoute both stay, so that
    requests keep arriving until the new route is accepted (`_switch_routes`).
    """
    new_routes = {o["kind"] for o in keep if o["kind"] in ROUTE_KINDS}
    kept = []
    for obj in _stale_objects(kube, namespace, app, keep, gateway=gateway):
        if new_routes and obj["kind"] in ROUTE_KINDS and obj["kind"] not in new_routes:
            kept.append(obj)
            continue
        kube.delete(obj["apiVersion"], obj["kind"], namespace, obj["metadata"]["name"])
    return kept


def _switch_routes(
    kube: Kube, namespace: str, old: list[Obj], objects: list[Obj], events: Events, settle: float
) -> None:
    """Delete the `old` routes once the new route in `objects` is accepted and settled."""
    if not old:
        return
    new = next(o for o in objects if o["kind"] in ROUTE_KINDS)
    if not wait_accepted(kube, new, settle=settle):
        events.warning(
            f"The router has not accepted the new {new['kind']} yet; the "
            f"{old[0]['kind']} stays until a later change, so requests keep arriving."
        )
        return
    for obj in old:
        kube.delete(obj["apiVersion"], obj["kind"], namespace, obj["metadata"]["name"])
    events.info(f"Routed by the {new['kind']} now; removed the {old[0]['kind']}.")


def _fail(kube: Kube, namespace: str, record: ReleaseRecord, failure: BaseException) -> None:
    record.status = "failed"
    record.failure = (
        "interrupted"
        if isinstance(failure, KeyboardInterrupt)
        else str(getattr(failure, "message", failure))
    )
    with contextlib.suppress(PaasError):  # the failure matters more than its record
        save_release(kube, namespace, record)


def _rollback(
    kube: Kube,
    namespace: str,
    last: ReleaseRecord,
    events: Events,
    app_name: str,
) -> str:
    """Re-apply the last good release's objects; return its name, or "" when impossible."""
    events.info(f"Rolling back to {last.name}...")
    objects = [o for o in release_objects(kube, namespace, last.version) if o["kind"] != "Job"]
    apply_objects(kube, objects)
    _prune_objects(kube, namespace, app_name, objects)
    deployments = [o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"]
    try:
        wait_for_rollout(
            kube, namespace, app_name, last.release().pod_name, deployments, timeout=120
        )
    except RolloutError as exc:
        events.info(f"The rollback to {last.name} did not become ready either: {exc.message}")
    return last.name


def _prune_history(
    kube: Kube, namespace: str, app: str, history: list[ReleaseRecord], keep: int
) -> None:
    live = current(history)
    for old in to_prune(history, keep):
        delete_release(kube, namespace, old.version)
        pods_release = old.release()
        if live is None or pods_release.pod_name != live.release().pod_name:
            kube.delete("v1", "Secret", namespace, config_secret_name(app, pods_release))
        kube.delete(
            "batch/v1", "Job", namespace, object_name(app, "release", pods_release.pod_name)
        )


@dataclass(frozen=True)
class Plan:
    """What a change would do now, decided exactly as `deploy()` decides it; nothing changes.

    Attributes:
        record: The release the change would make; the current one when it changes nothing.
        unchanged: The change would make no release.
        objects: Every object `render()` gives for `record` (release Jobs included).
        prune: The app's live objects that applying `objects` would delete.
    """

    record: ReleaseRecord
    unchanged: bool
    objects: list[Obj]
    prune: list[Obj]


def app_history(kube: Kube, settings: ClusterSettings, app_name: str) -> list[ReleaseRecord]:
    """The app's release records, oldest first; none when the app does not exist."""
    namespace = settings.namespace(app_name)
    if kube.get("v1", "Namespace", None, namespace) is None:
        return []
    return list_releases(kube, namespace)


def plan_change(
    kube: Kube,
    settings: ClusterSettings,
    app_name: str,
    change: Change,
    *,
    history: list[ReleaseRecord],
) -> Plan:
    """What `deploy()` of `change` on `history` would record and apply now (diff, render --next).

    Raises:
        ManifestError: as `next_release()` does.
    """
    last = current(history)
    record = next_release(
        history,
        change,
        app_name=app_name,
        author="",
        now=timestamp(),
        new_secret=lambda: secrets.token_hex(32),
    )
    unchanged = record is None
    if record is None:
        assert last is not None  # nothing changed, so there is a release
        record = last
    objects = render(record.app, record.release(), settings)
    prune = _stale_objects(kube, settings.namespace(app_name), app_name, objects) if history else []
    return Plan(record, unchanged, objects, prune)
