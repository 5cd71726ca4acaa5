"""A dyno's filesystem, as on Heroku: writable and ephemeral; read-only only as an opt-in.

The python-flask starter (gunicorn) is changed to write a file beside its code
when it starts. Pushed as is, it serves and gunicorn logs no filesystem error.
With `kubernetes.read_only_root: true` the same app cannot start: the push fails,
names the setting, and the last good release keeps serving.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from deploy_helpers import REPO, Paas, get, wait_for_body

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

WRITER = """
import pathlib as _pathlib

# Like an app that keeps a cache or an SQLite file beside its code.
_pathlib.Path(__file__).with_name("started.txt").write_text("written at start\\n")
"""


def test_an_app_that_writes_beside_its_code_serves_and_the_read_only_opt_in_names_itself(
    paas: Paas, builder: str, tmp_path: Path, app: str
) -> None:
    del builder  # the paas builder is in the registry
    source = tmp_path / "writer"
    shutil.copytree(REPO / "templates" / "python-flask", source)
    app_py = source / "app.py"
    app_py.write_text(
        app_py.read_text().replace("app = Flask(__name__)", WRITER + "\napp = Flask(__name__)")
    )

    first = paas("push", str(source), "--app", app)
    assert first.returncode == 0, first.stderr[-3000:]
    wait_for_body(app, "release=v1")
    logs = paas("logs", "--app", app)
    assert logs.returncode == 0, logs.stderr
    assert "Booting worker" in logs.stdout  # gunicorn's own lines are there
    assert "Read-only file system" not in logs.stdout
    assert "Control server error" not in logs.stdout
    # A one-off pod is a fresh container: importing the app writes the file there too.
    ran = paas(
        "run",
        "--app",
        app,
        "--",
        "python",
        "-c",
        "import app, pathlib; print(pathlib.Path('started.txt').read_text())",
    )
    assert ran.returncode == 0, ran.stderr
    assert "written at start" in ran.stdout

    manifest = source / "paas.yaml"
    manifest.write_text(manifest.read_text() + "kubernetes:\n  read_only_root: true\n")
    second = paas("push", str(source), "--app", app, "--timeout", "180")
    assert second.returncode != 0, second.stderr[-3000:]
    assert "CrashLoopBackOff" in second.stderr
    assert "Read-only file system" in second.stderr, second.stderr[-3000:]  # the app's own lines
    assert "`kubernetes.read_only_root`" in second.stderr
    assert "release=v1" in get(app).text  # the last good release keeps serving
