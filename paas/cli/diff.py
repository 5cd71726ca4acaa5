"""`paas diff`: what `paas push` would change, without changing it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from paas.cli.common import ContextOption
from paas.cli.options import AppOption, JsonOption, PathArgument

if TYPE_CHECKING:
    from paas.deploy import Plan
    from paas.releases import ReleaseRecord


def diff(
    path: PathArgument = Path("."),
    app: AppOption = None,
    image: Annotated[
        str | None,
        typer.Option(
            "--image",
            help="Compare as if deploying this image. Default: the image built from "
            "this source when the registry has it, else the current one.",
            show_default=False,
        ),
    ] = None,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show what a push of this directory would change in the cluster.

    Decides the next release exactly as `paas push` does (the same rules: a
    scale-only change restarts nothing, unchanged source makes no release),
    renders it, asks the API server for a server-side dry run of each object,
    and prints a unified diff against the live objects. Config values are
    redacted: `(redacted 1a2b3c4d)` is a digest keyed afresh for each run, so
    within one diff a changed value shows a different digest, but the digests
    of two runs cannot be compared, nor a guessed value confirmed. Changes
    nothing, and exits 0 whether or not there are changes.

    \b
    Example:
      paas diff
      paas diff --image registry.example.com/api@sha256:...
    """
    from paas.cli.common import session
    from paas.console import get_console
    from paas.deploy import app_history, plan_change
    from paas.kube.diff import diff as diff_objects
    from paas.project import Project, next_push_image
    from paas.registry import resolve_digest

    console = get_console()
    project = Project.read(path, name=app, prebuilt=image is not None)
    current = session(context)
    history = app_history(current.kube, current.settings, project.name)
    ref = (
        resolve_digest(image, insecure=current.settings.insecure_registry)
        if image
        else next_push_image(project, current.settings, history, on_info=console.info)
    )
    plan = plan_change(
        current.kube, current.settings, project.name, project.deploy(ref), history=history
    )
    if plan.unchanged:
        console.info(f"A push would make no release: {plan.record.name} stays current.")
    objects = [o for o in plan.objects if o["kind"] != "Job"]  # run once, never re-applied
    changes = diff_objects(current.kube, objects, plan.prune)
    if json_output:
        from paas.releases import current as serving
        from paas.schemas import document

        console.data(document("diff", plan_summary(project.name, plan, serving(history), changes)))
        return
    if not changes:
        console.success("No changes.")
        return
    for _name, text in changes:
        console.line(text.rstrip("\n"))


def plan_summary(
    app: str, plan: Plan, live: ReleaseRecord | None, changes: list[tuple[str, str]]
) -> dict[str, Any]:
    """What `paas diff --json` prints: the next release against the serving one, names only."""
    new, old = plan.record, live
    before = old.config if old is not None else {}
    after = {} if plan.unchanged else new.config
    if plan.unchanged:
        before = after = {}
    return {
        "app": app,
        "unchanged": plan.unchanged,
        "release": None if plan.unchanged else new.name,
        "current_release": old.name if old is not None else None,
        "image": {
            "from": old.image if old is not None else None,
            "to": old.image if plan.unchanged and old is not None else new.image,
        },
        "config": {
            "added": sorted(set(after) - set(before)),
            "changed": sorted(k for k in set(after) & set(before) if after[k] != before[k]),
            "removed": sorted(set(before) - set(after)),
        },
        "restart": not plan.unchanged and new.pod_version is None,
        "release_phase": (
            not plan.unchanged and new.pod_version is None and bool(new.app.release_command)
        ),
        "changes": [{"object": name, "diff": text} for name, text in changes],
    }


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(diff)
