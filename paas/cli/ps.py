"""`paas ps`: processes and pods; `ps scale`, `ps restart`."""

from __future__ import annotations

from typing import Annotated

import typer

from paas.cli.common import ContextOption, LockWaitOption, TimeoutOption
from paas.cli.options import AppOption, JsonOption

group = typer.Typer(
    help="Processes: replicas, pods, scaling and restarts.", invoke_without_command=True
)


@group.callback()
def ps(
    ctx: typer.Context,
    app: AppOption = None,
    context: ContextOption = None,
    json_output: JsonOption = False,
) -> None:
    """Show each process type (desired/ready replicas, release) and its pods.

    An autoscaled process also shows its HPA: current and desired pods, min/max
    and the CPU use against the target (or why there is no CPU reading).

    \b
    Example:
      paas ps
      paas ps -a hello --json
    """
    if ctx.invoked_subcommand is not None:
        return
    from paas.cli.common import app_name, session
    from paas.console import get_console
    from paas.operations import human_age, process_status

    console = get_console()
    name = app_name(app)
    current = session(context)
    live = current.current(name)
    rows = process_status(current, name, live)
    if json_output:
        from paas.schemas import document

        console.data(document("ps", {"app": name, "release": live.name, "processes": rows}))
        return
    for row in rows:
        console.line(
            f"=== {row['process']}: {row['ready']}/{row['desired']} ready ({row['release']})"
        )
        scale = row.get("autoscale")
        if scale:
            cpu = (
                f"cpu {scale['cpu_percent']}% (target {scale['cpu_target_percent']}%)"
                if scale["metrics_available"]
                else f"cpu ? (target {scale['cpu_target_percent']}%)"
            )
            console.line(
                f"autoscaled: {scale['current']} current, {scale['desired']} desired "
                f"(min {scale['min']}, max {scale['max']}); {cpu}"
            )
            if scale["problem"]:
                console.warn(f"{scale['problem']}\n{scale['hint']}")
        if row["pods"]:
            console.table(
                ["POD", "STATE", "RELEASE", "RESTARTS", "AGE"],
                [
                    [
                        p["name"],
                        p["state"],
                        p["release"],
                        p["restarts"],
                        human_age(p["age_seconds"]),
                    ]
                    for p in row["pods"]
                ],
            )
        console.line()


@group.command("scale")
def scale(
    formation: Annotated[
        list[str], typer.Argument(help="TYPE=COUNT pairs.", metavar="TYPE=COUNT...")
    ],
    app: AppOption = None,
    timeout: TimeoutOption = 300,
    wait_lock: LockWaitOption = 300,
    context: ContextOption = None,
) -> None:
    """Set how many pods each process type runs (a release that restarts nothing).

    \b
    Example:
      paas ps scale web=3 worker=0
    """
    from paas.arguments import parse_formation
    from paas.cli.common import app_name, print_outcome, session
    from paas.console import get_console
    from paas.operations import scale as scale_app

    counts = parse_formation(formation)
    name = app_name(app)
    outcome = scale_app(session(context, timeout=timeout, lock_wait=wait_lock), name, counts)
    print_outcome(get_console(), outcome, "Scaled")


@group.command("restart")
def restart(
    process: Annotated[
        str | None, typer.Argument(help="A process type. Default: all.", show_default=False)
    ] = None,
    app: AppOption = None,
    context: ContextOption = None,
) -> None:
    """Restart the pods of one process type, or all, one by one (no new release).

    \b
    Example:
      paas ps restart web
    """
    from paas.arguments import check_process
    from paas.cli.common import app_name, session
    from paas.console import get_console
    from paas.operations import restart as restart_app

    if process is not None:
        check_process(process)
    name = app_name(app)
    names = restart_app(session(context), name, process)
    get_console().success(f"Restarting {', '.join(f'`{n}`' for n in names)}.")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.add_typer(group, name="ps")
