"""`paas logs`: every pod of the app, merged in time order, prefixed like `heroku logs`."""

from __future__ import annotations

from typing import Annotated

import typer

from paas.cli.common import ContextOption
from paas.cli.options import AppOption

_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red")


def logs(
    app: AppOption = None,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow", "-f", help="Keep printing new lines, following new pods through a rollout."
        ),
    ] = False,
    process: Annotated[
        str | None,
        typer.Option(
            "--process",
            "-p",
            help="Only this process type (`web`, `worker`; `release` for the "
            "release phase, `run` for one-off runs).",
            show_default=False,
        ),
    ] = None,
    tail: Annotated[
        int | None,
        typer.Option(
            "--tail",
            "-n",
            help="Lines to start with: the newest N in all, or per pod with `-f`.",
            min=0,
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only lines newer than this, like `10m`.", show_default=False),
    ] = None,
    context: ContextOption = None,
) -> None:
    """Show the app's logs: every pod, merged in time order.

    Each line is prefixed with its time and source, like `heroku logs`:
    `2026-01-02T03:04:05Z app[web.x7k2p]: GET / 200`. On a terminal, control
    characters and escape sequences in a line are shown as text (`\\x1b[2J`),
    not acted on; to a file or pipe the lines are as the app wrote them.

    \b
    Example:
      paas logs --tail 100
      paas logs -f -p web
    """
    from paas.arguments import check_process
    from paas.arguments import since_seconds as parse_since
    from paas.cli.common import app_name, session
    from paas.console import get_console
    from paas.kube.logs import LogLine, app_logs, follow_app_logs

    console = get_console()
    since_seconds = parse_since(since) if since is not None else None
    if process is not None:
        check_process(process, log_sources=True)
    name = app_name(app)
    current = session(context)
    current.history(name)  # a clear error when there is no such app
    namespace = current.settings.namespace(name)
    colours: dict[str, str] = {}

    def show(line: LogLine) -> None:  # the app's text: the console makes it safe to show
        colour = colours.setdefault(line.process, _COLOURS[len(colours) % len(_COLOURS)])
        console.tagged(f"{line.time[:19]}Z app[{line.source}]:", line.text, colour)

    if not follow:
        for line in app_logs(
            current.kube, namespace, name, process=process, tail=tail, since_seconds=since_seconds
        ):
            show(line)
        return
    for line in follow_app_logs(
        current.kube, namespace, name, process=process, tail=tail, since_seconds=since_seconds
    ):
        show(line)


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(logs)
