"""Console output: rich on a terminal, plain lines otherwise, JSON on stdout."""

from __future__ import annotations

import io
import json

import pytest

from paas.console import Console, wants_plain
from paas.errors import ManifestError


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_without_a_tty_or_with_ci_or_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert wants_plain(io.StringIO())
    assert not wants_plain(FakeTTY())
    monkeypatch.setenv("CI", "true")
    assert wants_plain(FakeTTY())
    monkeypatch.delenv("CI")
    monkeypatch.setenv("NO_COLOR", "")
    assert wants_plain(FakeTTY())


def test_plain_output_has_no_escape_codes() -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out, err, plain=True)
    console.error(
        ManifestError(
            "must be an integer", "Fix it.", file="paas.yaml", line=7, path="processes.web.port"
        )
    )
    console.table(["NAME", "STATE"], [["web-1", "up"], ["worker-12", "crashed"]])
    console.data({"a": 1})
    assert err.getvalue() == (
        "error: paas.yaml:7: processes.web.port: must be an integer\nhint: Fix it.\n"
    )
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["NAME       STATE", "web-1      up", "worker-12  crashed"]
    assert json.loads("\n".join(lines[3:])) == {"a": 1}
    assert "\x1b" not in out.getvalue() + err.getvalue()


def test_rich_output_on_a_terminal_styles_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    out, err = FakeTTY(), FakeTTY()
    console = Console(out, err)
    assert not console.plain
    console.success("Deployed `hello` v3")
    text = err.getvalue()
    assert "\x1b[" in text
    assert "hello" in text
    assert "`" not in text  # backticks become styling on a terminal
