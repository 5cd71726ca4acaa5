"""`paas diff`: what `paas push` would change, without changing it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from paas.cli.common import ContextOption
from paas.cli.options import AppOption, JsonOption, PathArgument


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
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="text (unified diffs), json (the plan, as `--json`) or markdown "
            "(the plan as a pull-request comment; config values never shown).",
        ),
    ] = "text",
    plan_file: Annotated[
        Path | None,
        typer.Option(
            "--plan-file",
            "--out",
            help="Also write the plan (JSON, with its id) to this file, for "
            "`paas push --plan-file`, which applies only while the cluster still matches it.",
            dir_okay=False,
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

    The plan (`--json`, `--format markdown`, `--plan-file`) sums the change up
    for a review: the image before and after, the config vars added, changed
    and removed (names only), whether pods restart and the release phase runs,
    each object created, updated or deleted, and an id that stays the same
    while nothing it depends on changes.

    \b
    Example:
      paas diff
      paas diff --image registry.example.com/api@sha256:...
      paas diff --format markdown --plan-file plan.json > comment.md
    """
    from paas.cli.common import session
    from paas.console import get_console
    from paas.deploy import app_history
    from paas.errors import UsageError
    from paas.plan import make_plan, markdown
    from paas.project import Project, next_push_image
    from paas.registry import resolve_digest
    from paas.schemas import document

    if output_format not in ("text", "json", "markdown"):
        raise UsageError(
            f"unknown format `{output_format}`", "Use `--format text`, `json` or `markdown`."
        )
    output_format = "json" if json_output else output_format
    console = get_console()
    project = Project.read(path, name=app, prebuilt=image is not None)
    current = session(context)
    history = app_history(current.kube, current.settings, project.name)
    ref = (
        resolve_digest(image, insecure=current.settings.insecure_registry)
        if image
        else next_push_image(project, current.settings, history, on_info=console.info)
    )
    plan = document("diff", make_plan(current, project.name, project.deploy(ref), history=history))
    if plan["unchanged"]:
        console.info(f"A push would make no release: {plan['current_release']} stays current.")
    if plan_file is not None:
        _write(plan_file, json.dumps(plan, indent=2) + "\n")
        console.info(f"Wrote plan `{plan['id']}` to {plan_file}.")
    if output_format == "json":
        console.data(plan)
        return
    if output_format == "markdown":
        console.line(markdown(plan).rstrip("\n"))
        return
    if not plan["objects"]:
        console.success("No changes.")
        return
    for change in plan["objects"]:
        console.line(change["diff"].rstrip("\n"))


def _write(path: Path, text: str) -> None:
    from paas.errors import UsageError

    try:
        path.write_text(text)
    except OSError as error:
        raise UsageError(
            f"cannot write the plan to `{path}`: {error.strerror}", "Pick another `--plan-file`."
        ) from None


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(diff)
