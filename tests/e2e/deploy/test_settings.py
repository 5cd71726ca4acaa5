"""Every command reads the cluster's settings the same way, on a real cluster.

`paas cluster init` stored the testbed registry (the `paas` fixture); `paas build`
and `paas render` of an app that is not deployed use it, with no `--settings`,
and fall back to the local defaults, saying so, only when no cluster answers.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from deploy_helpers import REPO, Cluster, Paas

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]


def test_build_and_render_use_the_cluster_settings(
    paas: Paas, cluster: Cluster, app: str, tmp_path: Path
) -> None:
    source = tmp_path / "site"
    shutil.copytree(REPO / "templates" / "static-site", source)

    plan = paas("build", str(source), "--app", app, "--dry-run", "--json")
    assert plan.returncode == 0, plan.stderr
    assert "local default settings" not in plan.stderr
    assert json.loads(plan.stdout)["repository"] == f"{cluster.registry}/{app}"

    rendered = paas("render", str(source), "--app", app)
    assert rendered.returncode == 0, rendered.stderr
    assert f"No image yet: showing `{cluster.registry}/{app}:pending`" in rendered.stderr
    kinds = [o["kind"] for o in yaml.safe_load_all(rendered.stdout)]
    assert "Deployment" in kinds

    offline = Paas({**paas.env, "KUBECONFIG": str(tmp_path / "no-such-kubeconfig")})
    fallback = offline("build", str(source), "--app", app, "--dry-run", "--json")
    assert fallback.returncode == 0, fallback.stderr
    assert "No cluster answered (" in fallback.stderr
    assert "using the local default settings (registry `localhost:5000`" in fallback.stderr
    assert json.loads(fallback.stdout)["repository"] == f"localhost:5000/{app}"
