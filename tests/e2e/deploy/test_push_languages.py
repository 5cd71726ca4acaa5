"""`paas push --strategy cluster` of the Ruby, PHP and Java fixtures: built in a pod, served by the Ingress.

The local strategy of the same apps, with their code-only rebuilds, is in
tests/e2e/build (test_ruby.py, test_php.py, test_java.py); the code-only
rebuild in the cluster is shown for the Java app, whose dependencies take
longest to fetch. Each is built by the offline builder in a pod, released and
served through Traefik.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from deploy_helpers import REPO, Paas, wait_for_body

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

FIXTURES = REPO / "tests" / "fixtures" / "apps"
JAVA_CODE = "src/main/java/com/heroku/java/GreetingController.java"


@pytest.mark.parametrize("fixture", ["ruby-rack", "php-composer", "java-getting-started"])
def test_push_in_the_cluster_builds_in_a_pod_and_serves(
    paas: Paas, builder: str, tmp_path: Path, app: str, fixture: str
) -> None:
    del builder  # the paas builder is in the registry
    source = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, source)

    first = paas("push", str(source), "--app", app, "--strategy", "cluster", timeout=900)
    assert first.returncode == 0, first.stderr[-4000:]
    assert f"to pod `{app}-build-" in first.stderr
    assert "Deployed v1:" in first.stderr
    wait_for_body(app, "release=v1", timeout=120)
    if fixture != "java-getting-started":
        return

    assert "Downloading from" in first.stderr
    changed = source / JAVA_CODE
    changed.write_text(changed.read_text() + "\n// v2\n")
    second = paas("push", str(source), "--app", app, "--strategy", "cluster", timeout=900)
    assert second.returncode == 0, second.stderr[-4000:]
    assert "Downloading from" not in second.stderr  # the Maven repository came from the cache
    assert "Deployed v2:" in second.stderr
    wait_for_body(app, "release=v2", timeout=120)
