"""`paas builder create`: build paas's own CNB builder, offline, and push it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from paas.cli.common import ContextOption
from paas.cli.options import JsonOption, SettingsOption

builder_app = typer.Typer(
    name="builder",
    help="paas's own CNB builder (buildpacks/).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@builder_app.command("create")
def create(
    registry: Annotated[
        str | None,
        typer.Option(
            "--registry",
            help="Registry to push to. Default: the cluster's (`paas cluster init "
            "--registry`); `localhost:5000` when no cluster answers.",
            show_default=False,
        ),
    ] = None,
    lifecycle: Annotated[
        Path | None,
        typer.Option(
            "--lifecycle",
            help="The CNB lifecycle tarball (`lifecycle-vX+linux.x86-64.tgz`). "
            "Default: `PAAS_LIFECYCLE_TGZ`.",
            show_default=False,
            dir_okay=False,
        ),
    ] = None,
    base_image: Annotated[
        str,
        typer.Option("--base-image", help="The Debian image both base images start from."),
    ] = "localhost/debian:bookworm",
    ca_file: Annotated[
        Path | None,
        typer.Option(
            "--ca-file",
            help="Extra CA certificates (PEM) the images trust, e.g. a proxy's. "
            "Default: `SSL_CERT_FILE` when set.",
            show_default=False,
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    no_push: Annotated[
        bool, typer.Option("--no-push", help="Keep the images local; push nothing.")
    ] = False,
    settings: SettingsOption = None,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Build the paas builder from buildpacks/ and push it to the registry.

    Builds the run and build base images on the Debian base image (nothing is
    pulled; CPython is compiled into the build image, which takes minutes the
    first time), then the builder with `pack builder create --pull-policy
    never` and the lifecycle from a local tarball. Pushes `REGISTRY/paas/run`
    and `REGISTRY/paas/builder`, which `paas build` uses by default.

    \b
    Example:
      paas builder create
      paas builder create --registry registry.example.com:5000 --lifecycle ./lifecycle.tgz
    """
    from paas.build.builder import create_builder
    from paas.console import get_console
    from paas.errors import UsageError
    from paas.kube.store import settings_for

    console = get_console()
    tarball = lifecycle or (
        Path(os.environ["PAAS_LIFECYCLE_TGZ"]) if os.environ.get("PAAS_LIFECYCLE_TGZ") else None
    )
    if tarball is None:
        raise UsageError(
            "No CNB lifecycle tarball was given.",
            "Pass `--lifecycle PATH` or set `PAAS_LIFECYCLE_TGZ` "
            '(`eval "$(hack/testbed env)"` sets it).',
        )
    cluster, _ = settings_for(context, settings, on_info=console.info)
    if ca_file is None and os.environ.get("SSL_CERT_FILE"):
        candidate = Path(os.environ["SSL_CERT_FILE"])
        ca_file = candidate if candidate.is_file() else None
    from paas.build.output import presented

    # As a build shows: STEP and -----> lines without escape codes, the full log
    # kept, its tail on a failure.
    with presented(
        "builder",
        console.info,
        start="Building the builder (base images, buildpacks, pack)...",
        say=console.info,
    ) as shown:
        images = create_builder(
            registry=registry or cluster.registry,
            lifecycle=tarball,
            env=dict(os.environ),
            on_line=shown,
            base_image=base_image,
            ca_file=ca_file,
            insecure_registry=cluster.insecure_registry,
            push=not no_push,
        )
    console.success(f"Builder `{images.builder}` is ready")
    if json_output:
        console.data(images.to_dict())
    else:
        console.line(images.builder)


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.add_typer(builder_app)
