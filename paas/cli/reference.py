"""The CLI reference (docs/cli.md), generated from the commands' own `--help`.

`python -m paas.cli.reference > docs/cli.md` writes it; a unit test fails when
the file is stale or when a command has no help or no example.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _commands(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name in getattr(command, "list_commands", lambda _ctx: [])(None):
        sub = command.get_command(None, name)
        if sub is not None and not getattr(sub, "hidden", False):
            yield from _commands(sub, (*path, name))


def help_text(path: tuple[str, ...]) -> str:
    """The `--help` output of `paas PATH...`, exactly as a user sees it without a TTY."""
    import typer

    from paas.cli import app

    root = typer.main.get_command(app)
    ctx = root.make_context(
        "paas", [*path, "--help"], resilient_parsing=True, terminal_width=88, max_content_width=88
    )
    command: Any = root
    for name in path:
        command = command.get_command(ctx, name)
        ctx = command.make_context(name, ["--help"], parent=ctx, resilient_parsing=True)
    return str(command.get_help(ctx))


def all_commands() -> list[tuple[str, ...]]:
    """Every command path, the root first, in registration order."""
    import typer

    from paas.cli import app

    return [path for path, _ in _commands(typer.main.get_command(app), ())]


def cli_reference() -> str:
    """docs/cli.md: every command's help, in order."""
    parts = [
        "# CLI reference\n",
        "Generated from `paas --help` by `python -m paas.cli.reference > docs/cli.md`; a test "
        "keeps it current. Heroku's `topic:verb` spelling works too: `paas config:set` is "
        "`paas config set`. Exit codes are in [exit-codes.md](exit-codes.md).\n",
    ]
    for path in all_commands():
        title = " ".join(("paas", *path))
        parts.append(f"## `{title}`\n\n```\n{help_text(path).rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(cli_reference(), end="")
