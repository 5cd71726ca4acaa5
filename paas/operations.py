"""What app developers do every day (config, scale, domains, rollback, apps, ps), over the cluster.

Each is one function the CLI calls and prints. Every change that Heroku would
record as a release is a `Change` that goes through `paas.deploy.deploy()`
(and its one decision, `paas.releases.next_release()`); the rest only reads.
"""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paas.arguments import check_host
from paas.deploy import Events, Outcome, deploy
from paas.errors import NotFoundError, UsageError
from paas.kube.api import Kube, seconds_since, timestamp
from paas.kube.store import list_releases
from paas.names import BUILD_FOR_LABEL, build_namespace, object_name
from paas.objects import Obj
from paas.releases import (
    Change,
    ReleaseRecord,
    current,
    find_release,
    purge_keys,
    rollback_change,
    rollback_target,
)
from paas.render import namespace_object
from paas.settings import ClusterSettings


@dataclass
class Session:
    """A cluster, its settings, and who is acting.

    `who` is asked only when a change is recorded, so read-only commands run no
    `git config`.
    """

    kube: Kube
    settings: ClusterSettings
    who: Callable[[], str]
    events: Events
    lock_wait: float = 300
    timeout: float = 300
    wait: bool = True  # False: `--no-wait`, a change ends once applied

    def deploy(self, app: str, change: Change, *, rollback: bool = True) -> Outcome:
        """Run the pipeline for one change of `app`."""
        return deploy(
            self.kube,
            self.settings,
            app,
            change,
            author=self.author,
            events=self.events,
            # Unique per command, so two changes by one person still take turns.
            holder=f"{self.author} ({change.kind} {secrets.token_hex(3)})",
            rollback=rollback,
            timeout=self.timeout,
            lock_wait=self.lock_wait,
            wait=self.wait,
        )

    @functools.cached_property
    def author(self) -> str:
        """Who is acting, for release records and the lock."""
        return self.who()

    def history(self, app: str) -> list[ReleaseRecord]:
        """The app's releases, oldest first.

        Raises:
            NotFoundError: no such app.
        """
        from paas.kube.claims import check_namespace

        namespace = self.settings.namespace(app)
        if check_namespace(self.kube, app, namespace) is None:
            raise NotFoundError(
                f"there is no app `{app}`", "See `paas apps`, or create it with `paas apps create`."
            )
        return list_releases(self.kube, namespace)

    def current(self, app: str) -> ReleaseRecord:
        """The release serving now.

        Raises:
            NotFoundError: no such app, or it has no successful release.
        """
        live = current(self.history(app))
        if live is None:
            raise NotFoundError(f"app `{app}` has no release yet", "Deploy it with `paas push`.")
        return live

    def change(
        self, app: str, make: Callable[[ReleaseRecord], Change], *, rollback: bool = True
    ) -> Outcome:
        """Make a change from the release serving now, and again under the app's lock.

        `make` checks the change (its errors come before any waiting) and
        builds the request; under the app's lock it runs once more on the
        release that is current then, so a change that landed meanwhile is kept.
        """
        request = make(self.current(app))
        request.rebase = make
        return self.deploy(app, request, rollback=rollback)


# ---- config


def set_config(session: Session, app: str, values: dict[str, str]) -> Outcome:
    """Set config vars: a new release and a rolling restart."""
    names = ", ".join(sorted(values))
    return session.change(
        app, lambda live: Change("config", f"Set {names}", config={**live.config, **values})
    )


def unset_config(
    session: Session, app: str, keys: list[str], *, purge: bool = False
) -> Outcome | None:
    """Remove config vars: a new release and a rolling restart.

    With `purge`, keys that are set already nowhere but in the history are
    not an error, and no release is made when none of `keys` is set now
    (`purge_config()` then cleans the history); None is returned then.

    Raises:
        NotFoundError: one of `keys` is not set (without `purge`).
    """
    if purge and not any(k in session.current(app).config for k in keys):
        return None

    def make(live: ReleaseRecord) -> Change:
        config = dict(live.config)
        missing = [k for k in keys if k not in config]
        if missing and not purge:
            raise NotFoundError(
                f"config var `{missing[0]}` is not set on `{app}`",
                "See `paas config` for the ones that are.",
            )
        for key in keys:
            config.pop(key, None)
        return Change("config", f"Unset {', '.join(keys)}", config=config)

    return session.change(app, make)


