"""The one place that prints.

On a terminal output goes through rich (colour, tables). Without a
TTY, with `CI` set or with `NO_COLOR`, it is plain lines with no escape codes
and no spinners, so logs of CI jobs stay readable. `--json` data goes to
stdout as one JSON document; messages always go to stderr so that stdout
stays parseable.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console as RichConsole

    from paas.errors import PaasError

_NAME = re.compile(r"`([^`]+)`")


def wants_plain(stream: IO[str]) -> bool:
    """Tell whether output to `stream` must be plain lines."""
    if os.environ.get("NO_COLOR") is not None or os.environ.get("CI"):
        return True
    isatty = getattr(stream, "isatty", None)
    return not (isatty and isatty())


class Console:
    """Prints messages, tables, documents and JSON for the CLI.

    Args:
        out: Where data goes (stdout).
        err: Where messages go (stderr).
        plain: Force plain output; by default decided from the streams and env.
    """

    def __init__(
        self, out: IO[str] | None = None, err: IO[str] | None = None, *, plain: bool | None = None
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.plain = wants_plain(self.out) if plain is None else plain
        self._rich_out: RichConsole | None = None
        self._rich_err: RichConsole | None = None

    def _rich(self, *, err: bool) -> RichConsole:
        from rich.console import Console as RichConsole
        from rich.theme import Theme

        theme = Theme(
            {"name": "bold cyan", "hint": "dim", "ok": "green", "warn": "yellow", "bad": "bold red"}
        )
        if err:
            if self._rich_err is None:
                self._rich_err = RichConsole(file=self.err, theme=theme, highlight=False)
            return self._rich_err
        if self._rich_out is None:
            self._rich_out = RichConsole(file=self.out, theme=theme, highlight=False)
        return self._rich_out

    def _say(self, text: str, style: str, prefix: str) -> None:
        if self.plain:
            print(f"{prefix}{text}", file=self.err, flush=True)
            return
        from rich.markup import escape

        marked = _NAME.sub(lambda m: f"[name]{escape(m.group(1))}[/name]", escape(text))
        self._rich(err=True).print(f"[{style}]{escape(prefix)}[/{style}]{marked}")

    def info(self, text: str) -> None:
        """Print a progress or status message to stderr."""
        self._say(text, "hint", "")

    def success(self, text: str) -> None:
        """Print that something finished well."""
        self._say(text, "ok", "✓ " if not self.plain else "")

    def warn(self, text: str) -> None:
        """Print a warning."""
        self._say(text, "warn", "warning: ")

    def error(self, error: PaasError) -> None:
        """Print a `PaasError`, the log lines it carries, and its hint."""
        lines = getattr(error, "log_lines", ())
        if lines:
            self._say("last log lines:", "hint", "")
            for line in lines:
                print(f"  | {line}", file=self.err)
        self._say(error.message, "bad", "error: ")
        if error.hint:
            self._say(error.hint, "hint", "hint: " if self.plain else "  ")

    def line(self, text: str = "") -> None:
        """Print one line of data to stdout as it is."""
        print(text, file=self.out, flush=True)

    def rich_line(self, markup: str) -> None:
        """Print one line of rich markup to stdout (callers escape their text)."""
        self._rich(err=False).print(markup, soft_wrap=True)

    def data(self, value: Any) -> None:
        """Print a JSON document to stdout."""
        print(json.dumps(value, indent=2, sort_keys=False, default=str), file=self.out, flush=True)

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> None:
        """Print rows under column headings; aligned plain text without a TTY."""
        if self.plain:
            cells = [[str(c) for c in columns], *[[str(c) for c in row] for row in rows]]
            widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
            if title:
                print(f"=== {title}", file=self.out)
            for r in cells:
                print(
                    "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip(),
                    file=self.out,
                )
            self.out.flush()
            return
        from rich.table import Table

        table = Table(title=title or None, title_justify="left", box=None, header_style="bold")
        for c in columns:
            table.add_column(c)
        for row in rows:
            table.add_row(*(str(c) for c in row))
        self._rich(err=False).print(table)

    def fields(self, pairs: Sequence[tuple[str, Any]], title: str = "") -> None:
        """Print `key: value` lines, keys aligned (like `heroku apps:info`)."""
        if title:
            self.line(f"=== {title}")
        width = max((len(k) for k, _ in pairs), default=0)
        for key, value in pairs:
            self.line(f"{(key + ':').ljust(width + 1)} {value}")


_current: Console | None = None


def get_console() -> Console:
    """Return the console of this process, making a default one on first use."""
    global _current  # noqa: PLW0603 - one console per process
    if _current is None:
        _current = Console()
    return _current
