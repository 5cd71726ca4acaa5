"""`paas init`: start an app's paas.yaml, or a whole app from a starter."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paas.cli.options import AppOption, PathArgument


def init(
    path: PathArgument = Path("."),
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            "-t",
            help="Start from a starter app instead: python-flask, "
            "node-express, go-http, static-site, dockerfile, web-worker.",
            show_default=False,
        ),
    ] = None,
    app: AppOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing paas.yaml.")
    ] = False,
) -> None:
    """Write a commented paas.yaml for the app, from what paas detects.

    With `--template` it copies a starter app into the directory instead
    (nothing is overwritten). It never writes through a symbolic link or over
    a special file. paas.yaml is optional: without it paas reads the
    Procfile and app.json and detects the rest.

    \b
    Example:
      paas init
      paas init --template python-flask myapp
    """
    import os

    from paas.console import get_console
    from paas.errors import UsageError
    from paas.manifest import MANIFEST_FILE
    from paas.names import suggest_app_name
    from paas.project import Project
    from paas.scaffold import copy_template, create_file, in_the_way, manifest_text, replace_file

    console = get_console()
    if template is not None:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(
                f"cannot make the directory `{path}`: {error.strerror or error}",
                "Choose another directory.",
            ) from None
        name = app or suggest_app_name(path.resolve().name)
        written = copy_template(template, path, name)
        console.success(
            f"Created app `{name}` from `{template}` in `{path}` "
            f"({len(written)} files); see what it deploys with `paas render {path}`."
        )
        return
    target = path / MANIFEST_FILE
    exists_hint = "Edit it, or pass `--force` to replace it."
    if os.path.lexists(target) and not (force and target.is_file() and not target.is_symlink()):
        raise in_the_way(target, exists_hint)  # a link, even a dangling one, is never followed
    spec = Project.read(path, name=app).spec
    evidence = f"Detected {spec.language or 'nothing to build'}; read: " + (
        ", ".join(s for s in spec.sources if s != MANIFEST_FILE) or "no Procfile or app.json"
    )
    text = manifest_text(spec, evidence)
    if force:
        replace_file(target, text)
    else:
        create_file(target, text, exists_hint)
    console.success(f"Wrote `{target}` for app `{spec.name}`; check it, then run `paas push`.")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(init)
