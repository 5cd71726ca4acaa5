"""Why a pod or a rollout is not running, read from pods, events and ReplicaSets (pure).

A failed rollout is explained, not timed out: the first pod of the new release
that shows a known failure decides the reason class, and the message says what
to do. `paas.kube.rollout` feeds this with what it polls from the cluster; the
release phase, `paas run` and cluster builds read their pods with it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from paas.objects import Obj

# How many restarts make a crash a crash loop: one restart is sometimes a race
# with a dependency; two are a pattern.
CRASH_RESTARTS = 2
# How long a running pod may stay unready before readiness counts as failing.
READINESS_GRACE_SECONDS = 90
# How long a pod may wait for its config (a Secret the kubelet has not synced yet).
CONFIG_GRACE_SECONDS = 30


@dataclass(frozen=True)
class RolloutFailure:
    """A diagnosed rollout failure."""

    reason: str  # ImagePullBackOff, CrashLoopBackOff, OOMKilled, ReadinessFailing,
    # NotListening, Unschedulable, Quota, ConfigError
    pod: str
    detail: str
    hint: str
    container: str = ""
    show_logs: bool = False

    def message(self, process: str) -> str:
        """One sentence for the user."""
        where = f"pod `{self.pod}`" if self.pod else f"process `{process}`"
        return f"the `{process}` process failed to start: {self.reason} in {where}: {self.detail}"


def _waiting(status: Obj) -> Obj:
    return status.get("state", {}).get("waiting") or {}


def exit_code(pod: Obj, container: str | None = None) -> int | None:
    """The exit code of the pod's ended container (`container`, else the first), or None."""
    for cs in pod.get("status", {}).get("containerStatuses", []):
        if container is not None and cs.get("name") != container:
            continue
        terminated = _terminated(cs, "state")
        if "exitCode" in terminated:
            return int(terminated["exitCode"])
    return None


def _terminated(status: Obj, key: str = "lastState") -> Obj:
    return status.get(key, {}).get("terminated") or {}


def pod_failure(
    pod: Obj, events: Sequence[Obj], *, running_for: float, age: float = 3600
) -> RolloutFailure | None:
    """The failure one pod shows, if any.

    Args:
        pod: The pod object.
        events: Events about this pod, any order.
        running_for: Seconds since its container last started (readiness grace).
        age: Seconds since the pod was created. A config error younger than
            CONFIG_GRACE_SECONDS is often the kubelet still syncing a new Secret.
    """
    name = pod["metadata"]["name"]
    status = pod.get("status", {})
    for cond in status.get("conditions", []):
        if (
            cond.get("type") == "PodScheduled"
            and cond.get("status") == "False"
            and cond.get("reason") == "Unschedulable"
        ):
            return RolloutFailure(
                "Unschedulable",
                name,
                str(cond.get("message", "")),
                "Pick a smaller `size`, fewer replicas, or ask for more cluster capacity.",
            )
    for cs in status.get("containerStatuses", []):
        container = cs.get("name", "")
        waiting = _waiting(cs)
        reason = waiting.get("reason", "")
        if reason in ("ImagePullBackOff", "ErrImagePull", "InvalidImageName"):
            return RolloutFailure(
                "ImagePullBackOff",
                name,
                str(waiting.get("message", reason)),
                "Check that the image exists in the registry and that the "
                "cluster can pull from it (`paas doctor`).",
                container,
            )
        if reason in ("CreateContainerConfigError", "CreateContainerError") and (
            age > CONFIG_GRACE_SECONDS
        ):
            return RolloutFailure(
                "ConfigError",
                name,
                str(waiting.get("message", reason)),
                "Check the config vars and the image's user and command.",
                container,
            )
        last = _terminated(cs)
        if (
            last.get("reason") == "OOMKilled"
            or _terminated(cs, "state").get("reason") == "OOMKilled"
        ):
            return RolloutFailure(
                "OOMKilled",
                name,
                "the process ran out of memory",
                "Give it a bigger `size` in paas.yaml, or use less memory.",
                container,
                show_logs=True,
            )
        if reason == "CrashLoopBackOff" or (last and cs.get("restartCount", 0) >= CRASH_RESTARTS):
            code = last.get("exitCode", "?")
            return RolloutFailure(
                "CrashLoopBackOff",
                name,
                f"the process exited with code {code} and keeps restarting",
                "Read the log lines above, fix the app, and push again.",
                container,
                show_logs=True,
            )
        if (
            cs.get("state", {}).get("running")
            and not cs.get("ready")
            and running_for > READINESS_GRACE_SECONDS
        ):
            probe_events = [e.get("message", "") for e in events if e.get("reason") == "Unhealthy"]
            detail = probe_events[-1] if probe_events else "the readiness check keeps failing"
            if any("connection refused" in m for m in probe_events):
                return RolloutFailure(
                    "NotListening",
                    name,
                    detail,
                    "The app must listen on 0.0.0.0:$PORT; check the command "
                    "and `port` in paas.yaml.",
                    container,
                    show_logs=True,
                )
            return RolloutFailure(
                "ReadinessFailing",
                name,
                detail,
                "Check the `healthcheck` path answers 200 quickly.",
                container,
                show_logs=True,
            )
    return None


READ_ONLY_HINT = (
    "The app's log says `Read-only file system`: it wrote outside /tmp, and its root "
    "filesystem is read-only because "
    "`kubernetes.read_only_root` is on in paas.yaml (or `read_only_root` in the cluster "
    "settings): write under /tmp, or turn the setting off."
)


def hint_from_logs(hint: str, lines: Sequence[str]) -> str:
    """A sharper hint when the failing process's last log lines name a known cause."""
    if any("Read-only file system" in line for line in lines):
        return READ_ONLY_HINT
    return hint


def replicaset_failure(replicasets: Sequence[Obj]) -> RolloutFailure | None:
    """A ReplicaSet that cannot create pods (quota, admission) explains a rollout too."""
    for rs in replicasets:
        for cond in rs.get("status", {}).get("conditions", []):
            if cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
                message = cond.get("message", "")
                reason = "Quota" if "quota" in message.lower() else "FailedCreate"
                return RolloutFailure(
                    reason,
                    "",
                    message,
                    "Lower `size` or replicas, or raise the namespace's quota."
                    if reason == "Quota"
                    else "Read the message; the cluster refused the pod.",
                )
    return None


def deployment_done(deployment: Obj) -> bool:
    """Every replica runs the new template and is available; the old ones are gone."""
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    want = spec.get("replicas", 1)
    if status.get("observedGeneration", 0) < deployment["metadata"].get("generation", 1):
        return False
    return bool(
        status.get("updatedReplicas", 0) == want
        and status.get("replicas", 0) == want
        and status.get("availableReplicas", 0) >= want
    )
