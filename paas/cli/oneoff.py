"""`paas run`: a one-off process from the current release, with its config."""

from __future__ import annotations

from typing import Annotated

import typer

from paas.cli.common import ContextOption
from paas.cli.options import AppOption


def run(
    command: Annotated[
        list[str],
        typer.Argument(
            help="The command and its arguments; put `--` before them.", metavar="-- COMMAND..."
        ),
    ],
    app: AppOption = None,
    detach: Annotated[
        bool,
        typer.Option("--detach", "-d", help="Start it and return; follow it with `paas logs`."),
    ] = False,
    context: ContextOption = None,
) -> None:
    """Run a one-off command in a new pod of the current release, with its config.

    Attached to your terminal when stdin is one; the command's exit code is
    paas's exit code. The pod is removed when the command ends. Otherwise its
    output is streamed line by line: as it is to a file or pipe, with control
    characters shown as text (`\\x1b`) on a terminal.

    \b
    Example:
      paas run -- python manage.py migrate
      paas run -- bash
      paas run --detach -- python scripts/backfill.py
    """
    import secrets
    import shlex
    import sys

    from paas.cli.common import app_name, session
    from paas.console import get_console
    from paas.kube.run import run_pod
    from paas.render import one_off_pod

    console = get_console()
    name = app_name(app)
    current = session(context)
    live = current.current(name)
    interactive = sys.stdin.isatty() and sys.stdout.isatty() and not detach
    run_id = secrets.token_hex(3)
    pod = one_off_pod(
        live.app, live.release(), current.settings, run_id=run_id, command=command, tty=interactive
    )
    console.info(
        f"Running `{shlex.join(command)}` on `{name}` ({live.name}) as "
        f"`{pod['metadata']['name']}`..."
    )
    code = run_pod(
        current.kube, pod, interactive=interactive, on_output=console.line, detach=detach
    )
    if detach:
        console.success(f"Started; follow it with `paas logs -f -p run.{run_id} -a {name}`.")
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command(context_settings={"allow_interspersed_args": False})(run)
