"""`paas diff`: what `paas push` would change, without changing it."""

from __future__ import annotations

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
            help="Compare as if deploying this image. Default: the current one.",
            show_default=False,
        ),
    ] = None,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show what a push of this directory would change in the cluster.

    Renders the app as `paas push` would, asks the API server for a
    server-side dry run of each object, and prints a unified diff against the
    live objects. Config values are redacted. Changes nothing, and exits 0
    whether or not there are changes.

    \b
    Example:
      paas diff
      paas diff --image registry.example.com/api@sha256:...
    """
    from paas.cli.common import session
    from paas.console import get_console
    from paas.deploy import planned_objects
    from paas.kube.diff import diff as diff_objects
    from paas.manifest import load_app
    from paas.registry import resolve_digest

    console = get_console()
    spec = load_app(path, name=app, detect_language=False)
    current = session(context)
    ref = resolve_digest(image, insecure=current.settings.insecure_registry) if image else None
    objects, prune = planned_objects(current.kube, current.settings, spec, image=ref)
    changes = diff_objects(current.kube, objects, prune)
    if json_output:
        console.data([{"object": name, "diff": text} for name, text in changes])
        return
    if not changes:
        console.success("No changes.")
        return
    for _name, text in changes:
        console.line(text.rstrip("\n"))


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(diff)
