"""Text from apps and repositories reaches the terminal shown, never interpreted.

Log lines, build and release output, detected names and versions inside errors:
one sanitiser in the console makes control characters and escape sequences
visible text, the same in rich and plain mode, and rich markup in them literal.
"""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from unit_helpers import paas_env, run_paas

import paas.console
from paas.cli import main
from paas.console import Console, sanitise
from paas.errors import ManifestError, RolloutError

OSC52 = "\x1b]52;c;ZXZpbA==\x07"  # write `evil` to the clipboard
OSC8 = "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"  # a hidden link


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),  # CSI colour
        ("\x1b[2J\x1b[H\x1bc", "\\x1b[2J\\x1b[H\\x1bc"),  # clear screen, home, reset
        (OSC52, "\\x1b]52;c;ZXZpbA==\\x07"),
        (OSC8, "\\x1b]8;;https://evil.example/\\x1b\\click\\x1b]8;;\\x1b\\"),
        ("\x9b2J\x9d0;title\x9c", "\\x9b2J\\x9d0;title\\x9c"),  # C1 CSI, OSC, ST
        ("lone \x1b here", "lone \\x1b here"),
        ("bell\x07", "bell\\x07"),
        ("password\x08\x08\x08\x08\x08\x08\x08\x08ok", "password" + "\\x08" * 8 + "ok"),
        ("safe\rEVIL", "safe\\x0dEVIL"),  # a carriage return that overwrites the line
        ("nul\x00 del\x7f vt\x0b ff\x0c", "nul\\x00 del\\x7f vt\\x0b ff\\x0c"),
        ("user\u202eexe.txt", "user\\u202eexe.txt"),  # right-to-left override
        ("\u202a\u202b\u202c\u202d", "\\u202a\\u202b\\u202c\\u202d"),
        ("\u2066a\u2067b\u2068c\u2069", "\\u2066a\\u2067b\\u2068c\\u2069"),  # isolates
        ("\u200e\u200f\u061c\u2028\u2029", "\\u200e\\u200f\\u061c\\u2028\\u2029"),
        ("tab\tand\nnewline\n", "tab\tand\nnewline\n"),  # kept: multi-line output
        ("windows line\r\nnext\r", "windows line\nnext"),  # line endings only
        ("[red]markup[/red] stays text", "[red]markup[/red] stays text"),
        ("café ✓ 日本", "café ✓ 日本"),
    ],
)
def test_each_kind_of_sequence_is_shown_as_text(raw: str, shown: str) -> None:
    assert sanitise(raw) == shown


def _console(plain: bool, *, terminal: bool = True) -> tuple[Console, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Console(out, err, plain=plain, terminal=terminal), out, err


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "rich"])
def test_errors_show_hostile_names_the_same_in_both_modes(plain: bool) -> None:
    console, _, err = _console(plain)
    console.error(
        ManifestError(f"unknown key `po{OSC52}`", "Known keys: `port`.", file="paas.yaml", line=5)
    )
    hint = "hint: " if plain else "  "
    ticks = "`" if plain else ""  # rich styles names instead of printing backticks
    assert err.getvalue() == (
        f"error: paas.yaml:5: unknown key {ticks}po\\x1b]52;c;ZXZpbA==\\x07{ticks}\n"
        f"{hint}Known keys: {ticks}port{ticks}.\n"
    )


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "rich"])
def test_messages_keep_rich_markup_and_emoji_codes_literal(plain: bool) -> None:
    console, _, err = _console(plain)
    console.info("  build | [red]not red[/red] [link=https://evil.example]x[/link] :smile:")
    console.warn("\x1b[2Jcleared?")
    assert err.getvalue() == (
        "  build | [red]not red[/red] [link=https://evil.example]x[/link] :smile:\n"
        "warning: \\x1b[2Jcleared?\n"
    )


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "rich"])
def test_log_lines_of_a_failed_rollout_are_shown_as_text(plain: bool) -> None:
    console, _, err = _console(plain)
    console.error(
        RolloutError(
            f"CrashLoopBackOff in pod `p-web-1`: {OSC52}",
            "Read the log lines above.",
            reason="CrashLoopBackOff",
            log_lines=(f"booting{OSC52}", "\x1b[2J\x1b[Hgone", "[bold]fine[/bold]\r"),
        )
    )
    name = "`p-web-1`" if plain else "p-web-1"
    hint = "hint: " if plain else "  "
    assert err.getvalue() == (
        "last log lines:\n"
        "  | booting\\x1b]52;c;ZXZpbA==\\x07\n"
        "  | \\x1b[2J\\x1b[Hgone\n"
        "  | [bold]fine[/bold]\n"
        f"error: CrashLoopBackOff in pod {name}: \\x1b]52;c;ZXZpbA==\\x07\n"
        f"{hint}Read the log lines above.\n"
    )


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "rich"])
def test_tagged_log_lines_on_a_terminal(plain: bool) -> None:
    console, out, _ = _console(plain)
    console.tagged("2026-01-02T03:04:05Z app[web.x7k2p]:", f"GET / {OSC8} [red]x", "cyan")
    assert out.getvalue() == (
        "2026-01-02T03:04:05Z app[web.x7k2p]: GET / "
        "\\x1b]8;;https://evil.example/\\x1b\\click\\x1b]8;;\\x1b\\ [red]x\n"
    )


@pytest.mark.parametrize("plain", [True, False], ids=["plain", "rich"])
def test_table_cells_are_text_not_markup(plain: bool) -> None:
    console, out, _ = _console(plain)
    console.table(["NAME", "STATE"], [["[red]web[/red]", "\x1b[5mup"]])
    lines = [line.strip() for line in out.getvalue().splitlines()]
    assert lines == ["NAME            STATE", "[red]web[/red]  \\x1b[5mup"]


