"""`paas render` and `paas eject`: the objects a push applies, printed or written out."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paas.cli.options import (
    AppOption,
    ImageOption,
    JsonOption,
    PathArgument,
    ReleaseOption,
    SettingsOption,
)


def render(
    path: PathArgument = Path("."),
    app: AppOption = None,
    image: ImageOption = None,
    release: ReleaseOption = 1,
    settings: SettingsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Print exactly the Kubernetes objects a push would apply.

    The output is what `paas push` sends to the cluster with server-side apply,
    after `kubernetes.patches` from paas.yaml. Pipe it to `kubectl diff -f -` to
    compare, or use `paas eject` to keep it as files.

    \b
    Example:
      paas render
      paas render ./api --image registry.example.com/api@sha256:... --json
    """
    from paas.console import get_console
    from paas.project import local_render_inputs
    from paas.render import render as render_objects
    from paas.render.output import to_yaml

    console = get_console()
    inputs = local_render_inputs(
        path, app_name=app, image=image, release=release, settings_file=settings
    )
    objects = render_objects(inputs.app, inputs.release, inputs.settings)
    if inputs.image_is_placeholder:
        console.info(
            f"No image yet: showing `{inputs.release.image}`; `paas push` deploys the "
            "built image by digest."
        )
    if json_output:
        console.data({"apiVersion": "v1", "kind": "List", "items": objects})
    else:
        console.line(to_yaml(objects).rstrip("\n"))


def eject(
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Directory to write the files to.", show_default=False),
    ],
    path: PathArgument = Path("."),
    app: AppOption = None,
    image: ImageOption = None,
    release: ReleaseOption = 1,
    settings: SettingsOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Write into a non-empty directory, replacing files of the same name."
        ),
    ] = False,
) -> None:
    """Write the app's objects as YAML files with a kustomization.yaml.

    The directory is everything paas would apply, with no paas left in it:
    `kubectl apply -k DIR` deploys the app without paas, so you can leave at
    any time. Nothing is written when the app has an error.

    \b
    Example:
      paas eject --out k8s/
      kubectl apply -k k8s/
    """
    from paas.console import get_console
    from paas.project import local_render_inputs
    from paas.render import render as render_objects
    from paas.render.output import eject_files, write_tree

    console = get_console()
    inputs = local_render_inputs(
        path, app_name=app, image=image, release=release, settings_file=settings
    )
    files = eject_files(render_objects(inputs.app, inputs.release, inputs.settings))
    written = write_tree(files, out, force=force)
    if inputs.image_is_placeholder:
        console.warn(
            f"No image yet: the files use `{inputs.release.image}`; pass `--image` "
            "with a built image's digest."
        )
    console.success(f"Wrote {len(written)} files to `{out}`; deploy with `kubectl apply -k {out}`.")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(render)
    app.command()(eject)
