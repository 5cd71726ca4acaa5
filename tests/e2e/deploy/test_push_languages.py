"""`paas push --strategy cluster` of the Ruby, PHP and Java fixtures: built in a pod, served by the Ingress.

The local strategy of the same apps is in tests/e2e/build (test_ruby.py,
test_php.py, test_java.py); here each is built by the offline builder in the
cluster, released and served through Traefik, then a code-only change is
pushed: the build reuses the cached dependencies and v2 serves.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from deploy_helpers import REPO, Paas, wait_for_body

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

FIXTURES = REPO / "tests" / "fixtures" / "apps"


@pytest.mark.parametrize(
    ("fixture", "code_file", "comment", "installs"),
    [
        ("ruby-rack", "config.ru", "# v2", "Installing puma"),
        ("php-composer", "public/index.php", "// v2", "- Installing"),
        (
            "java-getting-started",
            "src/main/java/com/heroku/java/GreetingController.java",
            "// v2",
            "Downloading from",
        ),
    ],
)
def test_push_in_the_cluster_serves_and_a_code_change_reuses_the_dependencies(
    paas: Paas,
    builder: str,
    tmp_path: Path,
    app: str,
    fixture: str,
    code_file: str,
    comment: str,
    installs: str,
) -> None:
    del builder  # the paas builder is in the registry
    source = tmp_path / fixture
    shutil.copytree(FIXTURES / fixture, source)

    first = paas("push", str(source), "--app", app, "--strategy", "cluster", timeout=900)
    assert first.returncode == 0, first.stderr[-4000:]
    assert f"to pod `{app}-build-" in first.stderr
    assert "Deployed v1:" in first.stderr
    wait_for_body(app, "release=v1", timeout=120)
    if fixture != "php-composer":  # its vendor/ is committed: nothing is ever installed
        assert installs in first.stderr

    changed = source / code_file
    changed.write_text(changed.read_text() + f"\n{comment}\n")
    second = paas("push", str(source), "--app", app, "--strategy", "cluster", timeout=900)
    assert second.returncode == 0, second.stderr[-4000:]
    assert installs not in second.stderr  # no dependency was installed again
    assert "Deployed v2:" in second.stderr
    wait_for_body(app, "release=v2", timeout=120)
