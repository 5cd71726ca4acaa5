"""Waiting for a release to roll out, and running the release phase, on a real cluster.

Polls once a second and fails fast: the first pod of the new release that shows
a known failure (see `paas.diagnosis`) ends the wait with a `RolloutError`. A
pod that runs but is not ready has its log tail read every few seconds, so an
app that keeps failing inside a live process is named by its error long before
a probe gives up on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from paas.diagnosis import (
    SCAN_LINES,
    RolloutFailure,
    deployment_done,
    exit_code,
    explain_with_logs,
    pod_failure,
    replicaset_failure,
    shown_log_lines,
    unready_container,
)
from paas.errors import ReleasePhaseError, RolloutError
from paas.kube.api import Kube, KubeApiError, seconds_since
from paas.kube.logs import stream_log
from paas.objects import Obj

POLL_SECONDS = 1.0
#: API answers that mean "not now" (unreachable, restarting, overloaded), not "no".
TRANSIENT_STATUSES = frozenset({0, 429, 500, 502, 503, 504})
#: How long the wait rides out an API server that does not answer (a restart).
OUTAGE_SECONDS = 60.0
LOG_LINES = 20
# How much of a log is read at most, whatever its lines hold (`SCAN_LINES` lines).
SCAN_CHARS = 256 * 1024
# A running, unready container's log is read this long after it started, then this often.
BOOT_LOG_AFTER_SECONDS = 2.0
BOOT_LOG_EVERY_SECONDS = 5.0

Progress = Callable[[str, int, int], None]


def _age(pod: Obj) -> float:
    return seconds_since(pod["metadata"].get("creationTimestamp", ""))


def _started(pod: Obj) -> float:
    """Seconds since the pod's first container started running (0 when not running)."""
    for cs in pod.get("status", {}).get("containerStatuses", []):
        started = cs.get("state", {}).get("running", {}).get("startedAt")
        if started:
            return seconds_since(started)
    return 0.0


def _events(kube: Kube, namespace: str, pod: str) -> list[Obj]:
    answer = kube.request(
        "GET",
        f"/api/v1/namespaces/{namespace}/events",
        query={"fieldSelector": f"involvedObject.name={pod}"},
    )
    items: list[Obj] = answer.get("items", [])
    return items


def _log_tail(kube: Kube, namespace: str, pod: str, container: str, *, previous: bool) -> list[str]:
    """A container's last `SCAN_LINES` lines, at most `SCAN_CHARS` of them."""
    lines: list[str] = []
    budget = SCAN_CHARS
    for line in stream_log(
        kube,
        namespace,
        pod,
        container=container or None,
        follow=False,
        tail=SCAN_LINES,
        previous=previous,
    ):
        budget -= len(line)
        if budget < 0:
            break
        lines.append(line)
    return lines


def last_log_lines(kube: Kube, namespace: str, failure: RolloutFailure) -> list[str]:
    """The failing container's last `SCAN_LINES` lines (its previous run's, if it restarted)."""
    if not failure.pod:
        return []
    for previous in (True, False):
        lines = _log_tail(kube, namespace, failure.pod, failure.container, previous=previous)
        if any(line.strip() for line in lines):
            return lines
    return []


def wait_for_rollout(
    kube: Kube,
    namespace: str,
    app: str,
    pod_release: str,
    deployments: list[str],
    *,
    timeout: float = 300,
    progress: Progress | None = None,
    on_outage: Callable[[str], None] | None = None,
) -> None:
    """Wait until every named Deployment has rolled out; explain the first failure.

    An API server that stops answering (a restart, an overload) is waited for
    up to OUTAGE_SECONDS at a time, said once to `on_outage`; the rollout goes
    on in the cluster meanwhile.

    Raises:
        RolloutError: a pod of the new release failed, or the timeout passed.
        KubeApiError: the API server refused a request, or did not answer for
            OUTAGE_SECONDS.
    """
    deadline = time.monotonic() + timeout
    pending = set(deployments)
    log_read: dict[str, float] = {}  # pod -> when its log was last read (monotonic)
    down_since: float | None = None
    while pending:
        try:
            _check_once(kube, namespace, app, pod_release, pending, progress, log_read)
        except KubeApiError as exc:
            if exc.status not in TRANSIENT_STATUSES:
                raise
            now = time.monotonic()
            if down_since is None:
                down_since = now
                if on_outage:
                    on_outage(
                        f"The cluster's API server is not answering ({exc.message}); "
                        f"waiting up to {int(OUTAGE_SECONDS)} s for it, the rollout goes on."
                    )
            elif now - down_since > OUTAGE_SECONDS:
                raise
        else:
            if down_since is not None and on_outage:
                on_outage(
                    f"The API server answers again after {time.monotonic() - down_since:.0f} s."
                )
            down_since = None
        if not pending:
            return
        if time.monotonic() > deadline:
            raise RolloutError(
                f"the rollout did not finish within {int(timeout)} s "
                f"({', '.join(sorted(pending))} not ready)",
                "Check `paas ps` and `paas logs`; raise `--timeout` for slow starts.",
            )
        time.sleep(POLL_SECONDS)