def purge_config(session: Session, app: str, keys: list[str]) -> int:
    """Remove config vars `keys` from every release in the history; return how many were rewritten.

    For each release record that holds one of them: the record's config, the
    config Secret among its stored objects, and its own config Secret in the
    namespace (deleted; only the pods of the release serving now use theirs,
    and that one no longer holds the keys). Done under the app's lock, so no
    deploy reads the history meanwhile. A rollback to a purged release then
    runs without those keys.

    Raises:
        UsageError: the release serving now still has one of `keys` (unset it first).
    """
    from paas.kube.store import app_lock, release_objects, save_release
    from paas.render import config_secret_name

    namespace = session.settings.namespace(app)
    holder = f"{session.author} (purge {secrets.token_hex(3)})"
    rewritten = 0
    with app_lock(
        session.kube,
        namespace,
        holder,
        app=app,
        wait=session.lock_wait,
        on_wait=lambda who: session.events.info(f"Waiting for {who} to finish..."),
        on_warning=session.events.warning,
    ) as lock:
        history = session.history(app)
        live = current(history)
        still = [k for k in keys if live is not None and k in live.config]
        if still:
            raise UsageError(
                f"config var `{still[0]}` is still set on `{app}`",
                f"Unset it first: `paas config unset {still[0]} --purge --app {app}`.",
            )
        live_pods = live.release().pod_name if live is not None else None
        for record in history:
            if not any(k in record.config for k in keys):
                continue
            lock.check("purging the release history")
            secret_name = config_secret_name(app, record.release())
            stored = release_objects(session.kube, namespace, record.version)
            purged, objects = purge_keys(record, stored, keys, secret_name)
            save_release(session.kube, namespace, purged, objects)
            if purged.release().pod_name != live_pods:
                session.kube.delete("v1", "Secret", namespace, secret_name)
            rewritten += 1
    return rewritten


# ---- formation


def scale(session: Session, app: str, formation: dict[str, int]) -> Outcome:
    """Change replica counts: a release that restarts nothing.

    Raises:
        NotFoundError: a process type the app does not have.
    """
    described = ", ".join(f"{k}={v}" for k, v in formation.items())

    def make(live: ReleaseRecord) -> Change:
        processes = dict(live.app.processes)
        for name, count in formation.items():
            if name not in processes:
                known = ", ".join(f"`{p}`" for p in processes)
                raise NotFoundError(
                    f"app `{app}` has no process type `{name}`", f"Its process types are {known}."
                )
            autoscale = processes[name].autoscale
            if autoscale is not None:
                raise UsageError(
                    f"process type `{name}` is autoscaled (min {autoscale.min}, max "
                    f"{autoscale.max}): the HorizontalPodAutoscaler sets its pods",
                    "Change `autoscale.min` and `autoscale.max` for it in paas.yaml and push, "
                    "or remove `autoscale` to scale it by hand.",
                )
            processes[name] = processes[name].model_copy(update={"replicas": count})
        spec = live.app.model_copy(update={"processes": processes})
        return Change("scale", f"Scale {described}", app=spec, restart_pods=False)

    return session.change(app, make)


def restart(session: Session, app: str, process: str | None = None) -> list[str]:
    """Restart the pods of one process type, or all, with a rolling restart (no release).

    Returns:
        The Deployments restarted.
    """
    live = session.current(app)
    namespace = session.settings.namespace(app)
    names = [p for p in live.app.processes if process in (None, p)]
    if process is not None and not names:
        raise NotFoundError(f"app `{app}` has no process type `{process}`")
    stamp = timestamp()
    restarted = []
    for name in names:
        deployment = object_name(app, name)
        session.kube.merge_patch(
            "apps/v1",
            "Deployment",
            namespace,
            deployment,
            {"spec": {"template": {"metadata": {"annotations": {"paas.dev/restarted-at": stamp}}}}},
        )
        restarted.append(deployment)
    return restarted


