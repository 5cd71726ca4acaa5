"""`paas receiver install`, `status` and `uninstall`: the receiver in the cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paas.cli.common import ContextOption
from paas.cli.options import AppOption, JsonOption
from paas.cli.receiver import group


@group.command("install")
def install(
    host: Annotated[
        str | None,
        typer.Option("--host", help="The Ingress host. Default: git.DOMAIN.", show_default=False),
    ] = None,
    size: Annotated[str, typer.Option("--size", help="The repositories' volume size.")] = "5Gi",
    storage_class: Annotated[
        str | None,
        typer.Option(
            "--storage-class",
            help="The volume's StorageClass. Default: the cluster's default.",
            show_default=False,
        ),
    ] = None,
    base_image: Annotated[
        str | None,
        typer.Option(
            "--base-image",
            help="A Debian 12 image the receiver's image is built on. Default: "
            "REGISTRY/debian:bookworm when the cluster's registry has it, else Docker Hub's.",
            show_default=False,
        ),
    ] = None,
    ca_file: Annotated[
        Path | None,
        typer.Option(
            "--ca-file",
            help="Certificates the image trusts besides Debian's (a proxy's CA), PEM. "
            "Default: $SSL_CERT_FILE when set.",
            show_default=False,
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    image: Annotated[
        str | None,
        typer.Option(
            "--image",
            help="Run this receiver image instead of building one.",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the objects as YAML; apply nothing.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for the receiver to be ready.")
    ] = 300,
    context: ContextOption = None,
) -> None:
    """Run the git push receiver in the cluster, at git.DOMAIN.

    Builds the receiver's image in the cluster from this paas (nothing is
    pulled from the internet when the registry has a Debian image), pushes it to
    the cluster's registry, and applies a Deployment, Service, Ingress, a volume
    for the repositories and a ServiceAccount with exactly a deploy's rights, in
    paas-system (Pod Security "restricted"). Run it again to upgrade.

    \b
    Example:
      paas receiver install
      paas receiver token create --app hello | paas git remote --app hello \\
        --url http://git.apps.example.com --token-stdin
    """
    import os

    import yaml

    from paas.console import get_console
    from paas.kube.api import Kube
    from paas.kube.store import read_cluster_settings
    from paas.receiver.install import ReceiverPlan, default_host, receiver_objects
    from paas.receiver.installer import build_image, wait_ready
    from paas.receiver.installer import install as apply_objects

    console = get_console()
    kube = Kube(context)
    settings = read_cluster_settings(kube)
    plan = ReceiverPlan(
        image=image or "IMAGE",
        host=host or default_host(settings),
        size=size,
        storage_class=storage_class,
    )
    if dry_run:
        console.line(yaml.safe_dump_all(receiver_objects(plan, settings), sort_keys=False))
        return
    if image is None:
        if ca_file is None and os.environ.get("SSL_CERT_FILE"):
            candidate = Path(os.environ["SSL_CERT_FILE"])
            ca_file = candidate if candidate.is_file() else None
        built = build_image(
            kube,
            settings,
            base=base_image,
            ca_file=ca_file,
            say=console.info,
            on_line=console.info,
        )
        plan = ReceiverPlan(built, plan.host, plan.size, plan.storage_class)
    console.info(f"Installing the receiver ({plan.image})...")
    apply_objects(kube, settings, plan, say=console.info)
    wait_ready(kube, timeout=timeout, say=console.info)
    scheme = "http" if settings.tls.mode == "none" else "https"
    console.success(f"The receiver serves {scheme}://{plan.host}")
    console.info(
        f"Next: paas receiver token create --app APP | paas git remote --app APP "
        f"--url {scheme}://{plan.host} --token-stdin"
    )


@group.command("status")
def receiver_status(context: ContextOption = None, json_output: JsonOption = False) -> None:
    """Show the receiver in the cluster: ready or not, image, URL, volume, tokens.

    Exits 1 when it is not installed or not ready.

    \b
    Example:
      paas receiver status --json
    """
    from paas.console import get_console
    from paas.kube.api import Kube
    from paas.kube.store import read_cluster_settings
    from paas.receiver.installer import status

    console = get_console()
    kube = Kube(context)
    found = status(kube, read_cluster_settings(kube))
    if json_output:
        console.data(found)
    elif not found["installed"]:
        console.info("The receiver is not installed: `paas receiver install` installs it.")
    else:
        tokens = found["tokens"]
        rows = [
            ["ready", "yes" if found["ready"] else f"no ({found['problem'] or 'starting'})"],
            ["url", found["url"] or "-"],
            ["image", found["image"]],
            ["volume", found["volume"] or "missing"],
            ["tokens", f"{tokens['active']} active of {tokens['total']}"],
        ]
        console.table(["", ""], rows)
    if not found["ready"]:
        raise typer.Exit(1)


@group.command("uninstall")
def uninstall(
    purge: Annotated[
        bool,
        typer.Option("--purge", help="Delete the repositories' volume and every token too."),
    ] = False,
    context: ContextOption = None,
) -> None:
    """Remove the receiver from the cluster; its repositories and tokens stay unless --purge.

    Apps it deployed keep running.

    \b
    Example:
      paas receiver uninstall
      paas receiver uninstall --purge
    """
    from paas.console import get_console
    from paas.kube.api import Kube
    from paas.kube.store import read_cluster_settings
    from paas.receiver.installer import uninstall as remove

    console = get_console()
    kube = Kube(context)
    gone = remove(kube, read_cluster_settings(kube), purge=purge, say=console.info)
    console.success(f"Removed the receiver ({len(gone)} objects).")


review_group = typer.Typer(
    help="Review apps: a `git push` of another branch deploys app APP-BRANCH.",
    no_args_is_help=True,
)
group.add_typer(review_group, name="review-apps")


def _set_review_apps(app: str | None, context: str | None, *, enabled: bool) -> None:
    from paas.cli.common import app_name
    from paas.console import get_console
    from paas.kube.api import Kube
    from paas.kube.store import read_cluster_settings
    from paas.receiver.review import set_review_apps

    name = app_name(app)
    kube = Kube(context)
    set_review_apps(kube, read_cluster_settings(kube), name, enabled=enabled)
    if enabled:
        get_console().success(
            f"Review apps on for `{name}`: `git push paas BRANCH` deploys `{name}-BRANCH`; "
            "`git push paas :BRANCH` destroys it."
        )
    else:
        get_console().success(f"Review apps off for `{name}`; the existing ones keep running.")


@review_group.command("enable")
def review_enable(app: AppOption = None, context: ContextOption = None) -> None:
    """Turn review apps on: a push of any branch but the deploy branch deploys APP-BRANCH.

    Its config on the first release is app.json's `environments.review.env`: a
    value given there, or, for a name without one, the parent's value.

    \b
    Example:
      paas receiver review-apps enable --app hello
      git push paas fix-login        # deploys hello-fix-login
      git push paas :fix-login       # destroys it
    """
    _set_review_apps(app, context, enabled=True)


@review_group.command("disable")
def review_disable(app: AppOption = None, context: ContextOption = None) -> None:
    """Turn review apps off: a push of another branch is refused (existing ones stay).

    \b
    Example:
      paas receiver review-apps disable --app hello
    """
    _set_review_apps(app, context, enabled=False)


@review_group.command("status")
def review_status(
    app: AppOption = None, context: ContextOption = None, json_output: JsonOption = False
) -> None:
    """Say whether review apps are on for the app, and list its review apps.

    \b
    Example:
      paas receiver review-apps status --app hello
    """
    from paas.cli.common import app_name
    from paas.console import get_console
    from paas.kube.api import Kube
    from paas.kube.store import read_cluster_settings
    from paas.receiver.review import parent_namespace, review_apps_enabled, review_apps_of

    console = get_console()
    name = app_name(app)
    kube = Kube(context)
    enabled = review_apps_enabled(parent_namespace(kube, read_cluster_settings(kube), name))
    apps = review_apps_of(kube, name)
    if json_output:
        console.data({"app": name, "enabled": enabled, "review_apps": apps})
        return
    console.info(f"Review apps of `{name}`: {'on' if enabled else 'off'}.")
    for review in apps:
        console.line(f"  {review}")
