"""Collect tests/unit/build/ (mirroring paas/build/) although pytest skips `build` dirs.

pytest's default `norecursedirs` holds `build`, so without this the build
tests would be silently left out. (`norecursedirs` in pyproject.toml without
`build` would make this hook unnecessary.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.name == "build" and collection_path.parent == HERE:
        return False
    return None
