"""The newest CPython: an app whose .python-version says 3.14 runs on 3.14."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from deploy_helpers import REPO, Paas, wait_for_body

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]


def test_python_version_file_3_14_builds_and_runs_on_3_14(
    paas: Paas, builder: str, tmp_path: Path, app: str
) -> None:
    del builder  # the paas builder is in the registry
    source = tmp_path / "py314"
    shutil.copytree(REPO / "templates" / "python-flask", source)
    (source / ".python-version").write_text("3.14\n")

    pushed = paas("push", str(source), "--app", app)
    assert pushed.returncode == 0, pushed.stderr[-3000:]
    assert "-----> Python 3.14." in pushed.stderr
    wait_for_body(app, "release=v1")
    ran = paas("run", "--app", app, "--", "python", "--version")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().startswith("Python 3.14.")
