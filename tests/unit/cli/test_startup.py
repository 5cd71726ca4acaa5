"""`paas --help` and `paas version` stay fast: they import no heavy library.

The time itself is measured by bench/startup.py (a benchmark, not a timed test);
this test pins down the cause of a slow start, which is deterministic.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = (
    "kubernetes",
    "pydantic",
    "yaml",
    "rich",
    "httpx",
    "sh",
    "jsonpatch",
    "paas.manifest",
    "paas.render",
    "paas.detect",
)

PROBE = """
import sys
from paas.cli import main
code = main({args!r})
heavy = sorted({{m for m in sys.modules for h in {heavy!r} if m == h or m.startswith(h + ".")}})
print("HEAVY", heavy, file=sys.stderr)
"""


@pytest.mark.parametrize("args", [["--help"], ["version"], ["render", "--help"]])
def test_fast_commands_import_nothing_heavy(args: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
        env={"NO_COLOR": "1"},
    )
    assert result.stderr.strip().splitlines()[-1] == "HEAVY []"