# ---- domains


def add_domain(session: Session, app: str, host: str) -> Outcome:
    """Add a custom domain to the app's Ingress (a release; restarts nothing).

    Raises:
        UsageError: `host` is not a host name, or the app has it already.
    """
    check_host(host)

    def make(live: ReleaseRecord) -> Change:
        if host in live.app.domains:
            raise UsageError(f"`{host}` is already a domain of `{app}`")
        spec = live.app.model_copy(update={"domains": (*live.app.domains, host)})
        return Change("domains", f"Add domain {host}", app=spec, restart_pods=False)

    return session.change(app, make)


def remove_domain(session: Session, app: str, host: str) -> Outcome:
    """Remove a custom domain (a release; restarts nothing)."""

    def make(live: ReleaseRecord) -> Change:
        if host not in live.app.domains:
            raise NotFoundError(
                f"`{host}` is not a domain of `{app}`", "See `paas domains` for the ones it has."
            )
        domains = tuple(d for d in live.app.domains if d != host)
        spec = live.app.model_copy(update={"domains": domains})
        return Change("domains", f"Remove domain {host}", app=spec, restart_pods=False)

    return session.change(app, make)


# ---- releases


def rollback(session: Session, app: str, version: int | None) -> Outcome:
    """Make a new release from an earlier one's image, config and spec.

    Raises:
        NotFoundError: no such release, or nothing earlier to go back to.
    """
    history = session.history(app)
    live = current(history)
    target = (
        rollback_target(history, app) if version is None else find_release(history, app, version)
    )
    session.events.info(
        f"Rolling back to {target.name} ({target.description}, {target.created or 'no date'})..."
    )

    def make(live: ReleaseRecord | None) -> Change:
        return rollback_change(target, live)

    request = make(live)
    if live is not None:
        request.rebase = make
    return session.deploy(app, request)


# ---- apps


def create_app(session: Session, app: str) -> str:
    """Create the app's namespace; return it.

    Raises:
        UsageError: the app exists already.
    """
    namespace = session.settings.namespace(app)
    if session.kube.get("v1", "Namespace", None, namespace) is not None:
        raise UsageError(f"app `{app}` exists already", "Pick another name, or `paas push` to it.")
    session.kube.apply(namespace_object(app, namespace))
    return namespace


def destroy_app(session: Session, app: str) -> None:
    """Delete everything paas made for `app`: its namespace, which holds nothing else.

    Raises:
        NotFoundError: no such app.
        UsageError: the namespace was not made by paas.
    """
    from paas.kube.claims import check_namespace

    namespace = session.settings.namespace(app)
    if check_namespace(session.kube, app, namespace) is None:
        raise NotFoundError(f"there is no app `{app}`")
    session.kube.delete("v1", "Namespace", None, namespace)
    # Where its Dockerfile builds ran (Pod Security "baseline"), if they did.
    builds = session.kube.get("v1", "Namespace", None, build_namespace(namespace))
    if builds is not None and builds["metadata"].get("labels", {}).get(BUILD_FOR_LABEL) == app:
        session.kube.delete("v1", "Namespace", None, build_namespace(namespace))