def _check_once(
    kube: Kube,
    namespace: str,
    app: str,
    pod_release: str,
    pending: set[str],
    progress: Progress | None,
    log_read: dict[str, float],
) -> None:
    """One look at every pending Deployment: drop the done ones from `pending`, raise a failure."""
    for name in sorted(pending):
        deployment = kube.get("apps/v1", "Deployment", namespace, name)
        if deployment is None:
            pending.discard(name)
            continue
        process = deployment["metadata"]["labels"].get("paas.dev/process", name)
        want = deployment["spec"].get("replicas", 1)
        done = deployment_done(deployment)
        pods = kube.list(
            "v1",
            "Pod",
            namespace,
            selector=f"paas.dev/app={app},"
            f"paas.dev/process={process},paas.dev/release={pod_release}",
        )
        if progress:  # ready pods of the new release, not of the old one
            progress(process, want if done else sum(map(_ready, pods)), want)
        if done:
            pending.discard(name)
            continue
        failure = _diagnose(kube, namespace, app, process, pods, log_read)
        if failure is not None:
            lines = last_log_lines(kube, namespace, failure) if failure.show_logs else []
            failure = explain_with_logs(failure, lines)
            raise RolloutError(
                failure.message(process),
                failure.hint,
                reason=failure.reason,
                log_lines=tuple(shown_log_lines(lines, LOG_LINES)),
            )


def _ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in pod.get("status", {}).get("conditions", [])
    )


def _boot_log(kube: Kube, namespace: str, pod: Obj, log_read: dict[str, float]) -> list[str]:
    """The log tail of the pod's running, unready container, when it is due to be read."""
    name, container = pod["metadata"]["name"], unready_container(pod)
    now = time.monotonic()
    if (
        container is None
        or _started(pod) < BOOT_LOG_AFTER_SECONDS
        or now - log_read.get(name, -BOOT_LOG_EVERY_SECONDS) < BOOT_LOG_EVERY_SECONDS
    ):
        return []
    log_read[name] = now
    return _log_tail(kube, namespace, name, container, previous=False)


def _diagnose(
    kube: Kube,
    namespace: str,
    app: str,
    process: str,
    pods: list[Obj],
    log_read: dict[str, float],
) -> RolloutFailure | None:
    for pod in pods:
        running_for = _started(pod)
        events = _events(kube, namespace, pod["metadata"]["name"]) if running_for > 30 else []
        lines = _boot_log(kube, namespace, pod, log_read)
        failure = pod_failure(pod, events, running_for=running_for, age=_age(pod), lines=lines)
        if failure is not None:
            return failure
    replicasets = kube.list(
        "apps/v1",
        "ReplicaSet",
        namespace,
        selector=f"paas.dev/app={app},paas.dev/process={process}",
    )
    return replicaset_failure(replicasets)


def run_job(kube: Kube, job: Obj, *, on_line: Callable[[str], None], timeout: float = 3600) -> None:
    """Apply a Job (the release phase), stream its pod's log, wait for it to end.

    Raises:
        ReleasePhaseError: the command exited non-zero or the pod could not start.
    """
    namespace, name = job["metadata"]["namespace"], job["metadata"]["name"]
    kube.apply(job)
    deadline = time.monotonic() + timeout
    pod: Obj | None = None
    streamed = False
    while time.monotonic() < deadline:
        current = kube.get("batch/v1", "Job", namespace, name) or {}
        status = current.get("status", {})
        pods = kube.list("v1", "Pod", namespace, selector=f"job-name={name}")
        pod = pods[0] if pods else None
        if pod is not None and not streamed:
            failure = pod_failure(pod, [], running_for=0, age=_age(pod))
            if failure is not None and failure.reason in (
                "ImagePullBackOff",
                "ConfigError",
                "Unschedulable",
            ):
                raise ReleasePhaseError(
                    f"the release phase could not start: {failure.reason}: {failure.detail}",
                    failure.hint,
                )
            phase = pod.get("status", {}).get("phase")
            if phase in ("Running", "Succeeded", "Failed"):
                for line in stream_log(kube, namespace, pod["metadata"]["name"], follow=True):
                    on_line(line)
                streamed = True
        if status.get("succeeded"):
            return
        if status.get("failed"):
            code = exit_code(pod) if pod is not None else None
            raise ReleasePhaseError(
                f"the release phase `{_command(job)}` failed (exit code "
                f"{'?' if code is None else code}); the new "
                "release was not rolled out",
                "Fix the command or what it needs, then push "
                "again; the app keeps serving the previous release.",
            )
        time.sleep(POLL_SECONDS)
    raise ReleasePhaseError(
        f"the release phase did not finish within {int(timeout)} s",
        "Make it faster, or run long tasks with `paas run`.",
    )


def _command(job: Obj) -> str:
    container = job["spec"]["template"]["spec"]["containers"][0]
    return " ".join(container.get("args") or container.get("command") or [])
