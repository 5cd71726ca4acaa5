"""The docs that are generated or mirror code stay current."""

from __future__ import annotations

import re
from pathlib import Path

from paas.cli.reference import all_commands, cli_reference, help_text
from paas.errors import ExitCode

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_cli_reference_is_current() -> None:
    assert (DOCS / "cli.md").read_text() == cli_reference(), (
        "docs/cli.md is stale: run `python -m paas.cli.reference > docs/cli.md`"
    )


def test_every_command_has_help_with_an_example() -> None:
    for path in all_commands():
        text = help_text(path)
        assert text.strip(), f"`paas {' '.join(path)}` has no help"
        command_group = not path or "Commands:" in text
        if not command_group:
            assert "Example:\n" in text, f"`paas {' '.join(path)} --help` has no example"


def test_exit_codes_page_lists_every_code() -> None:
    rows = re.findall(r"^\| *(\d+) \| `(\w+)` \|", (DOCS / "exit-codes.md").read_text(), re.M)
    assert [(int(code), name) for code, name in rows] == [(c.value, c.name) for c in ExitCode]


def test_manifest_page_shows_the_size_table() -> None:
    from paas.render.sizes import SIZE_TABLE

    text = (DOCS / "manifest.md").read_text()
    for name, size in SIZE_TABLE.items():
        assert (
            f"| `{name}` | {size.cpu_request} | {size.cpu_limit} | {size.memory} |" in text
            or f"| {name} | {size.cpu_request} | {size.cpu_limit} | {size.memory} |" in text
        ), name
