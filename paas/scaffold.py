"""`paas init`: a commented paas.yaml from detection, or a starter app from templates/.

`manifest_text` is pure; `copy_template` writes files and refuses to overwrite any.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from paas.errors import UsageError
from paas.manifest import MANIFEST_FILE, AppSpec


def templates_dir() -> Path:
    """Where the starters live: inside the installed package, or beside it in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise UsageError("the starter templates are missing from this installation", "Reinstall paas.")


def template_names() -> list[str]:
    """The starters `paas init --template` accepts."""
    return sorted(
        p.name for p in templates_dir().iterdir() if p.is_dir() and (p / MANIFEST_FILE).is_file()
    )


def manifest_text(app: AppSpec, evidence: str) -> str:
    """A commented paas.yaml that reproduces what paas found for `app`.

    Args:
        app: The app as read from its files.
        evidence: One line saying what was detected and from which file.
    """
    lines = [
        "# paas.yaml: how paas builds and runs this app. Reference: docs/manifest.md",
        f"# {evidence}",
        f"name: {app.name}",
        "",
        "# build:",
        "#   dockerfile: Dockerfile    # build with a Dockerfile instead of buildpacks",
        "#   env: {}                   # build-time environment",
        "",
        "processes:",
    ]
    for process in app.processes.values():
        lines.append(f"  {process.name}:")
        if process.command is not None:
            lines.append(f"    command: {_yaml_scalar(process.command)}")
        lines.append(f"    replicas: {process.replicas}")
        lines.append(
            f"    size: {process.size}                # nano, small, medium, large, xlarge"
        )
        if process.name == "web":
            lines.append(f"    port: {process.port}                # paas sets $PORT to this")
            lines.append("    # healthcheck: /healthz     # an HTTP path; default: TCP connect")
            lines.append("    # autoscale: {min: 2, max: 10, cpu: 70}")
    lines += [
        "",
        "# release: python manage.py migrate   # runs before each rollout; failure stops it",
        "# cron:",
        '#   - {name: nightly, schedule: "0 3 * * *", command: python cleanup.py}',
        "",
        "env: {}                        # non-secret defaults; `paas config set` overrides",
        "# domains: [www.example.com]",
        "",
    ]
    return "\n".join(lines)


def _yaml_scalar(text: str) -> str:
    import yaml

    dumped: str = yaml.safe_dump(text, default_flow_style=True, width=10_000).strip()
    return dumped.removesuffix("\n...").strip()


def copy_template(name: str, dest: Path, app_name: str) -> list[Path]:
    """Copy starter `name` into `dest` and give its paas.yaml the name `app_name`.

    Raises:
        UsageError: no such starter, or a file of it already exists in `dest`.
    """
    names = template_names()
    if name not in names:
        raise UsageError(
            f"there is no template `{name}`", f"Pick one of: {', '.join(f'`{n}`' for n in names)}."
        )
    source = templates_dir() / name
    files = [p for p in sorted(source.rglob("*")) if p.is_file()]
    clashes = [str(p.relative_to(source)) for p in files if (dest / p.relative_to(source)).exists()]
    if clashes:
        raise UsageError(
            f"`{dest}` already has {', '.join(f'`{c}`' for c in clashes[:3])}",
            "Run `paas init --template` in an empty directory.",
        )
    written = []
    for path in files:
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        written.append(target)
    manifest = dest / MANIFEST_FILE
    manifest.write_text(
        re.sub(r"(?m)^name:.*$", f"name: {app_name}", manifest.read_text(), count=1)
    )
    return written
