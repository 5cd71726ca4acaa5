"""`paas doctor`: check what a push needs, and say what to fix; `--print-role` for the rights."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from paas.cli.common import ContextOption
from paas.cli.options import JsonOption

_SUBJECT = re.compile(
    r"^(?:(?:group|user):[^\s:]+|sa:[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-.a-z0-9]*[a-z0-9])?)$"
)


def check_subject(subject: str) -> str:
    """`--subject` as `group:NAME`, `user:NAME` or `sa:NAMESPACE/NAME`.

    Raises:
        UsageError: it is none of these.
    """
    from paas.errors import UsageError

    if not _SUBJECT.match(subject):
        raise UsageError(
            f"`--subject {subject}` is not a user, group or service account",
            "Write it like `group:developers`, `user:jane@example.com` or `sa:ci/deployer`.",
        )
    return subject


def doctor(
    context: ContextOption = None,
    json_output: JsonOption = False,
    print_role: Annotated[
        bool,
        typer.Option(
            "--print-role",
            help="Print the RBAC objects that grant every right paas uses (for `kubectl apply "
            "-f -`), and check nothing.",
        ),
    ] = False,
    subject: Annotated[
        str,
        typer.Option(
            "--subject",
            help="Who `--print-role` grants the rights to: `group:NAME`, `user:NAME` or "
            "`sa:NAMESPACE/NAME`.",
        ),
    ] = "group:paas-deployers",
) -> None:
    """Check kubeconfig, cluster, permissions, settings, registry, cluster builds, build tools.

    Each failed check says what to fix; the exit code is non-zero when any fails.
    The permissions check asks the API server for every right the commands use
    and names each missing one with the commands that need it.

    \b
    Example:
      paas doctor
      paas doctor --print-role --subject group:developers | kubectl apply -f -
    """
    from paas.console import get_console
    from paas.errors import PaasError

    console = get_console()
    if print_role:
        import yaml

        from paas.rights import role_objects

        console.line(
            yaml.safe_dump_all(
                role_objects(subject=check_subject(subject)), sort_keys=False
            ).rstrip("\n")
        )
        return
    from paas.doctor import run_checks

    checks = run_checks(context)
    if json_output:
        from paas.schemas import document

        console.data(
            document(
                "doctor", {"ok": all(c.ok for c in checks), "checks": [vars(c) for c in checks]}
            )
        )
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
