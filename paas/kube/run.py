"""One-off processes (`paas run`): create a pod, attach or stream it, return its exit code."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable
from typing import IO, Any

from paas.diagnosis import exit_code, pod_failure
from paas.errors import ClusterError
from paas.kube.api import Kube, seconds_since
from paas.kube.logs import stream_log
from paas.objects import Obj

START_TIMEOUT = 300


def _wait_started(kube: Kube, namespace: str, name: str) -> Obj:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        pod = kube.get("v1", "Pod", namespace, name)
        if pod is None:
            raise ClusterError(f"the one-off pod `{name}` disappeared")
        if pod.get("status", {}).get("phase") in ("Running", "Succeeded", "Failed"):
            return pod
        age = seconds_since(pod["metadata"].get("creationTimestamp", ""))
        failure = pod_failure(pod, [], running_for=0, age=age)
        if failure is not None:
            raise ClusterError(
                f"the one-off pod could not start: {failure.reason}: {failure.detail}", failure.hint
            )
        time.sleep(0.5)
    raise ClusterError(
        f"the one-off pod `{name}` did not start within {START_TIMEOUT} s",
        "Check `paas ps` for capacity problems.",
    )


def wait_exit_code(
    kube: Kube,
    namespace: str,
    name: str,
    *,
    container: str | None = None,
    deadline_code: int | None = None,
    poll: float = 0.3,
    timeout: float = 60,
) -> int:
    """Wait for the pod's container to be reported ended; return its exit code (1 on timeout).

    With `deadline_code`, a pod stopped by its `activeDeadlineSeconds` returns that code.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pod = kube.get("v1", "Pod", namespace, name) or {}
        code = exit_code(pod, container)
        if code is not None:
            return code
        if deadline_code is not None and pod.get("status", {}).get("reason") == "DeadlineExceeded":
            return deadline_code
        time.sleep(poll)
    return 1


def run_pod(
    kube: Kube,
    pod: Obj,
    *,
    interactive: bool,
    on_output: Callable[[str], None],
    detach: bool = False,
) -> int:
    """Create `pod`, show its output, delete it, and return the command's exit code.

    With `interactive` this terminal is attached to the pod's TTY (an interactive
    session: the pod's program drives the terminal, as over ssh); otherwise each
    line of its log goes to `on_output` as the pod wrote it, for the console to
    show safely. With `detach` it returns 0 once the pod has started and leaves
    it running.
    """
    namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    kube.create(pod)
    try:
        _wait_started(kube, namespace, name)
        if detach:
            return 0
        if interactive:
            _attach(kube, namespace, name)
        else:
            for line in stream_log(kube, namespace, name, follow=True):
                on_output(line)
        return wait_exit_code(kube, namespace, name)
    finally:
        if not detach:
            with contextlib.suppress(ClusterError):
                kube.delete("v1", "Pod", namespace, name)


def exec_with_input(
    kube: Kube,
    namespace: str,
    name: str,
    *,
    container: str,
    command: list[str],
    data: IO[bytes],
    timeout: float,
) -> tuple[int, str]:
    """Run `command` in a container with `data` on its stdin; return its exit code and stderr.

    Stdin is not closed at the end of `data` (the exec protocol before v5 cannot),
    so the command must know how much to read (``head -c SIZE``).
    """
    from kubernetes import client
    from kubernetes.stream import stream

    socket: Any = stream(
        client.CoreV1Api(kube.client).connect_get_namespaced_pod_exec,
        name,
        namespace,
        container=container,
        command=command,
        stdin=True,
        stdout=True,
        stderr=True,
        tty=False,
        binary=True,
        _preload_content=False,
    )
    errors = b""
    try:
        for chunk in iter(lambda: data.read(64 * 1024), b""):
            socket.write_stdin(chunk)
            socket.update(timeout=0)
            errors += socket.read_stderr() if socket.peek_stderr() else b""
        deadline = time.monotonic() + timeout
        while socket.is_open() and time.monotonic() < deadline:
            socket.update(timeout=1)
            errors += socket.read_stderr() if socket.peek_stderr() else b""
        code = int(socket.returncode)
    finally:
        socket.close()
    return code, errors.decode(errors="replace").strip()


def _attach(kube: Kube, namespace: str, name: str) -> None:
    """Connect this terminal to the pod's TTY until the process ends."""
    import os
    import select
    import termios
    import tty

    from kubernetes import client
    from kubernetes.stream import stream

    api = client.CoreV1Api(kube.client)
    socket: Any = stream(
        api.connect_get_namespaced_pod_attach,
        name,
        namespace,
        stdin=True,
        stdout=True,
        stderr=True,
        tty=True,
        _preload_content=False,
    )
    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setraw(fd)
        socket.write_channel(4, '{"Width": %d, "Height": %d}' % _size())  # noqa: UP031
        while socket.is_open():
            socket.update(timeout=0.1)
            for channel in (1, 2):
                if socket.peek_channel(channel):
                    os.write(sys.stdout.fileno(), socket.read_channel(channel).encode())
            ready, _, _ = select.select([fd], [], [], 0)
            if ready:
                data = os.read(fd, 1024)
                if not data:
                    break
                socket.write_stdin(data.decode(errors="replace"))
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        socket.close()


def _size() -> tuple[int, int]:
    import shutil

    size = shutil.get_terminal_size()
    return size.columns, size.lines
