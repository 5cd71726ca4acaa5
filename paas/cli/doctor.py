"""`paas doctor`: check what a push needs, and say what to fix."""

from __future__ import annotations

import typer

from paas.cli.common import ContextOption
from paas.cli.options import JsonOption


def doctor(context: ContextOption = None, json_output: JsonOption = False) -> None:
    """Check kubeconfig, cluster, permissions, settings, registry, cluster builds, build tools.

    Each failed check says what to fix; the exit code is non-zero when any fails.

    \b
    Example:
      paas doctor
    """
    from paas.console import get_console
    from paas.doctor import run_checks
    from paas.errors import PaasError

    console = get_console()
    checks = run_checks(context)
    if json_output:
        console.data([c.__dict__ for c in checks])
    else:
        console.table(
            ["CHECK", "OK", "DETAIL"],
            [
                [c.name, "ok" if c.ok else "FAIL", c.detail + (f" -> {c.fix}" if c.fix else "")]
                for c in checks
            ],
        )
    failed = [c.name for c in checks if not c.ok]
    if failed:
        raise PaasError(
            f"{len(failed)} check{'s' if len(failed) > 1 else ''} failed: {', '.join(failed)}",
            "Fix them in order; the first one often explains the rest.",
        )


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(doctor)
