"""The `paas` command line: registration, the error boundary and Heroku-style aliases.

Only registration happens here; each command group lives in its own module and
imports the core lazily inside its commands, so `paas --help` stays fast.
"""

from __future__ import annotations

import os
import re
import sys

import typer

from paas.cli import (
    addons,
    apps,
    build,
    builder,
    cluster,
    config,
    detect,
    diff,
    doctor,
    domains,
    init,
    logs,
    mcp,
    oneoff,
    promote,
    ps,
    push,
    receiver,
    releases,
    render,
    version,
)

app = typer.Typer(
    name="paas",
    help="Heroku's push-to-deploy on any Kubernetes cluster.\n\n"
    "Run `paas COMMAND --help` for the options of one command; docs/cli.md lists them all.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _global(
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks of errors.", envvar="PAAS_DEBUG"
    ),
) -> None:
    """Heroku's push-to-deploy on any Kubernetes cluster."""
    if debug:
        os.environ["PAAS_DEBUG"] = "1"


for _module in (
    version,
    detect,
    init,
    render,
    build,
    builder,
    push,
    promote,
    diff,
    apps,
    addons,
    config,
    ps,
    releases,
    logs,
    oneoff,
    domains,
    cluster,
    doctor,
    receiver,
    mcp,
):
    _module.register(app)

_ALIAS = re.compile(r"^([a-z]+):([a-z][a-z-]*)$")


def expand_aliases(argv: list[str]) -> list[str]:
    """Accept Heroku's `topic:verb` spelling: `config:set K=V` is `config set K=V`."""
    for i, arg in enumerate(argv):
        if arg.startswith("-"):
            continue
        match = _ALIAS.match(arg)
        if match:
            return [*argv[:i], match.group(1), match.group(2), *argv[i + 1 :]]
        break
    return argv


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map every error to its documented exit code.

    Returns:
        The process exit code (also what `sys.exit` receives from the console script).
    """
    from paas.console import get_console, sanitise
    from paas.errors import ExitCode, PaasError

    args = expand_aliases(list(sys.argv[1:] if argv is None else argv))
    command = typer.main.get_command(app)
    debug = "--debug" in args or bool(os.environ.get("PAAS_DEBUG"))
    try:
        result = command.main(args=args, prog_name="paas", standalone_mode=False)
    except PaasError as error:
        if debug:
            import traceback

            traceback.print_exc()
        get_console().error(error)
        return int(error.exit_code)
    except typer.Exit as done:
        return int(done.exit_code)
    except typer.TyperException as error:  # click's usage errors: bad option, missing argument
        show = getattr(error, "show", None)
        if show:
            show()
        return int(getattr(error, "exit_code", ExitCode.USAGE))
    except (KeyboardInterrupt, typer.Abort):
        print("\ninterrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except Exception as error:  # the boundary: anything unexpected is a bug, shown briefly
        if debug:
            raise
        print(  # not through the console, which may be what failed; its text may be an app's
            f"error: unexpected {type(error).__name__}: {sanitise(str(error))}\n"
            "hint: run again with `--debug` for the traceback, and report it.",
            file=sys.stderr,
        )
        return int(ExitCode.FAILURE)
    if result == ExitCode.INTERRUPTED:  # click returns Ctrl-C as this exit code
        print("interrupted", file=sys.stderr)
    return int(result) if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
