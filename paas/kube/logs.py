"""Pod logs: read once, or followed line by line."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from paas.kube.api import Kube, resource_path
from paas.objects import Obj


def stream_log(
    kube: Kube,
    namespace: str,
    pod: str,
    *,
    container: str | None = None,
    follow: bool = True,
    tail: int | None = None,
    since_seconds: int | None = None,
    timestamps: bool = False,
    previous: bool = False,
    timeout: float | None = None,
) -> Iterator[str]:
    """Yield the lines of a pod's log as they come; ends when the container stops.

    Lines carry no trailing newline. With `timestamps`, each starts with the
    RFC 3339 time the kubelet recorded, then a space.
    """
    query: dict[str, Any] = {
        "follow": "true" if follow else "false",
        "timestamps": "true" if timestamps else "false",
    }
    if container:
        query["container"] = container
    if tail is not None:
        query["tailLines"] = str(tail)
    if since_seconds is not None:
        query["sinceSeconds"] = str(since_seconds)
    if previous:  # the container's run before its last restart
        query["previous"] = "true"
    path = resource_path("v1", "Pod", namespace, pod) + "/log"
    for chunk in _split_lines(_log_chunks(kube, path, query, timeout)):
        yield chunk.decode(errors="replace")


def _split_lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line
    if buffer:
        yield buffer


def _log_chunks(
    kube: Kube, path: str, query: dict[str, Any], timeout: float | None
) -> Iterator[bytes]:
    """The log's bytes as the API server sends them; nothing when it answers with an error."""
    if kube.transport is not None:
        status, chunks = kube.transport.stream(
            path, query=query, headers={"Accept": "*/*"}, timeout=timeout
        )
        if status >= 400:
            for _ in chunks:  # read the error to the end: the connection stays usable
                pass
            return
        yield from chunks
        return
    params = kube.client.param_serialize(
        method="GET",
        resource_path=path,
        query_params=list(query.items()),
        header_params={"Accept": "*/*"},
        auth_settings=["BearerToken"],
    )
    response = kube.client.call_api(*params, _request_timeout=timeout)
    raw = response.response
    if response.status >= 400:
        raw.release_conn()
        return
    try:
        yield from raw.stream(4096, decode_content=True)
    finally:
        raw.release_conn()


@dataclass(frozen=True)
class LogLine:
    """One line of an app's log, with where and when it came from."""

    time: str  # RFC 3339 from the kubelet; sorts as text
    process: str
    pod: str
    text: str

    @property
    def source(self) -> str:
        """`web.x7k2p`: the process and the pod's own suffix, like Heroku's `web.1`."""
        return f"{self.process}.{self.pod.rsplit('-', 1)[-1]}"


def _split(line: str) -> tuple[str, str]:
    stamp, _, text = line.partition(" ")
    return stamp, text


def _pods(kube: Kube, namespace: str, app: str, process: str | None) -> list[Obj]:
    pods = kube.list("v1", "Pod", namespace, selector=f"paas.dev/app={app}")
    return [
        p
        for p in pods
        if process is None
        or p["metadata"]["labels"].get("paas.dev/process", "").split(".")[0] == process
        or p["metadata"]["labels"].get("paas.dev/process") == process
    ]


def _restarts(pod: Obj) -> int:
    return sum(
        cs.get("restartCount", 0) for cs in pod.get("status", {}).get("containerStatuses", [])
    )


def _started(pod: Obj) -> bool:
    return pod.get("status", {}).get("phase") in ("Running", "Succeeded", "Failed")


def app_logs(
    kube: Kube,
    namespace: str,
    app: str,
    *,
    process: str | None = None,
    tail: int | None = None,
    since_seconds: int | None = None,
) -> list[LogLine]:
    """Every pod's log of `app`, merged in time order (not followed)."""
    lines: list[LogLine] = []
    for pod in _pods(kube, namespace, app, process):
        if not _started(pod):
            continue
        name = pod["metadata"]["name"]
        kind = pod["metadata"]["labels"].get("paas.dev/process", "?")
        for raw in stream_log(
            kube,
            namespace,
            name,
            follow=False,
            tail=tail,
            since_seconds=since_seconds,
            timestamps=True,
        ):
            stamp, text = _split(raw)
            lines.append(LogLine(stamp, kind, name, text))
    lines.sort(key=lambda line: line.time)
    return lines[-tail:] if tail is not None else lines


def follow_app_logs(
    kube: Kube,
    namespace: str,
    app: str,
    *,
    process: str | None = None,
    tail: int | None = None,
    since_seconds: int | None = None,
    poll: float = 2.0,
    stop: threading.Event | None = None,
) -> Iterator[LogLine]:
    """Yield log lines of every pod of `app` as they come.

    Picks up new pods (a rollout) and restarted containers, drops finished
    ones, until `stop` is set or the caller stops iterating.
    """
    lines: queue.Queue[LogLine] = queue.Queue()
    following: dict[str, threading.Thread] = {}
    ended: dict[str, int] = {}  # pods whose stream ended, with their restart count then
    restarts_at_start: dict[str, int] = {}
    done = stop or threading.Event()
    first = True

    def pump(name: str, kind: str, from_tail: int | None, since: int | None) -> None:
        try:
            for raw in stream_log(
                kube,
                namespace,
                name,
                follow=True,
                tail=from_tail,
                since_seconds=since,
                timestamps=True,
            ):
                if done.is_set():
                    return
                stamp, text = _split(raw)
                lines.put(LogLine(stamp, kind, name, text))
        except Exception:
            return

    next_poll = 0.0
    while not done.is_set():
        now = time.monotonic()
        if now >= next_poll:
            for pod in _pods(kube, namespace, app, process):
                name = pod["metadata"]["name"]
                restarts = _restarts(pod)
                alive = name in following and following[name].is_alive()
                if alive or not _started(pod) or ended.get(name) == restarts:
                    continue
                kind = pod["metadata"]["labels"].get("paas.dev/process", "?")
                # Pods running when we start show their recent past; pods that start
                # later show all they write; a restarted container shows its new run.
                args: tuple[str, str, int | None, int | None]
                if name in ended:
                    args = (name, kind, None, int(poll * 2) + 1)
                elif first:
                    args = (name, kind, tail, since_seconds)
                else:
                    args = (name, kind, None, None)
                thread = threading.Thread(target=pump, daemon=True, args=args)
                following[name] = thread
                ended.pop(name, None)
                restarts_at_start[name] = restarts
                thread.start()
            first = False
            next_poll = now + poll
            for name in [n for n, t in following.items() if not t.is_alive()]:
                del following[name]
                ended[name] = restarts_at_start.get(name, 0)
        try:
            yield lines.get(timeout=0.2)
        except queue.Empty:
            continue
