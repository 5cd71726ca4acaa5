"""docs/ci.md's GitHub Actions workflow, its shell steps run as written against the testbed.

Each job's `run:` steps run in `bash -eo pipefail` (as GitHub's `shell: bash`),
with the workflow's and the job's `env:`, the `${{ ... }}` values a runner
would give (the secrets, the pull request's number), `CI`, `GITHUB_ACTIONS`
and a step summary file: staging on a push to main (a real build), production
on a tag (a promotion), a review app on a pull request, destroyed on close.
Only the install step is not run: the suite runs this checkout's paas.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_helpers import REPO, Paas, wait_for_body
from test_deploy_more import wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def workflow() -> dict[str, Any]:
    text = (REPO / "docs" / "ci.md").read_text()
    section = text.split("## GitHub Actions", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    loaded: dict[Any, Any] = yaml.safe_load(block)
    loaded["on"] = loaded.pop(True, loaded.get("on"))  # YAML 1.1 reads `on` as true
    return loaded


def expand(value: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        expression = match.group(1)
        assert expression in values, f"docs/ci.md uses `{expression}`, which the test does not give"
        return values[expression]

    return EXPRESSION.sub(one, str(value))


def run_job(flow: dict[str, Any], name: str, values: dict[str, str], cwd: Path, app: str) -> str:
    """Run job `name`'s shell steps; return its step summary."""
    job = flow["jobs"][name]
    summary = cwd / f"summary-{name}.md"
    summary.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAAS_", "KUBECONFIG"))}
    env.update(
        CI="true",
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(summary),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}",
        PAAS_AUTHOR="ci@paas.test",
    )
    for scope in (flow.get("env", {}), job.get("env", {})):
        env.update({k: expand(v, values) for k, v in scope.items()})
    env["APP"] = app  # the one value a team edits
    installs = [s for s in job["steps"] if str(s.get("run", "")).startswith("pip install paas")]
    assert len(installs) == 1, f"job {name} installs paas once"
    for step in job["steps"]:
        if "run" not in step or step in installs:
            continue
        script = expand(step["run"], values)
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False,
        )  # fmt: skip
        assert result.returncode == 0, (
            f"job {name}, step {step.get('name')}: exit {result.returncode}\n"
            f"{result.stdout}\n{result.stderr[-4000:]}"
        )
        assert "\x1b[" not in result.stderr, "CI mode prints no ANSI escapes"
    return summary.read_text()


def test_the_github_actions_workflow_runs_as_written(
    paas: Paas, builder: str, cluster, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    del builder  # the paas builder is in the registry
    flow = workflow()
    assert set(flow["jobs"]) == {"staging", "production", "review", "review-closed"}
    app = f"e2e-ci-{uuid.uuid4().hex[:6]}"
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO / "templates" / "static-site", checkout)
    values = {
        "secrets.PAAS_KUBECONFIG": Path(cluster.kubeconfig).read_text(),
        "secrets.PAAS_REGISTRY_USERNAME": "",  # the testbed registry has no login
        "secrets.PAAS_REGISTRY_PASSWORD": "",
        "github.event.number": "7",
        "github.ref": "refs/heads/main",
    }
    made = [f"{app}-staging", app, f"{app}-pr-7"]
    try:
        # Once, by hand, as docs/ci.md says: the production app.
        paas("apps", "create", app, check=True)
        staging = run_job(flow, "staging", values, checkout, app)
        assert f"Staging: http://{app}-staging." in staging
        wait_for_body(f"{app}-staging", "from static-site")

        production = run_job(flow, "production", values, checkout, app)
        release, digest, url = production.split()
        assert (release, url) == ("v1", f"http://{app}.localhost")
        wait_for_body(app, "from static-site")

        def image(name: str) -> str:
            shown = json.loads(paas("releases", "--app", name, "--json", check=True).stdout)
            return str(shown["releases"][0]["image"])

        assert image(app) == image(f"{app}-staging")
        assert image(app).endswith(f"@{digest}")

        review = run_job(flow, "review", values, checkout, app)
        assert f"Review app: http://{app}-pr-7." in review
        wait_for_body(f"{app}-pr-7", "from static-site")
        run_job(flow, "review-closed", values, checkout, app)

        def gone() -> bool:
            listed = json.loads(paas("apps", "--json", check=True).stdout)["apps"]
            return f"{app}-pr-7" not in {a["name"] for a in listed}

        wait_until("the review app gone", gone, timeout=120)
    finally:
        for name in made:
            paas("apps", "destroy", name, "--confirm", name, timeout=120)
