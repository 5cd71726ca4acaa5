"""The result of a change as data: what `--json` prints for push, promote and rollback.

One object whatever happened (schema `CHANGE` in paas.schemas): the app, the
release, the image by digest, the URL, the status, the failure's class and
reason, and the seconds each step took. The CLI prints it; the MCP server
returns it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from paas.schemas import document

if TYPE_CHECKING:
    from paas.deploy import Outcome
    from paas.errors import PaasError


class Steps:
    """Seconds per step of one command: `start("build")`, `start("deploy")`, `seconds()`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._began = clock()
        self._step = ""
        self._since = self._began
        self._seconds: dict[str, float] = {}

    def start(self, step: str) -> None:
        """End the running step (if any) and start `step`."""
        self._close()
        self._step, self._since = step, self._clock()

    def seconds(self) -> dict[str, float]:
        """Each finished or running step's seconds, and `total`, to the millisecond."""
        self._close()
        self._step = ""
        out = {name: round(value, 3) for name, value in self._seconds.items()}
        out["total"] = round(self._clock() - self._began, 3)
        return out

    def _close(self) -> None:
        if self._step:
            now = self._clock()
            self._seconds[self._step] = self._seconds.get(self._step, 0.0) + now - self._since
            self._since = now


def failure_of(error: PaasError) -> dict[str, Any]:
    """The `failure` member for `error`: class, exit code, message, hint, reason, log tail."""
    failure: dict[str, Any] = {
        "class": error.kind,
        "exit_code": int(error.exit_code),
        "message": error.message,
        "hint": error.hint,
    }
    reason = getattr(error, "reason", "")
    if reason:
        failure["reason"] = reason
    lines = getattr(error, "log_lines", ())
    if lines:
        failure["log_tail"] = list(lines)[-40:]
    return failure


def change_result(
    command: str,
    app: str,
    steps: Steps,
    *,
    outcome: Outcome | None = None,
    error: PaasError | None = None,
    image: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The one object a change command prints: from its `outcome`, or its `error`."""
    record = outcome.record if outcome is not None else None
    image = record.image if record is not None else image
    data: dict[str, Any] = {
        "command": command,
        "app": app,
        "status": (
            "failed"
            if error is not None
            else "unchanged"
            if outcome and outcome.unchanged
            else "succeeded"
        ),
        "release": record.name if record is not None else getattr(error, "release", None),
        "image": image if image and "@sha256:" in image else None,
        "digest": image.rpartition("@")[2] if image and "@sha256:" in image else None,
        "source": record.source if record is not None else "",
        "url": outcome.url if outcome is not None else None,
        "failure": failure_of(error) if error is not None else None,
        "seconds": steps.seconds(),
    }
    if record is not None:
        data["description"] = record.description
    if outcome is not None and not outcome.unchanged:
        data["waited"] = outcome.waited
    return document(command, {**data, **(extra or {})})
