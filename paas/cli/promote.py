"""`paas promote`: staging's serving image, by digest, to production."""

from __future__ import annotations

from typing import Annotated

import typer

from paas.cli.common import LockWaitOption, NoWaitOption, TimeoutOption
from paas.cli.options import JsonOption


def promote(
    from_app: Annotated[
        str, typer.Option("--from", help="The app whose serving release is promoted.")
    ],
    to_app: Annotated[str, typer.Option("--to", help="The app that gets its image.")],
    from_context: Annotated[
        str | None,
        typer.Option(
            "--from-context",
            help="Kubeconfig context of the source app. Default: the current one.",
            envvar="PAAS_CONTEXT",
            show_default=False,
        ),
    ] = None,
    to_context: Annotated[
        str | None,
        typer.Option(
            "--to-context",
            help="Kubeconfig context of the target app. Default: the current one.",
            envvar="PAAS_CONTEXT",
            show_default=False,
        ),
    ] = None,
    timeout: TimeoutOption = 300,
    no_wait: NoWaitOption = False,
    wait_lock: LockWaitOption = 300,
    json_output: JsonOption = False,
) -> None:
    """Deploy the exact image (by digest) of one app's serving release to another.

    The target keeps its own config vars, formation and domains, and takes the
    source release's process types, commands and release phase, as Heroku
    pipelines promote a slug; its release says `promoted from APP vN`. Refused
    when the source's newest release did not succeed. When the two clusters use
    different registries, the image is copied to the target's registry first
    (layers it has already are not sent again).

    \b
    Example:
      paas promote --from api-staging --to api
      paas promote --from api --to api --from-context staging --to-context production
    """
    from paas.arguments import check_app
    from paas.cli.common import ChangeReport, session
    from paas.errors import UsageError
    from paas.promote import copy_if_needed, promotable
    from paas.promote import promote as run_promote

    with ChangeReport("promote", to_app, json_output) as report:
        check_app(from_app)
        check_app(to_app)
        if from_app == to_app and from_context == to_context:
            raise UsageError(
                f"`--from` and `--to` are the same app `{to_app}` of the same cluster",
                "Name another app, or another cluster with `--from-context`/`--to-context`.",
            )
        source = session(from_context, timeout=timeout, lock_wait=wait_lock, wait=not no_wait)
        target = (
            source
            if from_context == to_context
            else session(to_context, timeout=timeout, lock_wait=wait_lock, wait=not no_wait)
        )
        report.steps.start("copy")
        record = promotable(source.history(from_app), from_app)
        report.image = record.image
        image = copy_if_needed(record.image, source.settings, target.settings, to_app)
        report.image = image
        report.extra["promoted_from"] = f"{from_app} {record.name}"
        report.steps.start("deploy")
        outcome = run_promote(target, record, from_app, to_app, image=image)
        report.done(outcome, f"Promoted {from_app} {record.name} to {to_app}:")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(promote)
