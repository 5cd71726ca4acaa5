"""Copies of the starter and fixture apps for the e2e tests (beside tests/e2e/conftest.py)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path


def copy_app(source: Path, parent: Path, name: str | None = None) -> Path:
    """Copy a starter or fixture app into `parent`, named `name` or uniquely."""
    dest = parent / (name or f"t-{source.name}-{uuid.uuid4().hex[:6]}")
    shutil.copytree(source, dest)
    manifest = dest / "paas.yaml"
    if manifest.is_file():
        lines = [
            f"name: {dest.name}" if line.startswith("name:") else line
            for line in manifest.read_text().splitlines()
        ]
        manifest.write_text("\n".join(lines) + "\n")
    return dest


def full_build_log(app: Path | str) -> str:
    """The newest full build log of `app` (`paas.build.output`): every line, hidden ones too."""
    from paas.build.output import app_logs, log_dir

    name = app.name if isinstance(app, Path) else app
    logs = app_logs(log_dir(), name)
    assert logs, f"no full build log of `{name}` in {log_dir()}"
    return logs[-1].read_text()
