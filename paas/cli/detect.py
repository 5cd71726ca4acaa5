"""`paas detect`: what paas sees in an app directory, and why."""

from __future__ import annotations

from pathlib import Path

import typer

from paas.cli.options import JsonOption, PathArgument


def detect(path: PathArgument = Path("."), json_output: JsonOption = False) -> None:
    """Show what paas detects in an app directory, and the evidence.

    Prints the language, package manager, requested runtime version and the
    default web command.

    Detectors run in order (Python, Node.js, Go, Ruby, Java, PHP, Dockerfile,
    static site) and the first that matches wins; the evidence names the file
    and the rule that decided. Like Heroku, a Dockerfile beside a language's
    files is used only when heroku.yml says `build: docker` or paas.yaml sets
    `build.dockerfile`; `build` says which was chosen and how to pick the other.

    \b
    Example:
      paas detect
      paas detect ./api --json
    """
    from paas.console import get_console
    from paas.detect import detect as detect_app

    console = get_console()
    found = detect_app(path)
    if json_output:
        console.data(found.to_dict())
        return
    pairs: list[tuple[str, object]] = [("language", found.language)]
    if found.package_manager:
        pairs.append(("package manager", found.package_manager))
    if found.framework:
        pairs.append(("framework", found.framework))
    if found.runtime_version:
        source = found.runtime_version_source
        pairs.append(
            ("runtime", found.runtime_version + (f" (from {source.file})" if source else ""))
        )
    pairs.append(("web command", found.default_web_command or "(none: the image's own)"))
    if found.build_choice:
        pairs.append(("build", found.build_choice))
    for ev in found.evidence:
        pairs.append(("evidence", f"{ev.file}: {ev.rule}"))
    console.fields(pairs, title=f"Detected {found.language} in {path}")


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(detect)
