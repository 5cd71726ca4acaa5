"""A release whose app raises at import is named by its own error, within Heroku's boot window.

gunicorn's master stays up while each worker prints the app's traceback and
exits; the probes then fail with `connection refused`, which alone reads like
an app bound to the wrong port. The rollout must name the traceback's error
instead, well before the 60 s a Heroku dyno gets to boot, and roll back to the
release that serves.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from deploy_helpers import REPO, Paas, get, wait_for_body

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

BOOT_WINDOW_SECONDS = 60


def _push_timed(paas: Paas, source: Path, app: str) -> tuple[int, str, float | None]:
    """Push, reading the output as it comes: (exit code, output, rollout start to failure)."""
    process = paas.popen("push", str(source), "--app", app)
    assert process.stdout is not None
    lines: list[str] = []
    rollout_started = failed = None
    for line in process.stdout:
        now = time.monotonic()
        lines.append(line)
        if rollout_started is None and "web: 0/1 ready" in line:
            rollout_started = now
        if failed is None and "Rolling back to v1" in line:
            failed = now
    code = process.wait(timeout=600)
    elapsed = None if rollout_started is None or failed is None else failed - rollout_started
    return code, "".join(lines), elapsed


def test_an_import_error_under_gunicorn_is_named_and_rolled_back(
    paas: Paas, builder: str, tmp_path: Path, app: str
) -> None:
    del builder  # the paas builder is in the registry
    source = tmp_path / "python-flask"
    shutil.copytree(REPO / "templates" / "python-flask", source)
    good = paas("push", str(source), "--app", app)
    assert good.returncode == 0, good.stderr[-3000:]
    wait_for_body(app, "release=v1")

    app_py = source / "app.py"
    app_py.write_text("import missing_module\n" + app_py.read_text())
    code, output, elapsed = _push_timed(paas, source, app)
    assert code == 9, output[-4000:]
    error = next(line for line in output.splitlines() if line.startswith("error:"))
    hint = next(line for line in output.splitlines() if line.startswith("hint:"))
    print(f"gunicorn import error: rollout start to failure {elapsed} s\n{error}\n{hint}")
    assert "NotListening" not in error, output[-4000:]
    assert "ModuleNotFoundError: No module named 'missing_module'" in error, output[-4000:]
    assert "$PORT" not in hint, output[-4000:]
    assert "`paas logs`" in hint, output[-4000:]
    assert "Rolled back to v1" in output
    assert elapsed is not None, output[-4000:]
    assert elapsed < BOOT_WINDOW_SECONDS, f"took {elapsed:.0f} s from the rollout's start"
    assert "release=v1" in get(app).text
