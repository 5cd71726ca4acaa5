"""What `paas mcp`'s tools do, as plain functions over the cluster: data in, JSON documents out.

Every change goes plan -> confirm -> apply: `plan()` returns a plan (the
`diff` document, paas.plan) with its id; `push()`, `rollback()` and
`config_set()` take that id, make the plan again and apply only when the id
still matches (PlanDriftError otherwise, saying what drifted), then run the
one deploy pipeline, which waits for the rollout to finish. Nothing returned
holds a config value: config reads give names only, and every log or output
line has the app's config values replaced by `(redacted)`.

The MCP layer (paas.mcp.server) only turns these into tools; tests can call
them directly.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from paas.errors import PaasError, UsageError

if TYPE_CHECKING:
    from paas.deploy import Outcome
    from paas.kube.api import Kube
    from paas.operations import Session
    from paas.releases import Change
    from paas.results import Steps

Action = Literal["push", "rollback", "config_set"]
#: The most log lines `logs` returns.
MAX_LOG_LINES = 500
#: Output lines of a change kept for its failure (release phase, rollout, build).
LAST_LINES = 40
# Values shorter than this are too common to hide without hiding the text around them.
_SHORTEST_REDACTED = 4


def author() -> str:
    """Who is acting, for release records: PAAS_AUTHOR, else the user, through `paas mcp`."""
    import getpass
    import os

    return os.environ.get("PAAS_AUTHOR") or f"{getpass.getuser()} (paas mcp)"


class PlanRequiredError(UsageError):
    """A change tool was called without the id of a plan made for it."""


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every value of `secrets` (the app's config values) replaced by `(redacted)`."""
    for value in sorted(secrets, key=len, reverse=True):
        if len(value) >= _SHORTEST_REDACTED:
            text = text.replace(value, "(redacted)")
    return text


@dataclass
class Request:
    """One change an agent asks for, as `plan` and the change tools take it.

    Attributes:
        action: push, rollback or config_set.
        app: The app; for a push, default: the directory's app name.
        path: The app directory (push), default the server's working directory.
        image: A prebuilt image to push (a tag is resolved to its digest); none builds `path`.
        release: The release to roll back to (`v3`); none: the newest earlier one.
        config: The config vars to set (config_set).
    """

    action: Action
    app: str | None = None
    path: str | None = None
    image: str | None = None
    release: str | None = None
    config: dict[str, str] = field(default_factory=dict)


