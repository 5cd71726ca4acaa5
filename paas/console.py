"""The one place that prints.

On a terminal output goes through rich (colour, tables). Without a
TTY, with `CI` set or with `NO_COLOR`, it is plain lines with no escape codes
and no spinners, so logs of CI jobs stay readable. `--json` data goes to
stdout as one JSON document; messages always go to stderr so that stdout
stays parseable.

Text that came from an app or a repository (log lines, build output, names and
versions inside messages) is hostile: `sanitise` shows its control characters
and escape sequences as text instead of letting the terminal act on them.
Messages on stderr always go through it; data on stdout goes through it when
stdout is a terminal, and is written as it is to a file or a pipe. Rich markup
in such text is printed literally.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console as RichConsole

    from paas.errors import PaasError

_NAME = re.compile(r"`([^`]+)`")
# What a terminal would act on: C0 controls but tab and newline, DEL, C1 controls
# (U+0080-U+009F, CSI and OSC among them), and the marks that reorder text
# (Trojan Source): ALM, LRM, RLM, the line and paragraph separators, the bidi
# embeddings and overrides U+202A-U+202E and the isolates U+2066-U+2069.
_UNSAFE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitise(text: str) -> str:
    """`text` safe for a terminal: what it would act on is shown as `\\xNN` or `\\uNNNN`.

    Newlines and tabs stay; a line ending `\\r\\n` becomes `\\n` and a trailing `\\r` is
    dropped (both only end a line). Everything else that is not printable text is
    shown, not interpreted: `ESC ] 52 ;...` (a clipboard write) prints as `\\x1b]52;...`.
    """
    text = text.replace("\r\n", "\n").removesuffix("\r")
    return _UNSAFE.sub(_visible, text)


def wants_plain(stream: IO[str]) -> bool:
    """Tell whether output to `stream` must be plain lines."""
    if os.environ.get("NO_COLOR") is not None or os.environ.get("CI"):
        return True
    return not _isatty(stream)


def _isatty(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Console:
    """Prints messages, tables, documents and JSON for the CLI.

    Args:
        out: Where data goes (stdout).
        err: Where messages go (stderr).
        plain: Force plain output; by default decided from the streams and env.
    """

    def __init__(
        self,
        out: IO[str] | None = None,
        err: IO[str] | None = None,
        *,
        plain: bool | None = None,
        terminal: bool | None = None,
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.plain = wants_plain(self.out) if plain is None else plain
        # Data on stdout is sanitised when a terminal shows it (rich needs one anyway).
        self.terminal = (_isatty(self.out) or not self.plain) if terminal is None else terminal
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
                self._rich_err = RichConsole(
                    file=self.err, theme=theme, highlight=False, emoji=False
                )
            return self._rich_err
        if self._rich_out is None:
            self._rich_out = RichConsole(file=self.out, theme=theme, highlight=False, emoji=False)
        return self._rich_out

    def _say(self, text: str, style: str, prefix: str) -> None:
        text = sanitise(text)
        if self.plain:
            print(f"{prefix}{text}", file=self.err, flush=True)
            return
        from rich.markup import escape

        # Odd pieces were inside backticks: names, styled; every piece escaped once.
        pieces = _NAME.split(text)
        marked = "".join(
            f"[name]{escape(piece)}[/name]" if i % 2 else escape(piece)
            for i, piece in enumerate(pieces)
        )
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
                print(f"  | {sanitise(line)}", file=self.err)
        self._say(error.message, "bad", "error: ")
        if error.hint:
            self._say(error.hint, "hint", "hint: " if self.plain else "  ")

    @property
    def live(self) -> bool:
        """Whether stderr can show a spinner: rich output to a terminal, CI unset."""
        return not self.plain and not os.environ.get("CI") and _isatty(self.err)

    @contextmanager
    def step(
        self,
        label: str,
        *,
        start: str | None = None,
        done: str | None = None,
        say: Callable[[str], None] | None = None,
    ) -> Iterator[None]:
        """A step with its elapsed time: `start` (default "LABEL..."), then "DONE in 12.3 s".

        On a terminal a spinner (``Building (12.3 s)``) stays below the lines
        printed meanwhile; without one (or with `CI` set) there is one line when
        the step starts and one when it ends, nothing redrawn. A failure says
        "LABEL failed after 12.3 s" and the error rises. `say` prints the lines
        (default: `info` and `success`), e.g. to a `git push` client.

        Example:
            with console.step("Releasing", done="Released"):
                run_release_phase()
        """
        began = time.monotonic()
        (say or self.info)(start or f"{label}...")
        live = None
        if self.live:
            from rich.live import Live

            live = Live(
                _Elapsed(label, began),
                console=self._rich(err=True),
                refresh_per_second=8,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            live.start()
        try:
            yield
        except BaseException:
            if live is not None:
                live.stop()
                live = None
            (say or self.info)(f"{label} failed after {time.monotonic() - began:.1f} s")
            raise
        finally:
            if live is not None:
                live.stop()
        (say or self.success)(f"{done or label} in {time.monotonic() - began:.1f} s")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A collapsible group of the CI job's log around the lines printed meanwhile.

        GitHub Actions (``GITHUB_ACTIONS=true``): ``::group::TITLE`` and
        ``::endgroup::``. GitLab CI (``GITLAB_CI=true``): its section markers, the
        only escape codes paas prints in CI. Elsewhere nothing. On stderr, so that
        stdout stays one JSON document with `--json`.
        """
        name = re.sub(r"[^a-z0-9_.-]", "_", title.lower())
        if os.environ.get("GITHUB_ACTIONS") == "true":
            print(f"::group::{sanitise(title)}", file=self.err, flush=True)
            end = "::endgroup::"
        elif os.environ.get("GITLAB_CI") == "true":
            print(
                f"\x1b[0Ksection_start:{int(time.time())}:{name}[collapsed=true]\r\x1b[0K"
                f"{sanitise(title)}",
                file=self.err,
                flush=True,
            )
            end = ""
        else:
            yield
            return
        try:
            yield
        finally:
            if not end:
                end = f"\x1b[0Ksection_end:{int(time.time())}:{name}\r\x1b[0K"
            print(end, file=self.err, flush=True)

    def _data(self, text: str) -> str:
        return sanitise(text) if self.terminal else text

    def line(self, text: str = "") -> None:
        """Print one line of data to stdout: as it is to a file or pipe, sanitised on a terminal."""
        print(self._data(text), file=self.out, flush=True)

    def tagged(self, tag: str, text: str, style: str) -> None:
        """Print `tag text` to stdout, the tag in `style` on a terminal (log lines)."""
        if self.plain:
            self.line(f"{tag} {text}")
            return
        from rich.markup import escape

        markup = f"[{style}]{escape(sanitise(tag))}[/{style}] {escape(sanitise(text))}"
        self._rich(err=False).print(markup, soft_wrap=True)

    def data(self, value: Any) -> None:
        """Print a JSON document to stdout."""
        print(json.dumps(value, indent=2, sort_keys=False, default=str), file=self.out, flush=True)

    def table(self, columns: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> None:
        """Print rows under column headings; aligned plain text without a TTY."""
        if self.plain:
            cells = [[self._data(str(c)) for c in row] for row in [columns, *rows]]
            widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
            if title:
                print(self._data(f"=== {title}"), file=self.out)
            for r in cells:
                print(
                    "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip(),
                    file=self.out,
                )
            self.out.flush()
            return
        from rich.table import Table
        from rich.text import Text

        table = Table(
            title=Text(sanitise(title)) if title else None,
            title_justify="left",
            box=None,
            header_style="bold",
        )
        for c in columns:
            table.add_column(Text(sanitise(str(c))))
        for row in rows:  # Text, not markup: `[red]` in a cell is printed as it is
            table.add_row(*(Text(sanitise(str(c))) for c in row))
        self._rich(err=False).print(table)

    def fields(self, pairs: Sequence[tuple[str, Any]], title: str = "") -> None:
        """Print `key: value` lines, keys aligned (like `heroku apps:info`)."""
        if title:
            self.line(f"=== {title}")
        width = max((len(k) for k, _ in pairs), default=0)
        for key, value in pairs:
            self.line(f"{(key + ':').ljust(width + 1)} {value}")


class _Elapsed:
    """A spinner with a step's label and the seconds since it began, redrawn by rich."""

    def __init__(self, label: str, began: float) -> None:
        from rich.spinner import Spinner

        self.label = label
        self.began = began
        self.spinner = Spinner("dots", style="cyan")

    def __rich__(self) -> Any:
        from rich.text import Text

        self.spinner.update(text=Text(f"{self.label} ({time.monotonic() - self.began:.1f} s)"))
        return self.spinner


_current: Console | None = None


def get_console() -> Console:
    """Return the console of this process, making a default one on first use."""
    global _current  # noqa: PLW0603 - one console per process
    if _current is None:
        _current = Console()
    return _current
