"""`paas render` and `paas eject`: the app's objects, printed or written out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from paas.cli.common import ContextOption
from paas.cli.options import AppOption, ImageOption, JsonOption, PathArgument, SettingsOption

if TYPE_CHECKING:
    from paas.project import Shown

NextOption = Annotated[
    bool,
    typer.Option(
        "--next",
        help="Show the directory as the next `paas push` would deploy it, instead of what runs.",
    ),
]


def _shown(
    path: Path,
    app: str | None,
    image: str | None,
    next_push: bool,
    context: str | None,
    settings: Path | None,
) -> Shown:
    """What both commands show; notes go to the console."""
    from paas.console import get_console
    from paas.project import objects_to_show

    return objects_to_show(
        path,
        app_name=app,
        image=image,
        next_push=next_push,
        context=context,
        settings_file=settings,
        on_info=get_console().info,
    )


def render(
    path: PathArgument = Path("."),
    app: AppOption = None,
    next_push: NextOption = False,
    image: ImageOption = None,
    settings: SettingsOption = None,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Print the app's Kubernetes objects, exactly as paas applies them.

    For an app that runs, its current release: image by digest, release
    number, config Secret, the cluster's settings. With `--next` (and for an
    app with no release yet) the directory as the next `paas push` would
    deploy it, decided as a push decides. Without a cluster that answers,
    the directory with the local default settings. Pipe it to
    `kubectl diff -f -`, or use `paas eject` to keep it as files.

    \b
    Example:
      paas render -a hello
      paas render --next ./api --image registry.example.com/api@sha256:... --json
    """
    from paas.console import get_console
    from paas.render.output import to_yaml

    console = get_console()
    shown = _shown(path, app, image, next_push, context, settings)
    if shown.image_is_placeholder:
        console.info(
            f"No image yet: showing `{shown.release.image}`; `paas push` deploys the "
            "built image by digest."
        )
    if json_output:
        console.data({"apiVersion": "v1", "kind": "List", "items": shown.objects})
    else:
        console.line(to_yaml(shown.objects).rstrip("\n"))


def eject(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Directory to write the files to.", show_default=False),
    ],
    path: PathArgument = Path("."),
    app: AppOption = None,
    next_push: NextOption = False,
    image: ImageOption = None,
    settings: SettingsOption = None,
    context: ContextOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Write into a non-empty directory, replacing files of the same name."
        ),
    ] = False,
) -> None:
    """Write the app's objects as YAML files with a kustomization.yaml.

    The directory is everything paas applies, with no paas left in it. For an
    app that runs it is what runs (the current release's image, number and
    config), so `kubectl diff -k DIR` is empty and `kubectl apply -k DIR`
    changes nothing: you can leave paas at any time. `--next` writes the
    directory as the next push would deploy it instead. Nothing is written
    when the app has an error or a file cannot be written: the files appear
    all at once. Files with Secret data are readable by you only.

    \b
    Example:
      paas eject -a hello --out k8s/
      kubectl diff -k k8s/ && kubectl apply -k k8s/
    """
    from paas.console import get_console
    from paas.render.output import eject_files
    from paas.scaffold import write_tree

    console = get_console()
    shown = _shown(path, app, image, next_push, context, settings)
    written = write_tree(eject_files(shown.objects), out, force=force)
    if shown.image_is_placeholder:
        console.warn(
            f"No image yet: the files use `{shown.release.image}`; pass `--image` "
            "with a built image's digest."
        )
    console.success(f"Wrote {len(written)} files to `{out}`; deploy with `kubectl apply -k {out}`.")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(render)
    app.command()(eject)