def test_data_on_stdout_is_as_it_is_to_a_file_or_pipe_and_shown_on_a_terminal() -> None:
    piped, out, _ = _console(True, terminal=False)
    piped.line(f"dump{OSC52}")
    piped.tagged("app[run.1]:", "\x1b[31mred", "cyan")
    assert out.getvalue() == f"dump{OSC52}\napp[run.1]: \x1b[31mred\n"
    shown, out, _ = _console(True, terminal=True)
    shown.line(f"dump{OSC52}")
    assert out.getvalue() == "dump\\x1b]52;c;ZXZpbA==\\x07\n"


def test_messages_are_shown_as_text_even_without_a_terminal() -> None:
    console, _, err = _console(True, terminal=False)
    console.info(f"  release | migrating{OSC52}")
    assert err.getvalue() == "  release | migrating\\x1b]52;c;ZXZpbA==\\x07\n"


def test_whether_stdout_is_a_terminal_is_read_from_the_stream(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class FakeTTY(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("NO_COLOR", "1")  # plain on a terminal still sanitises
    assert Console(FakeTTY(), io.StringIO()).terminal
    assert Console(FakeTTY(), io.StringIO()).plain
    assert not Console(io.StringIO(), io.StringIO()).terminal


def test_an_unexpected_error_is_shown_as_text(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError(f"boom{OSC52}")

    monkeypatch.setattr("paas.detect.detect", explode)
    assert main(["detect", "."]) == 1
    assert capsys.readouterr().err == (
        "error: unexpected RuntimeError: boom\\x1b]52;c;ZXZpbA==\\x07\n"
        "hint: run again with `--debug` for the traceback, and report it.\n"
    )


def test_a_hostile_key_in_paas_yaml_is_shown_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "paas.yaml").write_text(
        'name: hk\nprocesses:\n  web:\n    command: x\n    "po\\e]52;c;ZXZpbA==\\a\\e[2J": 1\n'
    )
    result = run_paas("render", tmp_path)
    assert result.returncode == 3
    assert result.stderr.splitlines()[-2:] == [
        "error: paas.yaml:5: processes.web.po\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J: "
        "unknown key `po\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J`",
        "hint: Known keys here: `command`, `replicas`, `size`, `port`, `healthcheck`, `autoscale`.",
    ]


def _on_a_terminal(*args: str | Path) -> tuple[int, str]:
    """Run paas with stdout and stderr on a pseudo-terminal; return its exit code and output."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "paas", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=paas_env(columns=200),
    )
    os.close(follower)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 30)
            if not ready:
                raise TimeoutError("paas did not finish on the terminal")
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the other side closed
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(leader)
        code = process.wait(timeout=10)
    return code, output.decode().replace("\r\n", "\n")


def test_a_detected_version_reaches_a_terminal_as_text_and_a_pipe_as_it_is(
    tmp_path: Path,
) -> None:
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / ".python-version").write_text(f"3.12{OSC52}\x1b[2J\n")
    code, output = _on_a_terminal("detect", tmp_path)
    assert code == 0
    assert (
        "runtime:         3.12\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J (from .python-version)\n" in output
    )
    assert "\x1b" not in output
    assert "\x07" not in output
    piped = run_paas("detect", tmp_path)
    assert f"runtime:         3.12{OSC52}\x1b[2J (from .python-version)\n" in piped.stdout


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_paas_logs_shows_app_lines_as_text_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    from paas.cli import common
    from paas.kube import logs
    from paas.kube.logs import LogLine

    out = io.StringIO()
    monkeypatch.setattr(
        paas.console, "_current", Console(out, io.StringIO(), plain=True, terminal=terminal)
    )
    fake = SimpleNamespace(
        history=lambda name: [],
        settings=SimpleNamespace(namespace=lambda name: name),
        kube=None,
    )
    monkeypatch.setattr(common, "session", lambda context: fake)
    lines = [LogLine("2026-01-02T03:04:05.123Z", "web", "hello-web-7d-x7k2p", f"hi{OSC52}")]
    monkeypatch.setattr(logs, "app_logs", lambda *a, **k: lines)
    assert main(["logs", "-a", "hello"]) == 0
    text = "hi\\x1b]52;c;ZXZpbA==\\x07" if terminal else f"hi{OSC52}"
    assert out.getvalue() == f"2026-01-02T03:04:05Z app[web.x7k2p]: {text}\n"


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "pipe"])
def test_paas_run_output_without_a_tty_follows_the_stdout_rule(
    monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    from paas.cli import common
    from paas.kube import run

    out = io.StringIO()
    monkeypatch.setattr(
        paas.console, "_current", Console(out, io.StringIO(), plain=True, terminal=terminal)
    )
    live = SimpleNamespace(app=None, release=lambda: None, name="v3")
    monkeypatch.setattr(
        common,
        "session",
        lambda context: SimpleNamespace(current=lambda n: live, settings=None, kube=None),
    )
    monkeypatch.setattr(
        "paas.render.one_off_pod", lambda *a, **k: {"metadata": {"name": "hello-run-1"}}
    )

    def run_pod(kube: object, pod: object, *, on_output: Any, **_: Any) -> int:
        on_output(f"row 1\t{OSC52}")
        return 0

    monkeypatch.setattr(run, "run_pod", run_pod)
    assert main(["run", "-a", "hello", "--", "echo"]) == 0
    row = "row 1\t\\x1b]52;c;ZXZpbA==\\x07" if terminal else f"row 1\t{OSC52}"
    assert out.getvalue() == row + "\n"