class Operations:
    """The tools' work: one cluster connection, a session per call, plans made this session."""

    def __init__(self, context: str | None = None, *, kube: Kube | None = None) -> None:
        self.context = context
        self._kube = kube
        self._plans: dict[str, dict[str, Any]] = {}
        self._changes = threading.Lock()  # one change at a time from this server

    # ---- sessions

    @property
    def kube(self) -> Kube:
        """The cluster, connected on first use."""
        if self._kube is None:
            from paas.kube.api import Kube

            self._kube = Kube(self.context)
        return self._kube

    def session(self, lines: Callable[[str], None] = lambda _line: None) -> Session:
        """A session with the cluster's settings read now; its output goes to `lines`."""
        from paas.deploy import Events
        from paas.kube.store import read_cluster_settings
        from paas.operations import Session

        events = Events(
            info=lines,
            warning=lambda text: lines(f"warning: {text}"),
            release_line=lambda line: lines(f"release | {line}"),
            progress=lambda process, ready, want: lines(f"{process}: {ready}/{want} ready"),
        )
        return Session(self.kube, read_cluster_settings(self.kube), author, events)

    def _secrets(self, session: Session, app: str) -> frozenset[str]:
        from paas.releases import current

        try:
            history = session.history(app)
        except PaasError:
            return frozenset()
        values: set[str] = set()
        for record in history:
            values |= set(record.config.values())
        live = current(history)
        return frozenset(values | (set(live.config.values()) if live else set()))

    # ---- reads

    def list_apps(self) -> dict[str, Any]:
        """Every app on the cluster (the `apps` document)."""
        from paas.app_list import list_apps
        from paas.schemas import document

        return document("apps", {"apps": list_apps(self.kube)})

    def status(self, app: str) -> dict[str, Any]:
        """Processes and pods (the `ps` document), with the current release's summary and URL."""
        from paas.deploy import app_url
        from paas.operations import process_status
        from paas.schemas import document

        session = self.session()
        live = session.current(app)
        rows = process_status(session, app, live)
        return document(
            "ps",
            {
                "app": app,
                "release": live.name,
                "processes": rows,
                "current": live.summary(),
                "url": app_url(session.settings, app),
            },
        )

    def releases(self, app: str) -> dict[str, Any]:
        """The release history, newest first (the `releases` document; config names only)."""
        from paas.schemas import document

        history = self.session().history(app)
        rows = [r.summary() for r in sorted(history, key=lambda r: r.version, reverse=True)]
        return document("releases", {"app": app, "releases": rows})

    def logs(self, app: str, lines: int = 100, process: str | None = None) -> dict[str, Any]:
        """The newest `lines` (at most 500) of every pod's log, merged; config values redacted."""
        from paas.arguments import check_process
        from paas.kube.logs import app_logs

        if not 1 <= lines <= MAX_LOG_LINES:
            raise UsageError(f"`lines` must be 1 to {MAX_LOG_LINES}, not {lines}")
        if process is not None:
            check_process(process, log_sources=True)
        session = self.session()
        session.history(app)  # a clear error when there is no such app
        secrets = self._secrets(session, app)
        namespace = session.settings.namespace(app)
        found = app_logs(session.kube, namespace, app, process=process, tail=lines)
        from paas.schemas import document

        return document(
            "logs",
            {
                "app": app,
                "lines": [
                    scrub(f"{line.time[:19]}Z app[{line.source}]: {line.text}", secrets)
                    for line in found
                ],
            },
        )

    def config_get(self, app: str) -> dict[str, Any]:
        """The config var names; every value null (the `config` document, redacted)."""
        from paas.schemas import document

        values = self.session().current(app).config
        shown = dict.fromkeys(sorted(values))
        return document("config", {"app": app, "redacted": True, "config": shown})

    # ---- plan -> confirm -> apply

    def plan(self, request: Request) -> dict[str, Any]:
        """The plan of `request` (the `diff` document) with its id; changes nothing.

        A push of a directory builds its image first (nothing changes in the
        app; the registry gets the image), so that the plan names its digest.
        """
        from paas.plan import make_plan
        from paas.schemas import document

        session = self.session()
        app, change = self._change(session, request, lambda _line: None)
        made = document("diff", make_plan(session, app, change))
        self._plans[made["id"]] = made
        return made

    def apply(self, request: Request, plan_id: str | None) -> dict[str, Any]:
        """Apply `request` if the cluster still matches plan `plan_id`; the change document.

        Raises:
            PlanRequiredError: no `plan_id`.
            PlanDriftError: the plan made now has another id.
            PaasError: the change failed (its document is on the error, `.result`).
        """
        from paas.errors import PlanDriftError
        from paas.plan import check_against, guarded, make_plan
        from paas.results import Steps

        if not plan_id:
            raise PlanRequiredError(
                f"`{request.action}` needs the id of a plan made for it",
                f"Call `plan` with action `{request.action}` and the same arguments, "
                "review the plan, then pass its `id` as `plan_id`.",
            )
        command = {"push": "push", "rollback": "rollback"}.get(request.action, "config set")
        out: collections.deque[str] = collections.deque(maxlen=LAST_LINES)
        steps = Steps()
        app = request.app or ""
        with self._changes:
            session = self.session(out.append)
            try:
                steps.start("plan")
                app, change = self._change(session, request, out.append)
                now = make_plan(session, app, change)
                if now["id"] != plan_id:
                    planned = self._plans.get(plan_id)
                    if planned is None:
                        raise PlanDriftError(
                            f"plan `{plan_id}` does not match this change now: the cluster "
                            "changed since it was made, or it was made for other arguments",
                            "Make a new plan with the same arguments, review it, and pass its id.",
                        )
                    check_against(planned, now)
                steps.start("deploy")
                outcome = session.deploy(app, guarded(change, now["current_release"]))
            except PaasError as error:
                secrets = self._secrets(session, app) | frozenset(request.config.values())
                result = change_document(command, app, steps, error=error)
                result["last_lines"] = [scrub(line, secrets) for line in out]
                failure = result.get("failure") or {}
                if failure.get("log_tail"):
                    failure["log_tail"] = [scrub(line, secrets) for line in failure["log_tail"]]
                result["plan_id"] = plan_id
                error.result = result  # type: ignore[attr-defined]
                raise
            self._plans.pop(plan_id, None)
        result = change_document(command, app, steps, outcome=outcome)
        result["plan_id"] = plan_id
        return result

    def _change(
        self, session: Session, request: Request, lines: Callable[[str], None]
    ) -> tuple[str, Change]:
        """The app and the change `request` asks for, decided from the cluster now."""
        if request.action == "push":
            return self._push_change(session, request, lines)
        if not request.app:
            raise UsageError(f"`{request.action}` needs `app`")
        app = request.app
        if request.action == "rollback":
            from paas.arguments import release_version
            from paas.releases import current, find_release, rollback_change, rollback_target

            history = session.history(app)
            target = (
                find_release(history, app, release_version(request.release))
                if request.release
                else rollback_target(history, app)
            )
            change = rollback_change(target, current(history))
            change.rebase = lambda live: rollback_change(target, live)
            return app, change
        if request.action == "config_set":
            from paas.arguments import check_env_name
            from paas.releases import Change

            if not request.config:
                raise UsageError("`config_set` needs `config`: the vars to set, as an object")
            for key in request.config:
                check_env_name(key)
            values = dict(request.config)
            names = ", ".join(sorted(values))

            def make(live: Any) -> Change:
                return Change("config", f"Set {names}", config={**live.config, **values})

            change = make(session.current(app))
            change.rebase = make
            return app, change
        raise UsageError(f"unknown action `{request.action}`", "Use push, rollback or config_set.")

    def _push_change(
        self, session: Session, request: Request, lines: Callable[[str], None]
    ) -> tuple[str, Change]:
        from paas.project import Project
        from paas.registry import resolve_digest
        from paas.render import check_policy

        project = Project.read(
            Path(request.path or "."), name=request.app, prebuilt=request.image is not None
        )
        check_policy(project.spec, session.settings)
        if request.image:
            ref = resolve_digest(request.image, insecure=session.settings.insecure_registry)
            return project.name, project.deploy(
                ref, source="" if ref == request.image else f"image {request.image}"
            )
        from paas.build import build_unless_published

        ref = build_unless_published(
            project,
            session.settings,
            strategy=None,
            kube=session.kube,
            on_info=lines,
            on_line=lines,
        )
        return project.name, project.deploy(ref)


def change_document(
    command: str,
    app: str,
    steps: Steps,
    *,
    error: PaasError | None = None,
    outcome: Outcome | None = None,
) -> dict[str, Any]:
    """The change object push and rollback print (schema `push`); `command` says which change."""
    from paas.results import change_result

    data = change_result(
        "rollback" if command == "rollback" else "push", app, steps, outcome=outcome, error=error
    )
    data["command"] = command
    return data
