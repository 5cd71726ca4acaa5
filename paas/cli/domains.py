"""`paas domains`: custom domains on the app's Ingress."""

from __future__ import annotations

from typing import Annotated

import typer

from paas.cli.common import ContextOption, LockWaitOption, TimeoutOption
from paas.cli.options import AppOption, JsonOption

group = typer.Typer(help="Custom domains; the Ingress and TLS follow.", invoke_without_command=True)


@group.callback()
def domains(
    ctx: typer.Context,
    app: AppOption = None,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """List the app's domains: the default one and the custom ones.

    \b
    Example:
      paas domains
    """
    if ctx.invoked_subcommand is not None:
        return
    from paas.cli.common import app_name, session
    from paas.console import get_console

    console = get_console()
    name = app_name(app)
    current = session(context)
    live = current.current(name)
    hosts = [current.settings.app_host(name), *live.app.domains]
    if json_output:
        from paas.schemas import document

        console.data(document("domains", {"app": name, "default": hosts[0], "custom": hosts[1:]}))
        return
    console.table(
        ["DOMAIN", "KIND"], [[h, "default" if i == 0 else "custom"] for i, h in enumerate(hosts)]
    )


@group.command("add")
def add(
    host: Annotated[str, typer.Argument(help="The host name, like www.example.com.")],
    app: AppOption = None,
    timeout: TimeoutOption = 300,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
) -> None:
    """Serve the app on another host name too (point its DNS at the cluster's ingress).

    \b
    Example:
      paas domains add www.example.com
    """
    from paas.arguments import check_host
    from paas.cli.common import app_name, print_outcome, session
    from paas.console import get_console
    from paas.operations import add_domain

    check_host(host)
    name = app_name(app)
    outcome = add_domain(session(context, timeout=timeout, lock_wait=wait_lock), name, host)
    print_outcome(get_console(), outcome, "Released")


@group.command("remove")
def remove(
    host: Annotated[str, typer.Argument(help="The custom host name to remove.")],
    app: AppOption = None,
    timeout: TimeoutOption = 300,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
) -> None:
    """Stop serving the app on a custom host name.

    \b
    Example:
      paas domains remove www.example.com
    """
    from paas.arguments import check_host
    from paas.cli.common import app_name, print_outcome, session
    from paas.console import get_console
    from paas.operations import remove_domain

    check_host(host, adding=False)
    name = app_name(app)
    outcome = remove_domain(session(context, timeout=timeout, lock_wait=wait_lock), name, host)
    print_outcome(get_console(), outcome, "Released")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.add_typer(group, name="domains")
