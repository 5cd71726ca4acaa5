"""Why a pod or a rollout is not running, read from pods, events and ReplicaSets (pure).

A failed rollout is explained, not timed out: the first pod of the new release
that shows a known failure decides the reason class, and the message says what
to do. `paas.kube.rollout` feeds this with what it polls from the cluster; the
release phase, `paas run` and cluster builds read their pods with it too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from paas.objects import Obj

# How many restarts make a crash a crash loop: one restart is sometimes a race
# with a dependency; two are a pattern.
CRASH_RESTARTS = 2
# How long a running pod may stay unready before readiness counts as failing.
READINESS_GRACE_SECONDS = 90
# How long a pod may wait for its config (a Secret the kubelet has not synced yet).
CONFIG_GRACE_SECONDS = 30
# How long a running, unready container must have run before its log's repeated
# failures (workers exiting, the same error again) count as a process that is up
# but keeps failing: a server that gives up (gunicorn halting once its first
# workers fail to boot) has exited by then, and its exit says so.
BOOT_REPEAT_SECONDS = 10
# How long before one lone error line counts as why it does not start. Heroku
# gives a dyno 60 s to boot.
BOOT_ERROR_SECONDS = 40
# How much of a log is read: lines are the app's output, of any length and content.
SCAN_LINES = 300
LINE_CHARS = 2000
# How much of an error line a message quotes.
QUOTE_CHARS = 240


@dataclass(frozen=True)
class RolloutFailure:
    """A diagnosed rollout failure."""

    reason: str  # ImagePullBackOff, CrashLoopBackOff, BootFailure, OOMKilled,
    # ReadinessFailing, NotListening, Unschedulable, Quota, ConfigError
    pod: str
    detail: str
    hint: str
    container: str = ""
    show_logs: bool = False

    def message(self, process: str) -> str:
        """One sentence for the user."""
        where = f"pod `{self.pod}`" if self.pod else f"process `{process}`"
        return f"the `{process}` process failed to start: {self.reason} in {where}: {self.detail}"


#: Taints a node carries while it is briefly out of touch (its kubelet, or the API server,
#: restarting): they go by themselves, so a pod they hold back is waited for.
PASSING_TAINTS = ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")


def passing_unschedulable(message: str) -> bool:
    """Whether the scheduler's `message` names only taints that pass (see PASSING_TAINTS).

    Like `0/1 nodes are available: 1 node(s) had untolerated taint
    {node.kubernetes.io/unreachable: }. preemption: ...`: every reason before
    the preemption part is one of those taints.
    """
    reasons = message.split(". preemption:", maxsplit=1)[0].partition(":")[2]
    parts = [p.strip() for p in reasons.split(",") if p.strip()]
    return bool(parts) and all(any(t in p for t in PASSING_TAINTS) for p in parts)


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


def unready_container(pod: Obj) -> str | None:
    """The name of the pod's container that runs but is not ready, if any: its log tells why."""
    for cs in pod.get("status", {}).get("containerStatuses", []):
        if cs.get("state", {}).get("running") and not cs.get("ready"):
            return str(cs.get("name", ""))
    return None


