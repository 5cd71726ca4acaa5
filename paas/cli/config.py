"""`paas config`: config vars; each change is a new release and a rolling restart."""

from __future__ import annotations

from typing import Annotated

import typer

from paas.cli.common import ContextOption, LockWaitOption, NoWaitOption, TimeoutOption
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
    reveal: Annotated[
        bool,
        typer.Option("--reveal", help="With --json: include the values (secrets: mind the log)."),
    ] = False,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show the app's config vars.

    With `--json`, the values are null unless `--reveal` is given, so a CI log
    or an agent never sees them by accident.

    \b
    Example:
      paas config
      paas config --shell > .env
      paas config --json            # names only
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
        from paas.schemas import document

        shown = {k: (v if reveal else None) for k, v in sorted(values.items())}
        console.data(document("config", {"app": name, "redacted": not reveal, "config": shown}))
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
    from paas.arguments import check_env_name
    from paas.cli.common import app_name, session
    from paas.console import get_console
    from paas.errors import NotFoundError

    check_env_name(key)
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
    no_wait: NoWaitOption = False,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
) -> None:
    """Set config vars and restart the app on a new release.

    \b
    Example:
      paas config set GREETING=hello DEBUG=false
    """
    from paas.arguments import parse_assignments
    from paas.cli.common import app_name, print_outcome, session
    from paas.console import get_console
    from paas.operations import set_config

    values = parse_assignments(pairs)
    name = app_name(app)
    outcome = set_config(
        session(context, timeout=timeout, lock_wait=wait_lock, wait=not no_wait), name, values
    )
    print_outcome(get_console(), outcome, "Released")


@group.command("unset")
def unset(
    keys: Annotated[list[str], typer.Argument(help="Config var names.", metavar="KEY...")],
    app: AppOption = None,
    purge: Annotated[
        bool,
        typer.Option(
            "--purge",
            help="Also remove the values from every earlier release (records and config "
            "Secrets), for a leaked credential. A rollback to a purged release then runs "
            "without them.",
        ),
    ] = False,
    timeout: TimeoutOption = 300,
    no_wait: NoWaitOption = False,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
) -> None:
    """Remove config vars and restart the app on a new release.

    Earlier releases keep their config, so `paas rollback` restores it; with
    `--purge` the values are removed from the whole release history too.

    \b
    Example:
      paas config unset DEBUG
      paas config unset LEAKED_TOKEN --purge
    """
    from paas.arguments import check_env_name
    from paas.cli.common import app_name, print_outcome, session
    from paas.console import get_console
    from paas.operations import purge_config, unset_config

    names = [check_env_name(k) for k in keys]
    name = app_name(app)
    current = session(context, timeout=timeout, lock_wait=wait_lock, wait=not no_wait)
    console = get_console()
    outcome = unset_config(current, name, names, purge=purge)
    if outcome is not None:
        print_outcome(console, outcome, "Released")
    if not purge:
        return
    rewritten = purge_config(current, name, names)
    listed = ", ".join(f"`{k}`" for k in names)
    if rewritten == 0:
        console.success(f"No earlier release of `{name}` holds {listed}: nothing to purge.")
        return
    console.success(
        f"Purged {listed} from {rewritten} earlier release{'s' if rewritten != 1 else ''} "
        f"of `{name}` (records and config Secrets); a rollback to one of them runs without "
        f"{'it' if len(names) == 1 else 'them'}."
    )


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.add_typer(group, name="config")
