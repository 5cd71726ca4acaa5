from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURE_APPS = Path(__file__).resolve().parents[2] / "fixtures" / "apps"

MakeApp = Callable[[dict[str, str]], Path]


def write_app(root: Path, files: dict[str, str]) -> Path:
    """Write `files` (relative path -> content) under `root` and return `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return root


@pytest.fixture
def make_app(tmp_path: Path) -> MakeApp:
    """Return a function that writes an app directory from a dict of files."""
    counter = iter(range(1000))

    def make(files: dict[str, str]) -> Path:
        return write_app(tmp_path / f"app{next(counter)}", files)

    return make


@pytest.fixture
def fixture_app() -> Callable[[str], Path]:
    """Return a function giving the path of a fixture app under tests/fixtures/apps."""

    def get(name: str) -> Path:
        path = FIXTURE_APPS / name
        assert path.is_dir(), f"missing fixture app {name}"
        return path

    return get