def pod_failure(
    pod: Obj,
    events: Sequence[Obj],
    *,
    running_for: float,
    age: float = 3600,
    lines: Sequence[str] = (),
) -> RolloutFailure | None:
    """The failure one pod shows, if any.

    Args:
        pod: The pod object.
        events: Events about this pod, any order.
        running_for: Seconds since its container last started (readiness grace).
        age: Seconds since the pod was created. A config error younger than
            CONFIG_GRACE_SECONDS is often the kubelet still syncing a new Secret.
        lines: The last lines of the log of its running, unready container
            (`unready_container`), when read: a process that is up but keeps
            failing (see `boot_failure`) is named before any probe gives up.
    """
    name = pod["metadata"]["name"]
    status = pod.get("status", {})
    for cond in status.get("conditions", []):
        if (
            cond.get("type") == "PodScheduled"
            and cond.get("status") == "False"
            and cond.get("reason") == "Unschedulable"
            and not passing_unschedulable(str(cond.get("message", "")))
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
        running = cs.get("state", {}).get("running") and not cs.get("ready")
        booting = boot_failure(name, container, lines, running_for=running_for) if running else None
        if booting is not None:
            return booting
        if running and running_for > READINESS_GRACE_SECONDS:
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


FIX_ERROR_HINT = (
    "Fix that error in the app and push again; to read the failing release's whole "
    "log, push with `--no-rollback` and run `paas logs`."
)
WORKERS_EXIT_HINT = (
    "Read the log lines above for why the workers exit, fix the app and push again; "
    "to read the failing release's whole log, push with `--no-rollback` and run `paas logs`."
)

# A server's line saying one of its workers ended; the master lives on and respawns it.
_WORKER_EXIT = re.compile(
    r"Worker \(pid:\d+\) (?:exited with code|was sent SIGKILL)"  # gunicorn
    r"|WORKER TIMEOUT \(pid:\d+\)"  # gunicorn: a worker stuck booting
    r"|Child process \[\d+\] died"  # uvicorn --workers
    r"|Early termination of worker"  # puma, cluster mode
    r"|reaped #<Process::Status: pid \d+ exit [1-9]"  # unicorn
    r"|[Ww]orker \d+ (?:died|exited)"  # node's cluster module, as its docs log it
    r"|App \[[^\]]{1,200}\] exited with code \[[1-9]"  # pm2
)
# A server's line saying it gives up and exits (the container's status may say it
# runs a moment longer): its exit, a crash loop, says the rest.
_HALTING = re.compile(
    r"Reason: (?:Worker failed to boot|App failed to load)\.|Shutting down: Master"
    r"|^gunicorn\.errors\.HaltServer"
)
# An exception's own line: Python's `KeyError: 'x'`, `sqlalchemy.exc.OperationalError: ...`,
# Node's `Error: Cannot find module 'x'`, `Error [ERR_REQUIRE_ESM]: ...`.
_EXCEPTION = re.compile(r"(?:[a-z_]\w*\.)*(?:[A-Z]\w*)?(?:Error|Exception)(?: \[[A-Z_]+\])?: \S")
# Ruby's: `app.rb:1:in 'require': cannot load such file -- x (LoadError)`.
_RUBY_EXCEPTION = re.compile(r"\S+:\d+:in [`'][^']*': .+ \([A-Z]\w*(?:::[A-Z]\w*)*\)$")
# A server's line quoting the app's error after its own words.
_QUOTED_ERROR = re.compile(r"Unable to load application: \S|Error loading ASGI app\. \S")
# Exceptions a server or the interpreter raises about itself, not the app's cause.
_SERVER_OWN = (
    "gunicorn.",
    "uvicorn.",
    "hypercorn.",
    "waitress.",
    "SystemExit",
    "KeyboardInterrupt",
)


def error_lines(lines: Sequence[str]) -> list[str]:
    """The app's own error lines in a log, oldest first: exceptions, not the server's.

    The line that ends a Python traceback, whatever its class; a Python, Node
    or Ruby exception line; a server's line quoting the app's error (puma's
    `Unable to load application:`). Each line is read up to `LINE_CHARS`.
    """
    return [line for _, line in _errors(lines[-SCAN_LINES:])]


def _errors(lines: Sequence[str]) -> list[tuple[int, str]]:
    """`error_lines`, each with its index in `lines`."""
    found: list[tuple[int, str]] = []
    in_traceback = False
    for i, raw in enumerate(lines):
        line = raw[:LINE_CHARS].rstrip()
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
            continue
        if in_traceback and (not line or line[0].isspace()):
            continue  # a frame, its source line, a caret
        ends_traceback, in_traceback = in_traceback, False
        quoted = _QUOTED_ERROR.search(line)
        if quoted is not None:
            found.append((i, line[quoted.start() :]))
        elif (
            ends_traceback or _EXCEPTION.match(line) or _RUBY_EXCEPTION.match(line)
        ) and not line.startswith(_SERVER_OWN):
            found.append((i, line))
    return found


def _quote(line: str) -> str:
    text = line.strip().replace("`", "'")  # a backtick would end the quote around it
    return text if len(text) <= QUOTE_CHARS else text[: QUOTE_CHARS - 1] + "…"


def boot_failure(
    pod: str, container: str, lines: Sequence[str], *, running_for: float
) -> RolloutFailure | None:
    """A process that is up but keeps failing, named by the app's own error line.

    gunicorn, uvicorn, puma, unicorn and node's cluster keep a master running
    while each worker prints the app's error and exits; the probes then only see
    `connection refused`, as from an app bound to the wrong port. The log tells
    them apart: workers exiting again and again, or the same error line again,
    decide once the container has run `BOOT_REPEAT_SECONDS`; a lone error line
    once it has run `BOOT_ERROR_SECONDS` without becoming ready. A healthy
    process (no error lines, no worker exits) is left to the probes
    (NotListening). A server that says it is shutting down is left to its exit
    (CrashLoopBackOff).

    Args:
        pod: The pod's name.
        container: The container whose log `lines` are.
        lines: The container's last log lines (current run).
        running_for: Seconds since the container started.
    """
    scanned = [line[:LINE_CHARS] for line in lines[-SCAN_LINES:]]
    found = _errors(scanned)
    exit_at = [i for i, line in enumerate(scanned) if _WORKER_EXIT.search(line)]
    halted_at = [i for i, line in enumerate(scanned) if _HALTING.search(line)]
    if halted_at and halted_at[-1] > max([*exit_at, *(i for i, _ in found)], default=-1):
        return None  # it gave up after its last failure (a supervisor may start it again)
    exits = [scanned[i] for i in exit_at]
    errors = [line for _, line in found]
    error = errors[-1] if errors else ""
    repeated = running_for >= BOOT_REPEAT_SECONDS and (len(exits) >= 2 or errors.count(error) >= 2)
    if not (repeated or (error and running_for >= BOOT_ERROR_SECONDS)):
        return None
    if error:
        detail = f"the app fails as it starts: `{_quote(error)}`"
        if len(exits) >= 2:
            detail += f", and its workers keep exiting ({len(exits)} in the last lines)"
        elif errors.count(error) >= 2:
            detail += f", again and again ({errors.count(error)} times in the last lines)"
        return RolloutFailure("BootFailure", pod, detail, FIX_ERROR_HINT, container, show_logs=True)
    return RolloutFailure(
        "BootFailure",
        pod,
        f"its workers keep exiting ({len(exits)} in the last lines): `{_quote(exits[-1])}`",
        WORKERS_EXIT_HINT,
        container,
        show_logs=True,
    )


def explain_with_logs(failure: RolloutFailure, lines: Sequence[str]) -> RolloutFailure:
    """The failure, sharpened by the last log lines of its container.

    A crash loop whose log ends in the app's error names that error; probes
    that gave up on a process whose log shows errors (`boot_failure`) are a
    BootFailure, not a port to fix; a known cause in the log (a read-only
    filesystem) gets its own hint.
    """
    if failure.reason in ("NotListening", "ReadinessFailing"):
        booting = boot_failure(
            failure.pod, failure.container, lines, running_for=READINESS_GRACE_SECONDS
        )
        if booting is not None:
            failure = booting
    elif failure.reason == "CrashLoopBackOff":
        errors = error_lines(lines)
        if errors:
            failure = replace(
                failure,
                detail=f"{failure.detail}; the app's error: `{_quote(errors[-1])}`",
                hint=FIX_ERROR_HINT,
            )
    return replace(failure, hint=hint_from_logs(failure.hint, lines))


def shown_log_lines(lines: Sequence[str], count: int) -> list[str]:
    """The `count` log lines a failure shows: the last ones, or those ending at the app's error.

    A server that halts prints its own traceback after the app's (gunicorn's
    `HaltServer`), which would push the app's out of a short tail.
    """
    scanned = list(lines[-SCAN_LINES:])
    found = _errors(scanned)
    if not found:
        return list(lines[-count:])
    last = found[-1][0]
    # The window ends just after the error (the server's next lines: the worker's
    # exit), unless the log is too short to fill it before the error.
    start = max(0, min(len(scanned), last + 3) - count)
    return scanned[start : start + count]


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
