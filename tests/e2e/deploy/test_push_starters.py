"""`paas push` from source: each starter built with the offline builder, served by the Ingress.

A push builds (buildpacks, or the Dockerfile), releases, rolls out; a second push
with nothing changed builds nothing and changes nothing; a one-line change
gives release v2.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml
from deploy_helpers import REPO, Paas, wait_for_body

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

STARTERS = ["python-flask", "node-express", "go-http", "static-site", "web-worker", "dockerfile"]
CHANGED = {
    "python-flask": "app.py",
    "node-express": "index.js",
    "go-http": "main.go",
    "static-site": "public/index.html",
    "web-worker": "app.py",
    "dockerfile": "server.py",
}


@pytest.mark.parametrize("starter", STARTERS)
def test_push_each_starter_from_source(
    paas: Paas, builder: str, python_base: str, starter: str, tmp_path: Path, app: str
) -> None:
    del builder  # the paas builder is in the registry
    source = tmp_path / starter
    shutil.copytree(REPO / "templates" / starter, source)
    if starter == "dockerfile":  # nothing can be pulled here: build FROM a local image
        manifest = yaml.safe_load((source / "paas.yaml").read_text())
        manifest.setdefault("build", {})["env"] = {"BASE_IMAGE": python_base}
        (source / "paas.yaml").write_text(yaml.safe_dump(manifest))

    first = paas("push", str(source), "--app", app)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Deployed v1:" in first.stderr
    wait_for_body(app, "release=v1")

    started = time.monotonic()
    again = paas("push", str(source), "--app", app)
    elapsed = time.monotonic() - started
    assert again.returncode == 0, again.stderr[-3000:]
    assert "not rebuilding" in again.stderr
    assert "Nothing changed: v1 is current." in again.stderr
    print(f"{starter}: push with nothing changed took {elapsed:.1f} s")

    changed = source / CHANGED[starter]
    comment = (
        "<!-- v2 -->"
        if changed.suffix == ".html"
        else ("# v2" if changed.suffix == ".py" else "// v2")
    )
    changed.write_text(changed.read_text() + f"\n{comment}\n")
    second = paas("push", str(source), "--app", app)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Deployed v2:" in second.stderr
    wait_for_body(app, "release=v2")


def test_push_with_the_cluster_strategy_builds_in_a_pod(
    paas: Paas, builder: str, tmp_path: Path, app: str
) -> None:
    del builder  # the paas builder is in the registry
    source = tmp_path / "node-express"
    shutil.copytree(REPO / "templates" / "node-express", source)
    first = paas("push", str(source), "--app", app, "--strategy", "cluster")
    assert first.returncode == 0, first.stderr[-3000:]
    assert "(cluster)" in first.stderr
    assert f"to pod `{app}-build-" in first.stderr
    assert "Deployed v1:" in first.stderr
    assert "release=v1" in wait_for_body(app, "release=v1")
    (source / "index.js").write_text((source / "index.js").read_text() + "\n// v2\n")
    # A code-only change would take the fast path (test_fast_path.py); this one is about
    # the build pod's cache, so it asks for the full build.
    second = paas("push", str(source), "--app", app, "--strategy", "cluster", "--no-fast-path")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "reusing the cached node_modules" in second.stderr
    assert "Deployed v2:" in second.stderr
    wait_for_body(app, "release=v2")
