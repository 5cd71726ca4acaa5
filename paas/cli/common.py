"""What the cluster-talking commands share: the kube target, the app name, the session."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from paas.console import Console
    from paas.deploy import Outcome
    from paas.operations import Session
    from paas.results import Steps

ContextOption = Annotated[
    str | None,
    typer.Option(
        "--context",
        help="Kubeconfig context to use. Default: the current one.",
        envvar="PAAS_CONTEXT",
        show_default=False,
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option("--timeout", help="Seconds to wait for the rollout.", min=1),
]
NoWaitOption = Annotated[
    bool,
    typer.Option(
        "--no-wait",
        help="End once the release is recorded and applied (the release phase still runs "
        "first); do not wait for the rollout or roll back. `paas ps` shows how it goes.",
    ),
]
LockWaitOption = Annotated[
    float,
    typer.Option(
        "--wait-lock", help="Seconds to wait while another change of the app holds its lock.", min=0
    ),
]


def app_name(app: str | None, path: Path = Path(".")) -> str:
    """The app a command acts on: `--app`, else paas.yaml's `name`, else the directory.

    Checked before any cluster is contacted.

    Raises:
        UsageError: it is not a valid app name.
    """
    from paas.arguments import check_app
    from paas.project import default_app_name

    return check_app(default_app_name(app, path))


def author() -> str:
    """Who is acting, for release records: PAAS_AUTHOR, git's user.email, or user@host."""
    if os.environ.get("PAAS_AUTHOR"):
        return os.environ["PAAS_AUTHOR"]
    import subprocess

    try:
        email = subprocess.run(
            ["git", "config", "user.email"], capture_output=True, text=True, timeout=5, check=False
        ).stdout.strip()
    except OSError:
        email = ""
    import getpass
    import socket

    return email or f"{getpass.getuser()}@{socket.gethostname()}"


def session(
    context: str | None, *, timeout: float = 300, lock_wait: float = 300, wait: bool = True
) -> Session:
    """Connect to the cluster and read its settings."""
    from paas.console import get_console
    from paas.deploy import Events
    from paas.kube.api import Kube
    from paas.kube.store import read_cluster_settings
    from paas.operations import Session

    out = get_console()
    kube = Kube(context)
    reported: dict[str, tuple[int, int]] = {}

    def progress(process: str, ready: int, want: int) -> None:
        if reported.get(process) != (ready, want):
            reported[process] = (ready, want)
            out.info(f"  {process}: {ready}/{want} ready")

    events = Events(
        info=out.info,
        warning=out.warn,
        release_line=lambda line: out.info(f"  release | {line}"),
        progress=progress,
    )
    return Session(
        kube,
        read_cluster_settings(kube),
        author,
        events,
        lock_wait=lock_wait,
        timeout=timeout,
        wait=wait,
    )


def print_outcome(console: Console, outcome: Outcome, verb: str) -> None:
    """The last lines of a change: which release now serves, and where."""
    if outcome.unchanged:
        console.success(f"Nothing changed: {outcome.record.name} is current. {outcome.url}")
        return
    console.success(f"{verb} {outcome.record.name}: {outcome.record.description}. {outcome.url}")
    if not outcome.waited:
        console.info(
            f"Not waiting for the rollout (--no-wait): `paas ps --app {outcome.record.app.name}` "
            "shows when every process is ready."
        )


class ChangeReport:
    """How push, promote and rollback end: a line for people, or one JSON object.

    With `--json`, the object (schema `CHANGE`) is printed also when the command
    fails with a PaasError, before the error's own lines on stderr and its exit
    code; nothing else is printed on stdout.

    Use as `with ChangeReport("push", app, json_output) as report: ...
    report.done(outcome, "Deployed")`; `report.steps.start("build")` times a step.
    """

    def __init__(self, command: str, app: str, json_output: bool) -> None:
        from paas.results import Steps

        self.command = command
        self.app = app
        self.json = json_output
        self.image: str | None = None  # the image by digest, once known
        self.extra: dict[str, Any] = {}
        self.steps: Steps = Steps()

    def __enter__(self) -> ChangeReport:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        from paas.errors import PaasError

        if self.json and isinstance(error, PaasError):
            from paas.console import get_console
            from paas.results import change_result

            get_console().data(
                change_result(
                    self.command,
                    self.app,
                    self.steps,
                    error=error,
                    image=self.image,
                    extra=self.extra,
                )
            )

    def done(self, outcome: Outcome, verb: str) -> None:
        """Report a change that went through."""
        from paas.console import get_console

        console = get_console()
        if not self.json:
            print_outcome(console, outcome, verb)
            return
        from paas.results import change_result

        console.data(
            change_result(self.command, self.app, self.steps, outcome=outcome, extra=self.extra)
        )