def process_status(
    session: Session, app: str, live: ReleaseRecord | None = None
) -> list[dict[str, Any]]:
    """Each process type: desired and ready replicas, release, and each pod's state.

    `live` is the app's current release when the caller has read it already.
    """
    namespace = session.settings.namespace(app)
    live = live or session.current(app)
    selector = f"paas.dev/app={app},app.kubernetes.io/managed-by=paas"
    deployments = {
        d["metadata"]["labels"].get("paas.dev/process"): d
        for d in session.kube.list("apps/v1", "Deployment", namespace, selector=selector)
    }
    pods = session.kube.list("v1", "Pod", namespace, selector=f"paas.dev/app={app}")
    hpas: dict[str, Obj] = {}
    if any(p.autoscale for p in live.app.processes.values()):
        hpas = {
            h["metadata"]["labels"].get("paas.dev/process"): h
            for h in session.kube.list(
                "autoscaling/v2", "HorizontalPodAutoscaler", namespace, selector=selector
            )
        }
    now = time.time()
    out = []
    for name in live.app.processes:
        deployment: Obj = deployments.get(name) or {}
        status = deployment.get("status", {})
        out.append(
            {
                "process": name,
                "desired": deployment.get("spec", {}).get("replicas", 0),
                "ready": status.get("readyReplicas", 0),
                "release": deployment.get("metadata", {})
                .get("labels", {})
                .get("paas.dev/release", ""),
                "pods": [
                    _pod_row(p, now)
                    for p in pods
                    if p["metadata"]["labels"].get("paas.dev/process") == name
                ],
                "autoscale": _autoscale_row(hpas[name]) if name in hpas else None,
            }
        )
    return out


NO_METRICS_HINT = (
    "The HPA reads CPU from the cluster's resource metrics API: check that metrics-server "
    "runs (`kubectl get apiservice v1beta1.metrics.k8s.io` is Available, `kubectl top pods` "
    "answers). Until then the process keeps the pods it has."
)


def _autoscale_row(hpa: Obj) -> dict[str, Any]:
    """What the HPA of a process decided and saw: replicas, bounds, CPU against the target."""
    spec = hpa.get("spec", {})
    status = hpa.get("status", {})
    target = next(
        (
            m["resource"]["target"].get("averageUtilization")
            for m in spec.get("metrics", [])
            if m.get("type") == "Resource" and m["resource"].get("name") == "cpu"
        ),
        None,
    )
    cpu = next(
        (
            m["resource"]["current"].get("averageUtilization")
            for m in status.get("currentMetrics") or []
            if m.get("type") == "Resource" and m.get("resource", {}).get("name") == "cpu"
        ),
        None,
    )
    conditions = {c["type"]: c for c in status.get("conditions", [])}
    active = conditions.get("ScalingActive", {})
    problem = None
    if cpu is None:
        if active.get("status") == "False":
            problem = f"metrics unavailable: {active.get('message') or active.get('reason')}"
        else:
            problem = "metrics unavailable: the HPA has no CPU reading yet"
    return {
        "current": status.get("currentReplicas", 0),
        "desired": status.get("desiredReplicas", 0),
        "min": spec.get("minReplicas", 1),
        "max": spec.get("maxReplicas", 0),
        "cpu_target_percent": target,
        "cpu_percent": cpu,
        "metrics_available": cpu is not None,
        "problem": problem,
        "hint": NO_METRICS_HINT if problem else None,
    }


def _pod_row(pod: Obj, now: float) -> dict[str, Any]:
    status = pod.get("status", {})
    statuses = status.get("containerStatuses", [])
    state = status.get("phase", "Pending")
    restarts = sum(cs.get("restartCount", 0) for cs in statuses)
    for cs in statuses:
        waiting = cs.get("state", {}).get("waiting")
        if waiting:
            state = waiting.get("reason", "Waiting")
        elif cs.get("state", {}).get("running"):
            state = "up" if cs.get("ready") else "starting"
    if pod["metadata"].get("deletionTimestamp"):
        state = "stopping"
    age = seconds_since(pod["metadata"].get("creationTimestamp", ""), now)
    return {
        "name": pod["metadata"]["name"],
        "state": state,
        "restarts": restarts,
        "age_seconds": int(age),
        "release": pod["metadata"]["labels"].get("paas.dev/release", ""),
    }


def human_age(seconds: int) -> str:
    """`42s`, `5m`, `3h`, `2d`, like kubectl."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
