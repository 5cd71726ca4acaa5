"""paas as a CI job runs it: no TTY, `CI=true`, the kubeconfig's content in `PAAS_KUBECONFIG`, `--json`.

Every `--json` stdout is validated against its schema by `Paas` (docs/json.md);
stderr carries no ANSI escapes; each failure class exits with its own code and
still prints its one JSON object. Then the promotion a pipeline makes: an
image deployed by digest to staging, promoted to production, both serving the
same digest with their own config.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from deploy_helpers import Images, Paas, wait_for_body
from test_deploy import manifest
from test_lock_fencing import take_lease

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

ANSI = re.compile(r"\x1b[\[\]()]")


@pytest.fixture
def ci(paas: Paas, cluster) -> Paas:  # type: ignore[no-untyped-def]
    """The CLI with no kubeconfig file at all: only its content, in PAAS_KUBECONFIG."""
    env = {k: v for k, v in paas.env.items() if k not in ("KUBECONFIG", "NO_COLOR", "TERM")}
    env.update(CI="true", PAAS_KUBECONFIG=Path(cluster.kubeconfig).read_text())
    env["HOME"] = paas.env.get("HOME", os.environ.get("HOME", "/root"))
    return Paas(env)


def change(ci: Paas, *args: str, code: int = 0) -> dict[str, object]:
    """Run a change command with --json; its one object, after checking the exit code and stderr."""
    result = ci(*args, "--json", timeout=600)
    assert result.returncode == code, result.stdout + result.stderr
    assert not ANSI.search(result.stderr), result.stderr
    data = json.loads(result.stdout)  # exactly one document, validated by Paas
    assert data["status"] == ("failed" if code else data["status"])
    if code:
        assert data["failure"]["exit_code"] == code
    return data


def test_deploy_by_digest_then_promote_with_each_apps_own_config(
    ci: Paas, paas: Paas, images: Images, app_dir: Path, app: str
) -> None:
    prod = f"{app}-prod"
    try:
        staged = change(ci, "push", str(app_dir), "--app", app, "--image", images.v1)
        assert staged["status"] == "succeeded"
        digest = staged["digest"]
        assert staged["image"] == f"{images.v1.rpartition(':')[0]}@{digest}"
        assert staged["source"] == f"image {images.v1}"  # the tag it came from
        assert set(staged["seconds"]) >= {"resolve", "deploy", "total"}
        assert change(ci, "push", str(app_dir), "--app", app, "--image", images.v1)["status"] == (
            "unchanged"
        )
        assert ci("config", "set", "GREETING=staging", "--app", app).returncode == 0
        assert "greeting=staging" in wait_for_body(app, "release=v2")

        assert ci("apps", "create", prod).returncode == 0
        assert ci("config", "set", "GREETING=prod", "--app", prod).returncode == 11  # no release
        promoted = change(ci, "promote", "--from", app, "--to", prod)
        assert (promoted["release"], promoted["digest"]) == ("v1", digest)
        assert promoted["source"] == f"promoted from {app} v2"
        assert promoted["promoted_from"] == f"{app} v2"
        assert "greeting=Hello" in wait_for_body(prod, "release=v1")  # not staging's config
        assert ci("config", "set", "GREETING=prod", "--app", prod).returncode == 0
        assert "greeting=prod" in wait_for_body(prod, "release=v2")
        assert "greeting=staging" in wait_for_body(app, "release=v2")

        def serving(name: str) -> dict[str, object]:
            history = json.loads(ci("releases", "--app", name, "--json").stdout)["releases"]
            return next(r for r in history if r["status"] == "succeeded")

        assert serving(app)["image"] == serving(prod)["image"] == staged["image"]
        config = json.loads(ci("config", "--app", prod, "--json").stdout)
        assert config == {
            "schema_version": 1,
            "app": prod,
            "redacted": True,
            "config": {"GREETING": None},
        }
        again = change(ci, "promote", "--from", app, "--to", prod)
        assert again["status"] == "unchanged"

        # A crash on staging: its newest release failed, so nothing is promoted.
        command = "python3 -c \"print('boom: no DATABASE_URL'); raise SystemExit(3)\""
        manifest(app_dir, {"processes": {"web": {"command": command}}})
        crashed = change(ci, "push", str(app_dir), "--app", app, "--image", images.v2, code=9)
        assert crashed["release"] == "v3"
        assert crashed["failure"]["class"] == "rollout"
        assert crashed["failure"]["reason"] == "CrashLoopBackOff"
        assert any("boom: no DATABASE_URL" in line for line in crashed["failure"]["log_tail"])
        refused = change(ci, "promote", "--from", app, "--to", prod, code=2)
        assert "newest release v3 failed" in refused["failure"]["message"]
        assert "release=v2" in wait_for_body(prod, "release=v2")
    finally:
        paas("apps", "destroy", prod, "--confirm", prod, timeout=120)


def test_each_failure_class_has_its_code_and_its_object(
    ci: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str], python_base: str
) -> None:
    (app_dir / "paas.yaml").write_text("processes:\n  web:\n    port: many\n")
    bad = change(ci, "push", str(app_dir), "--app", app, "--image", images.v1, code=3)
    assert bad["failure"]["class"] == "manifest"
    assert "paas.yaml:3" in bad["failure"]["message"]

    # A build from source whose Dockerfile step fails: podman's output, no escapes.
    manifest(app_dir, {"build": {"env": {"BASE_IMAGE": python_base}}})
    dockerfile = app_dir / "Dockerfile"
    original = dockerfile.read_text()
    dockerfile.write_text(
        original.replace(
            "WORKDIR /app", "WORKDIR /app\nRUN python3 -c \"raise SystemExit('e2e: step fails')\""
        )
    )
    broken = change(ci, "push", str(app_dir), "--app", app, code=7)
    assert (broken["failure"]["class"], broken["release"]) == ("build", None)
    assert "e2e: step fails" in json.dumps(broken["failure"])
    dockerfile.write_text(original)
    (app_dir / "paas.yaml").unlink()

    unreachable = yaml.safe_load(ci.env["PAAS_KUBECONFIG"])
    unreachable["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:9"
    down = Paas({**ci.env, "PAAS_KUBECONFIG": yaml.safe_dump(unreachable)})
    gone = change(down, "push", str(app_dir), "--app", app, "--image", images.v1, code=6)
    assert gone["failure"]["class"] == "cluster"
    assert "token" not in json.dumps(gone).lower()

    assert change(ci, "push", str(app_dir), "--app", app, "--image", images.v1)["release"] == "v1"
    (app_dir / "paas.yaml").write_text("release: python3 -c 'raise SystemExit(1)'\n")
    phase = change(ci, "push", str(app_dir), "--app", app, "--image", images.v2, code=8)
    assert (phase["failure"]["class"], phase["release"]) == ("release-phase", "v2")
    (app_dir / "paas.yaml").unlink()

    # --no-wait: done once applied; the rollout goes on and serves.
    quick = change(ci, "push", str(app_dir), "--app", app, "--image", images.v2, "--no-wait")
    assert (quick["status"], quick["release"], quick["waited"]) == ("succeeded", "v3", False)
    assert "greeting=Howdy" in wait_for_body(app, "release=v3")

    take_lease(kubectl, app, "another pipeline (e2e)", "2099-01-01T00:00:00.000000Z")
    busy = change(
        ci, "push", str(app_dir), "--app", app, "--image", images.v2, "--wait-lock", "1", code=10
    )
    assert busy["failure"]["class"] == "busy"
    assert "another pipeline (e2e)" in busy["failure"]["message"]
