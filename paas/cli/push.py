"""`paas push` (alias `deploy`): build, release, roll out, print the URL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from paas.cli.common import ContextOption, LockWaitOption, TimeoutOption
from paas.cli.options import AppOption, JsonOption, PathArgument

if TYPE_CHECKING:
    from paas.console import Console
    from paas.lifecycle import Session
    from paas.manifest import AppSpec


def push(
    path: PathArgument = Path("."),
    app: AppOption = None,
    image: Annotated[
        str | None,
        typer.Option(
            "--image",
            help="Deploy this prebuilt image (a tag is resolved to its digest) and skip the build.",
            show_default=False,
        ),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            "--strategy",
            help="Build strategy: local, dockerfile or cluster. Default: from the "
            "app and cluster settings.",
            show_default=False,
        ),
    ] = None,
    no_rollback: Annotated[
        bool,
        typer.Option(
            "--no-rollback",
            help="Leave a failed release in place instead of going back to the last good one.",
        ),
    ] = False,
    timeout: TimeoutOption = 300,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Build the app, release it and roll it out; print its URL.

    Runs the release phase first (a failure stops the rollout), applies the
    objects `paas render` shows with server-side apply, waits for every process
    to be ready, and rolls back to the last good release when one fails. With
    nothing changed, it changes nothing.

    \b
    Example:
      paas push
      paas push ./api --app api
      paas push --image registry.example.com/api@sha256:...   # CI: deploy a built image
    """
    from paas.cli.common import print_outcome, session
    from paas.console import get_console
    from paas.deploy import DeployRequest
    from paas.manifest import load_app
    from paas.registry import resolve_digest
    from paas.releases import describe_deploy

    console = get_console()
    spec = load_app(path, name=app, detect_language=image is None)
    current = session(context, timeout=timeout, lock_wait=wait_lock)
    commit = git_commit(path)
    if image is not None:
        ref = resolve_digest(image, insecure=current.settings.insecure_registry)
        kind = "dockerfile" if spec.dockerfile else "cnb"
    else:
        ref, kind = build_for_push(path, spec, current, strategy, console)
    outcome = current.deploy(
        spec.name,
        DeployRequest(
            "deploy",
            describe_deploy(commit, ref),
            app=spec,
            image=ref,
            image_kind=kind,  # type: ignore[arg-type]
            commit=commit,
        ),
        rollback=not no_rollback,
    )
    if json_output:
        console.data(
            {**outcome.record.summary(), "url": outcome.url, "unchanged": outcome.unchanged}
        )
        return
    print_outcome(console, outcome, "Deployed")


def build_for_push(
    path: Path, spec: AppSpec, current: Session, strategy: str | None, console: Console
) -> tuple[str, str]:
    """Build the app unless the registry has its image already; return (ref by digest, kind).

    The image is tagged with a fingerprint of its source and build inputs, so an
    unchanged app is not rebuilt.
    """
    from paas.build import build_app
    from paas.build.plan import plan_build
    from paas.build.reuse import source_fingerprint
    from paas.detect import detect
    from paas.errors import RegistryError
    from paas.registry import resolve_digest

    settings = current.settings
    detection = None if spec.dockerfile else detect(path / spec.build.path)
    plan = plan_build(spec, detection, settings, tag="fingerprint", strategy=strategy)
    tag = source_fingerprint(path / plan.source_path, plan)
    plan = plan_build(spec, detection, settings, tag=tag, strategy=strategy)
    kind = "dockerfile" if plan.strategy == "dockerfile" else "cnb"
    try:
        ref = resolve_digest(plan.image, insecure=settings.insecure_registry)
    except RegistryError:
        ref = ""
    if ref:
        console.info(f"Source unchanged since `{plan.image}`: not rebuilding.")
        return ref, kind
    console.info(f"Building `{plan.image}` ({plan.strategy})...")
    result = build_app(
        path, plan, on_line=lambda line: console.info(f"  build | {line}"), kube=current.kube
    )
    return result.image, kind


def git_commit(path: Path) -> str:
    """The commit checked out in `path`, or "" when it is not a git work tree."""
    import subprocess

    try:
        result = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except OSError:
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(push)
    app.command("deploy", help="Alias of `paas push`.\n\n\b\nExample:\n  paas deploy")(push)
