"""`paas version`."""

from __future__ import annotations

from typing import Annotated

import typer

from paas.cli.options import JsonOption


def version(
    cluster: Annotated[
        bool,
        typer.Option(
            "--cluster",
            help="Also ask the cluster of the current kube context for its version.",
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Print the versions of paas and, with `--cluster`, of the cluster.

    \b
    Example:
      paas version
      paas version --cluster --json
    """
    import platform

    from paas import __version__
    from paas.console import get_console

    console = get_console()
    info: dict[str, str] = {"paas": __version__, "python": platform.python_version()}
    if cluster:
        from paas.kube import server_version

        info["cluster"] = server_version()
    if json_output:
        console.data(info)
    else:
        console.fields(list(info.items()))


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(version)
