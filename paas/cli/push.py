"""`paas push` (alias `deploy`): build, release, roll out, print the URL."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from paas.cli.common import ContextOption, LockWaitOption, NoWaitOption, TimeoutOption
from paas.cli.options import AppOption, JsonOption, PathArgument, VerboseOption


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
    no_fast_path: Annotated[
        bool,
        typer.Option(
            "--no-fast-path",
            help="Run the full build even for a code-only change (also PAAS_FAST_PATH=0).",
        ),
    ] = False,
    no_rollback: Annotated[
        bool,
        typer.Option(
            "--no-rollback",
            help="Leave a failed release in place instead of going back to the last good one.",
        ),
    ] = False,
    plan_file: Annotated[
        Path | None,
        typer.Option(
            "--plan-file",
            help="Apply only if the cluster still matches this plan (from `paas diff "
            "--plan-file`); exit code 13 when it drifted.",
            show_default=False,
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    verbose: VerboseOption = False,
    timeout: TimeoutOption = 300,
    no_wait: NoWaitOption = False,
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
      paas push --no-wait          # end once applied; `paas ps` shows the rollout
      paas push --no-fast-path     # a full build even when only app code changed
    """
    from paas.build import build_unless_published
    from paas.cli.common import ChangeReport, session
    from paas.console import get_console
    from paas.project import Project
    from paas.registry import resolve_digest
    from paas.render import check_policy

    console = get_console()
    if verbose:
        from paas.build.output import set_verbose

        set_verbose(True)
    with ChangeReport("push", app or "", json_output) as report:
        project = Project.read(path, name=app, prebuilt=image is not None)
        report.app = project.name
        current = session(context, timeout=timeout, lock_wait=wait_lock, wait=not no_wait)
        check_policy(project.spec, current.settings)  # before a build, not after it
        if image is not None:
            report.steps.start("resolve")
            ref = resolve_digest(image, insecure=current.settings.insecure_registry)
            source = "" if image == ref else f"image {image}"
        else:
            report.steps.start("build")
            ref = build_unless_published(
                project,
                current.settings,
                strategy=strategy,
                kube=current.kube,
                on_info=console.info,
                on_line=console.info,
                fast_path=not no_fast_path,
            )
            source = ""
        report.image = ref
        report.steps.start("deploy")
        if plan_file is not None:
            from paas.plan import check_plan, read_plan_file

            plan = read_plan_file(plan_file.read_text(), str(plan_file))
            change = check_plan(current, project, ref, plan, source=source)
        else:
            change = project.deploy(ref, source=source)
        outcome = current.deploy(project.name, change, rollback=not no_rollback)
        report.done(outcome, "Deployed")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(push)
    app.command("deploy", help="Alias of `paas push`.\n\n\b\nExample:\n  paas deploy")(push)
