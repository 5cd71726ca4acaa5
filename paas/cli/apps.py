"""`paas apps`: list, create, inspect and destroy apps; `paas open`: open one."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from paas.cli.common import ContextOption
from paas.cli.options import AppOption, JsonOption

group = typer.Typer(help="List, create, inspect and destroy apps.", invoke_without_command=True)


@group.callback()
def apps(
    ctx: typer.Context, context: ContextOption = None, json_output: JsonOption = False
) -> None:
    """List the apps on the cluster, with the release each serves; review apps under their app.

    \b
    Example:
      paas apps
      paas apps --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from paas.app_list import apps_with_reviews, list_apps
    from paas.console import get_console
    from paas.kube.api import Kube
    from paas.schemas import document

    console = get_console()
    rows = list_apps(Kube(context))
    if json_output:
        console.data(document("apps", {"apps": rows}))
        return
    if not rows:
        console.info("No apps yet: create one with `paas apps create NAME` or `paas push`.")
        return
    console.table(
        ["NAME", "RELEASE", "CREATED"],
        [
            [f"  {r['name']} (review)" if review else r["name"], r["release"] or "-", r["created"]]
            for r, review in apps_with_reviews(rows)
        ],
    )


@group.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The app name (a DNS label).")],
    context: ContextOption = None,
) -> None:
    """Create an empty app; `paas push` then deploys to it.

    \b
    Example:
      paas apps create hello
    """
    from paas.cli.common import session
    from paas.console import get_console
    from paas.errors import UsageError
    from paas.names import app_name_problem
    from paas.operations import create_app

    if problem := app_name_problem(name):
        raise UsageError(f"app name `{name}` {problem}")
    created = create_app(session(context), name)
    get_console().success(
        f"Created app `{name}` (namespace `{created}`); deploy it with `paas push --app {name}`."
    )


@group.command("info")
def info(
    app: AppOption = None, context: ContextOption = None, json_output: JsonOption = False
) -> None:
    """Show an app: its URL, release, processes and domains.

    \b
    Example:
      paas apps info -a hello
    """
    from paas.cli.common import app_name, session
    from paas.console import get_console
    from paas.deploy import app_url

    console = get_console()
    name = app_name(app)
    current = session(context)
    live = current.current(name)
    data: dict[str, Any] = {
        "name": name,
        "url": app_url(current.settings, name),
        "namespace": current.settings.namespace(name),
        "release": live.name,
        "image": live.image,
        "source": live.source,
        "deployed_by": live.author,
        "deployed_at": live.created,
        "processes": {p.name: p.replicas for p in live.app.processes.values()},
        "domains": list(live.app.domains),
    }
    if json_output:
        from paas.schemas import document

        console.data(document("apps info", data))
        return
    console.fields(
        [
            ("url", data["url"]),
            ("namespace", data["namespace"]),
            ("release", f"{live.name} ({live.description})"),
            ("image", live.image),
            ("deployed", f"{live.created} by {live.author}"),
            ("processes", ", ".join(f"{k}={v}" for k, v in data["processes"].items())),
            ("domains", ", ".join(live.app.domains) or "-"),
        ],
        title=name,
    )


@group.command("destroy")
def destroy(
    name: Annotated[str, typer.Argument(help="The app to destroy.")],
    confirm: Annotated[
        str, typer.Option(help="The app name again, to confirm.", show_default=False)
    ] = "",
    context: ContextOption = None,
) -> None:
    """Delete an app and everything paas made for it (its namespace); nothing else.

    \b
    Example:
      paas apps destroy hello --confirm hello
    """
    from paas.cli.common import session
    from paas.console import get_console
    from paas.errors import UsageError
    from paas.operations import destroy_app

    if confirm != name:
        raise UsageError(
            f"destroying `{name}` needs `--confirm {name}`",
            "This deletes the app, its releases and config for good.",
        )
    destroy_app(session(context), name)
    get_console().success(f"Destroyed `{name}`.")


def open_app(app: AppOption = None, context: ContextOption = None) -> None:
    """Open the app's URL in a browser (or print it when there is none).

    \b
    Example:
      paas open -a hello
    """
    import webbrowser

    from paas.cli.common import app_name, session
    from paas.console import get_console
    from paas.deploy import app_url

    name = app_name(app)
    url = app_url(session(context).settings, name)
    get_console().line(url)
    if os_has_display():
        webbrowser.open(url)


def os_has_display() -> bool:
    """Whether a browser could open here (a desktop session)."""
    import os
    import sys

    return sys.platform == "darwin" or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.add_typer(group, name="apps")
    app.command("open")(open_app)
