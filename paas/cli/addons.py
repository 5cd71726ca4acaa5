"""`paas addons`: Postgres and Redis attached to apps, the way Heroku's add-ons are."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from paas.cli.common import ContextOption, LockWaitOption, TimeoutOption
from paas.cli.options import AppOption, JsonOption

if TYPE_CHECKING:
    from paas.addons import AddonRecord

group = typer.Typer(
    help="Add-ons: a Postgres or Redis attached to apps, its URL set as a config var.",
    invoke_without_command=True,
)

AsOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="The config var's name without `_URL` (default: DATABASE for postgres, "
        "REDIS for redis).",
        show_default=False,
    ),
]


@group.callback()
def addons(
    ctx: typer.Context,
    app: Annotated[
        str | None,
        typer.Option("--app", "-a", help="Only the add-ons of this app (default: every add-on)."),
    ] = None,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """List add-ons: every add-on, or those of one app.

    \b
    Example:
      paas addons
      paas addons --app hello --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from paas.addon_ops import addon_row, addons_of
    from paas.cli.common import session
    from paas.console import get_console
    from paas.schemas import document

    console = get_console()
    current = session(context)
    rows = [addon_row(current, r) for r in addons_of(current, app)]
    if json_output:
        console.data(document("addons", {"addons": rows}))
        return
    if not rows:
        console.info("No add-ons yet: create one with `paas addons create postgres`.")
        return
    console.table(
        ["NAME", "TYPE", "PLAN", "APP", "ATTACHED AS"],
        [
            [
                r["name"],
                r["type"],
                r["plan"],
                r["app"],
                ", ".join(f"{a['app']}:{a['config_var']}" for a in r["attachments"]) or "-",
            ]
            for r in rows
        ],
    )


@group.command("create")
def create(
    type_name: Annotated[str, typer.Argument(help="postgres or redis.", metavar="TYPE")],
    plan: Annotated[str, typer.Option(help="small, medium or large.")] = "small",
    as_name: AsOption = None,
    name: Annotated[
        str | None,
        typer.Option(help="The add-on's name (default: TYPE-RANDOM).", show_default=False),
    ] = None,
    app: AppOption = None,
    timeout: TimeoutOption = 300,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
) -> None:
    """Create an add-on for the app, wait until it is ready, and set its URL as a new release.

    \b
    Example:
      paas addons create postgres
      paas addons create redis --plan medium --as CACHE --app hello
    """
    from paas.addon_ops import create_addon
    from paas.addons import check_addon_name, check_plan, check_type, config_key
    from paas.cli.common import app_name, print_outcome, session
    from paas.console import get_console

    # Bad input is told before connecting.
    kind = check_type(type_name)
    check_plan(plan)
    if name is not None:
        check_addon_name(name)
    config_key(as_name or kind.default_as)
    console = get_console()
    owner = app_name(app)
    current = session(context, timeout=timeout, lock_wait=wait_lock)
    record, outcome = create_addon(
        current, owner, type_name, plan=plan, name=name, as_name=as_name, on_wait=console.info
    )
    console.success(f"Created add-on `{record.name}` ({record.type}, plan {record.plan}).")
    if outcome is not None:
        print_outcome(console, outcome, "Released")


@group.command("info")
def info(
    name: Annotated[str, typer.Argument(help="The add-on.")],
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show an add-on: type, plan, provider, image, state and the apps it is attached to.

    \b
    Example:
      paas addons info postgres-3fa9c1
    """
    from paas.addon_ops import addon_row, get_addon
    from paas.cli.common import session
    from paas.console import get_console
    from paas.schemas import document

    console = get_console()
    current = session(context)
    row = addon_row(current, get_addon(current, name), with_state=True)
    if json_output:
        console.data(document("addons info", {"addon": row}))
        return
    attached = ", ".join(f"{a['app']} as {a['config_var']}" for a in row["attachments"])
    console.fields(
        [
            ("Type", row["type"]),
            ("Plan", row["plan"]),
            ("Provider", row["provider"]),
            ("App", row["app"]),
            ("Namespace", row["namespace"]),
            ("Image", row["image"]),
            ("State", row["state"]),
            ("Created", row["created"]),
            ("Attached", attached or "-"),
        ],
        title=f"add-on {name}",
    )


@group.command("attach")
def attach(
    name: Annotated[str, typer.Argument(help="The add-on.")],
    app: AppOption = None,
    as_name: AsOption = None,
    timeout: TimeoutOption = 300,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
) -> None:
    """Attach an add-on to another app: its URL is set there as a new release.

    \b
    Example:
      paas addons attach postgres-3fa9c1 --app reports --as MAIN_DB
    """
    from paas.addon_ops import attach_addon
    from paas.addons import check_addon_name, config_key
    from paas.cli.common import app_name, print_outcome, session
    from paas.console import get_console

    check_addon_name(name)
    if as_name is not None:
        config_key(as_name)

    _, outcome = attach_addon(
        session(context, timeout=timeout, lock_wait=wait_lock), name, app_name(app), as_name=as_name
    )
    print_outcome(get_console(), outcome, "Released")


@group.command("detach")
def detach(
    name: Annotated[str, typer.Argument(help="The add-on.")],
    app: AppOption = None,
    timeout: TimeoutOption = 300,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
) -> None:
    """Detach an add-on from an app: its config var is unset as a new release; the data stays.

    \b
    Example:
      paas addons detach postgres-3fa9c1 --app reports
    """
    from paas.addon_ops import detach_addon
    from paas.cli.common import app_name, print_outcome, session
    from paas.console import get_console

    _, outcome = detach_addon(
        session(context, timeout=timeout, lock_wait=wait_lock), name, app_name(app)
    )
    print_outcome(get_console(), outcome, "Released")


@group.command("destroy")
def destroy(
    name: Annotated[str, typer.Argument(help="The add-on.")],
    confirm: Annotated[
        str | None,
        typer.Option(help="The add-on's name again: its data is deleted.", show_default=False),
    ] = None,
    timeout: TimeoutOption = 300,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
) -> None:
    """Detach an add-on from every app, then delete it and its volume.

    \b
    Example:
      paas addons destroy postgres-3fa9c1 --confirm postgres-3fa9c1
    """
    from paas.addon_ops import destroy_addon
    from paas.cli.common import session
    from paas.console import get_console

    console = get_console()
    record: AddonRecord = destroy_addon(
        session(context, timeout=timeout, lock_wait=wait_lock),
        name,
        confirm=confirm,
        on_step=console.info,
    )
    console.success(f"Destroyed add-on `{record.name}` and its data.")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.add_typer(group, name="addons")
