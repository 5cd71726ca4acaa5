"""`paas config`: config vars; each change is a new release and a rolling restart."""

from __future__ import annotations

from typing import Annotated

import typer

from paas.cli.common import ContextOption, LockWaitOption, TimeoutOption
from paas.cli.options import AppOption, JsonOption

group = typer.Typer(
    help="Config vars: each change is a new release and a rolling restart.",
    invoke_without_command=True,
)


@group.callback()
def config(
    ctx: typer.Context,
    app: AppOption = None,
    shell: Annotated[
        bool,
        typer.Option(
            "--shell",
            help="Print KEY=VALUE lines, quoted for a shell (to `source` or copy into .env).",
        ),
    ] = False,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show the app's config vars.

    \b
    Example:
      paas config
      paas config --shell > .env
    """
    if ctx.invoked_subcommand is not None:
        return
    import shlex

    from paas.cli.common import app_name, session
    from paas.console import get_console

    console = get_console()
    name = app_name(app)
    values = session(context).current(name).config
    if json_output:
        console.data(dict(sorted(values.items())))
    elif shell:
        for key, value in sorted(values.items()):
            console.line(f"{key}={shlex.quote(value)}")
    else:
        console.fields(sorted(values.items()), title=f"{name} config vars")


@group.command("get")
def get(
    key: Annotated[str, typer.Argument(help="The config var.")],
    app: AppOption = None,
    context: ContextOption = None,
) -> None:
    """Print one config var's value.

    \b
    Example:
      paas config get DATABASE_URL
    """
    from paas.cli.common import app_name, session
    from paas.console import get_console
    from paas.errors import NotFoundError

    name = app_name(app)
    values = session(context).current(name).config
    if key not in values:
        raise NotFoundError(
            f"config var `{key}` is not set on `{name}`", "See `paas config` for the ones that are."
        )
    get_console().line(values[key])


@group.command("set")
def set_(
    pairs: Annotated[list[str], typer.Argument(help="KEY=VALUE pairs.", metavar="KEY=VALUE...")],
    app: AppOption = None,
    timeout: TimeoutOption = 300,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
) -> None:
    """Set config vars and restart the app on a new release.

    \b
    Example:
      paas config set GREETING=hello DEBUG=false
    """
    from paas.cli.common import app_name, print_outcome, session
    from paas.console import get_console
    from paas.operations import parse_assignments, set_config

    values = parse_assignments(pairs)
    outcome = set_config(
        session(context, timeout=timeout, lock_wait=wait_lock), app_name(app), values
    )
    print_outcome(get_console(), outcome, "Released")


@group.command("unset")
def unset(
    keys: Annotated[list[str], typer.Argument(help="Config var names.", metavar="KEY...")],
    app: AppOption = None,
    timeout: TimeoutOption = 300,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
) -> None:
    """Remove config vars and restart the app on a new release.

    \b
    Example:
      paas config unset DEBUG
    """
    from paas.cli.common import app_name, print_outcome, session
    from paas.console import get_console
    from paas.operations import unset_config

    outcome = unset_config(
        session(context, timeout=timeout, lock_wait=wait_lock), app_name(app), keys
    )
    print_outcome(get_console(), outcome, "Released")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.add_typer(group, name="config")
