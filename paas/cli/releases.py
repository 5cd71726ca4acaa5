"""`paas releases`, `paas releases info vN` and `paas rollback [vN]`."""

from __future__ import annotations

from typing import Annotated

import typer

from paas.cli.common import ContextOption, LockWaitOption, NoWaitOption, TimeoutOption
from paas.cli.options import AppOption, JsonOption

group = typer.Typer(help="The app's release history.", invoke_without_command=True)


@group.callback()
def releases(
    ctx: typer.Context,
    app: AppOption = None,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """List the app's releases, newest first.

    \b
    Example:
      paas releases
      paas releases -a hello --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from paas.cli.common import app_name, session
    from paas.console import get_console
    from paas.releases import current

    console = get_console()
    name = app_name(app)
    history = list(reversed(session(context).history(name)))
    if json_output:
        from paas.schemas import document

        console.data(
            document("releases", {"app": name, "releases": [r.summary() for r in history]})
        )
        return
    if not history:
        console.info(f"`{name}` has no releases yet: deploy it with `paas push`.")
        return
    live = current(history)
    console.table(
        ["RELEASE", "STATUS", "DESCRIPTION", "BY", "CREATED"],
        [
            [r.name, "current" if r is live else r.status, r.description, r.author, r.created]
            for r in history
        ],
        title=f"{name} releases",
    )


@group.command("info")
def info(
    release: Annotated[str, typer.Argument(help="The release, like `v3`.")],
    app: AppOption = None,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show one release: image, commit, author, status, config var names.

    \b
    Example:
      paas releases info v3
    """
    from paas.arguments import release_version
    from paas.cli.common import app_name, session
    from paas.console import get_console
    from paas.releases import find_release

    console = get_console()
    version = release_version(release)
    name = app_name(app)
    record = find_release(session(context).history(name), name, version)
    if json_output:
        from paas.schemas import document

        console.data(document("releases info", {"app": name, "release": record.summary()}))
        return
    console.fields(
        [
            ("description", record.description),
            ("status", record.status + (f": {record.failure}" if record.failure else "")),
            ("image", record.image),
            ("commit", record.commit or "-"),
            ("by", record.author),
            ("created", record.created),
            ("config", ", ".join(sorted(record.config)) or "-"),
            (
                "processes",
                ", ".join(f"{p.name}={p.replicas}" for p in record.app.processes.values()),
            ),
        ],
        title=f"{name} {record.name}",
    )


def rollback(
    release: Annotated[
        str | None,
        typer.Argument(
            help="The release to go back to, like `v3`. Default: the newest earlier one "
            "with other code or config (releases that only scaled are skipped).",
            show_default=False,
        ),
    ] = None,
    app: AppOption = None,
    timeout: TimeoutOption = 300,
    no_wait: NoWaitOption = False,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Roll back to an earlier release's image AND config, as a new release.

    \b
    Example:
      paas rollback
      paas rollback v3
    """
    from paas.arguments import release_version
    from paas.cli.common import ChangeReport, app_name, session
    from paas.operations import rollback as roll_back

    with ChangeReport("rollback", app or "", json_output) as report:
        version = release_version(release) if release is not None else None
        report.app = name = app_name(app)
        report.steps.start("deploy")
        outcome = roll_back(
            session(context, timeout=timeout, lock_wait=wait_lock, wait=not no_wait), name, version
        )
        report.done(outcome, "Rolled back:")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.add_typer(group, name="releases")
    app.command()(rollback)
