"""Options shared by many commands, so each is spelled and documented once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

AppOption = Annotated[
    str | None,
    typer.Option(
        "--app",
        "-a",
        help="App name (its namespace is the app's). Default: `name` in paas.yaml, "
        "else the directory name.",
        envvar="PAAS_APP",
        show_default=False,
    ),
]
VerboseOption = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="Show every line the build tools print, the lifecycle's own too "
        "(also `PAAS_VERBOSE=1`). Every line is always in the full build log.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
PathArgument = Annotated[
    Path,
    typer.Argument(help="The app directory.", show_default="."),
]
SettingsOption = Annotated[
    Path | None,
    typer.Option(
        "--settings",
        help="Cluster settings YAML (as `paas cluster info --json` "
        "prints them) to use instead of the cluster's.",
        show_default=False,
        exists=True,
        dir_okay=False,
    ),
]
ImageOption = Annotated[
    str | None,
    typer.Option(
        "--image",
        help="Image reference to render with (best by digest). Default: the image "
        "a push would deploy, when known.",
        show_default=False,
    ),
]
