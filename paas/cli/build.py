"""`paas build`: build the app's image and publish it to the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paas.cli.common import ContextOption
from paas.cli.options import AppOption, JsonOption, PathArgument, SettingsOption, VerboseOption

StrategyOption = Annotated[
    str | None,
    typer.Option(
        "--strategy",
        help="`local` (pack and a Docker-compatible daemon), `dockerfile` (the daemon's API, "
        "else podman, buildah or docker) or `cluster` (a pod: the CNB lifecycle, or kaniko for "
        "an app with a Dockerfile). Default: `dockerfile` for an app with a Dockerfile, "
        "else `local`.",
        show_default=False,
    ),
]
BuilderOption = Annotated[
    str | None,
    typer.Option(
        "--builder",
        help="CNB builder image. Default: `build.builder` in paas.yaml, else the "
        "cluster's (`paas/builder`, made by `paas builder create`). For a Dockerfile app "
        "built in the cluster: the Dockerfile builder image (default: the cluster's "
        "`dockerfile_builder`).",
        show_default=False,
    ),
]
RegistryOption = Annotated[
    str | None,
    typer.Option(
        "--registry",
        help="Registry to push to, e.g. `registry.example.com:5000`. Default: the cluster's.",
        show_default=False,
    ),
]
BuildEnvOption = Annotated[
    list[str] | None,
    typer.Option(
        "--build-env",
        "-e",
        help="Build-time variable `NAME=VALUE` (repeatable); a build arg for Dockerfile "
        "builds. The value reaches the build in a file or a Secret, never on a command line.",
        show_default=False,
    ),
]


def build(
    path: PathArgument = Path("."),
    app: AppOption = None,
    strategy: StrategyOption = None,
    builder: BuilderOption = None,
    registry: RegistryOption = None,
    build_env: BuildEnvOption = None,
    tag: Annotated[
        str | None,
        typer.Option(
            "--tag",
            help="Image tag. Default: the short commit id of a clean git checkout, "
            "else a time stamp.",
            show_default=False,
        ),
    ] = None,
    clear_cache: Annotated[
        bool, typer.Option("--clear-cache", help="Build without the cached layers.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the plan; build nothing.")
    ] = False,
    verbose: VerboseOption = False,
    settings: SettingsOption = None,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Build the app's image with buildpacks or its Dockerfile, and publish it.

    Prints the image by digest (`REGISTRY/APP@sha256:...`), which is what a
    release deploys. Only files that `.paasignore` (else `.gitignore`) lets
    through are sent to the build; `.git/` never is. Registry credentials come
    from the Docker config file (`docker login`/`podman login`) or from
    `PAAS_REGISTRY_USERNAME` and `PAAS_REGISTRY_PASSWORD`.

    The registry and default builder are the cluster's settings (the current
    kubeconfig context, or `--context`); without a cluster that answers, the
    local defaults, and it says so. `--strategy cluster` needs no local
    daemon: the build runs in a pod of that cluster.

    The build shows the buildpacks' lines (`----->` and their details), or a
    Dockerfile's `STEP n/m:` lines, and hides the lifecycle's own unless
    `--verbose`; every line goes to a full build log under
    `$XDG_CACHE_HOME/paas/logs/`, whose path and last lines a failed build
    prints.

    \b
    Example:
      paas build
      paas build ./api --strategy dockerfile --json
      paas build --strategy cluster
    """
    from paas.build import build_app, plan_build, source_tag
    from paas.build.buildenv import parse_env_pairs
    from paas.console import get_console
    from paas.kube.store import settings_for
    from paas.project import Project

    console = get_console()
    if verbose:
        from paas.build.output import set_verbose

        set_verbose(True)
    # Checked before anything is read or any connection is made.
    extra_env = parse_env_pairs(build_env)
    project = Project.read(path, name=app)
    cluster, kube = settings_for(context, settings, on_info=console.info)
    if registry:
        cluster = cluster.model_copy(update={"registry": registry})
    plan = plan_build(
        project.spec,
        project.detection,
        cluster,
        strategy=strategy,
        builder=builder,
        extra_env=extra_env,
    ).with_tag(tag or source_tag(path))
    if plan.strategy == "cluster" and kube is None and not dry_run:
        from paas.kube.api import Kube

        kube = Kube(context)
    if dry_run:
        if json_output:
            console.data(plan.to_dict())
        else:
            console.fields([(k, v) for k, v in plan.to_dict().items()], title="Build plan")
        return
    how = " ".join(
        ([f"from `{plan.dockerfile}`"] if plan.dockerfile else [])
        + ([f"with `{plan.builder}`"] if plan.builder else [])
    )
    result = build_app(
        path,
        plan,
        on_line=console.info,
        clear_cache=clear_cache,
        kube=kube,
        announce=f"Building `{plan.image}` ({plan.strategy}) {how}".rstrip(),
    )
    if json_output:
        console.data(result.to_dict())
    else:
        console.line(result.image)


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(build)
