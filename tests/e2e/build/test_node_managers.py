"""End to end: yarn 1, yarn 4 and pnpm apps build offline, each manager's version said.

The package manager comes from the npm registry at the version the app asks
for (packageManager, engines) or its lockfile's format implies, never from
corepack's "latest" lookup (which needs a host this build cannot reach).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_build import FIXTURES, built_image

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("fixture", "said"),
    [
        # yarn.lock v1 and no packageManager field: the case corepack fails on.
        ("node-yarn1", "-----> yarn 1.22.22 (from yarn.lock, a classic v1 lockfile"),
        ("node-yarn-berry", "-----> yarn 4.18.1 (from package.json packageManager"),
        ("node-pnpm-lock", "(from pnpm-lock.yaml lockfileVersion 9.0: pnpm 10"),
    ],
)
def test_each_package_manager_builds_offline_and_says_its_version(
    fixture: str, said: str, build_testbed, builder, app_copy, run_image
) -> None:
    app: Path = app_copy(FIXTURES / fixture)
    image, log = built_image(build_testbed, app)
    assert said in log
    assert "corepack" not in log.lower()
    running = run_image(image, None, {"PAAS_RELEASE": "v3"})
    body = running.get("/")
    assert f"{fixture} release=v3" in body
    assert "two-days=172800000" in body  # `ms` came from node_modules
