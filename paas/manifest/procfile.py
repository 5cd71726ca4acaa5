"""The Procfile: `type: command` lines, read with their line numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from paas.errors import ManifestError
from paas.names import process_name_problem, suggest_app_name

PROCFILE = "Procfile"

#: A Procfile line may be at most this long, and a Procfile may define at most this
#: many process types: each becomes a Deployment, so more is a mistake or an attack.
MAX_LINE = 4096
MAX_PROCESSES = 50


@dataclass(frozen=True)
class ProcfileEntry:
    """One `type: command` line of a Procfile."""

    name: str
    command: str
    line: int


_PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s*(.*)$")


def parse_procfile(text: str, file: str = PROCFILE) -> dict[str, ProcfileEntry]:
    """Parse a Procfile into its entries, keyed by process type.

    An error names the file, the line number and the problem, and of the line
    only the process type: a command may hold a password.

    Raises:
        ManifestError: on a line that is not `type: command`, a bad or repeated
            type, an empty command, a line over `MAX_LINE` characters, more than
            `MAX_PROCESSES` types, or a file with no entries at all.
    """
    entries: dict[str, ProcfileEntry] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(line) > MAX_LINE:
            raise ManifestError(
                f"the line is longer than {MAX_LINE} characters",
                "Move a long command into a script in the app and run that.",
                file=file,
                line=number,
            )
        match = _PROCFILE_LINE.match(line)
        if not match:
            raise ManifestError(
                "the line is not `type: command`",
                "Each line must be `type: command`, like `web: gunicorn app:app`.",
                file=file,
                line=number,
            )
        name, command = match.group(1), match.group(2).strip()
        if len(name) > 63:
            raise ManifestError(
                "the process type is longer than 63 characters",
                "Use a short name like `web` or `worker`.",
                file=file,
                line=number,
            )
        if name != "release" and (problem := process_name_problem(name)):
            raise ManifestError(
                f"process type `{name}` {problem}",
                f"Rename it, for example to `{suggest_app_name(name)}`.",
                file=file,
                line=number,
            )
        if not command:
            raise ManifestError(
                f"process type `{name}` has no command",
                f"Write the command after `{name}:`.",
                file=file,
                line=number,
            )
        if name in entries:
            first = entries[name].line
            raise ManifestError(
                f"process type `{name}` is defined twice (first on line {first})",
                "Keep one of the two lines.",
                file=file,
                line=number,
            )
        if len(entries) == MAX_PROCESSES:
            raise ManifestError(
                f"more than {MAX_PROCESSES} process types",
                f"An app runs at most {MAX_PROCESSES}; split it into several apps.",
                file=file,
                line=number,
            )
        entries[name] = ProcfileEntry(name, command, number)
    if not entries:
        raise ManifestError(
            "the Procfile defines no process types",
            "Add a line like `web: gunicorn app:app`, or delete the empty file.",
            file=file,
        )
    return entries
