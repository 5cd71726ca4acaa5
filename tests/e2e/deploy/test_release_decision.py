"""One release decision on a real cluster: `paas diff`, `push`, `rollback` and `eject` agree.

`paas diff` and `paas eject` decide what a push would make through the same
`next_release()` as `paas push`; these tests check, on the testbed, that what
diff predicts is what push then does, that a scale restarts nothing, that a
rollback with no version skips releases that only scaled, and that an ejected
running app is exactly what runs (`kubectl diff -k` is empty).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from deploy_helpers import REPO, Images, Paas, wait_for_body
from test_deploy import manifest, push, releases
from test_deploy_more import kube, kube_json, names, pushed

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]


def pod_releases(kubectl: list[str], app: str) -> set[str]:
    """The releases the web pods run (`PAAS_RELEASE`), from the Deployment's template."""
    deployment = kube_json(kubectl, "-n", app, "get", "deployment", f"{app}-web")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    return {e["value"] for e in env if e["name"] == "PAAS_RELEASE"}


def serving_pods(kubectl: list[str], app: str) -> set[str]:
    """The web pods that are not on their way out."""
    items = kube_json(kubectl, "-n", app, "get", "pods", "-l", "paas.dev/process=web")["items"]
    return {p["metadata"]["name"] for p in items if not p["metadata"].get("deletionTimestamp")}


def config_secrets(kubectl: list[str], app: str) -> set[str]:
    items = kube_json(kubectl, "-n", app, "get", "secrets")["items"]
    return {s["metadata"]["name"] for s in items if "-config-" in s["metadata"]["name"]}


def test_diff_after_a_scale_agrees_with_push_and_rollback_skips_the_scales(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    manifest(app_dir, {"processes": {"web": {"healthcheck": "/healthz"}}})
    pushed(paas, app_dir, app, images.v1)
    pushed(paas, app_dir, app, images.v2)  # v2: the bad code
    wait_for_body(app, "greeting=Howdy")
    assert paas("ps", "scale", "web=2", "--app", app).returncode == 0  # v3

    # diff decides as push decides: the scale is kept, nothing restarts, no new config.
    diff = paas("diff", str(app_dir), "--app", app, "--image", images.v2)
    assert diff.returncode == 0, diff.stderr
    assert diff.stdout == "", diff.stdout
    assert "A push would make no release: v3 stays current." in diff.stderr
    same = push(paas, app_dir, app, images.v2)
    assert same.returncode == 0, same.stderr
    assert "Nothing changed: v3 is current." in same.stderr
    assert kube_json(kubectl, "-n", app, "get", "deployment", f"{app}-web")["spec"]["replicas"] == 2
    assert pod_releases(kubectl, app) == {"v2"}
    assert config_secrets(kubectl, app) == {f"{app}-config-v1", f"{app}-config-v2"}

    # A change diff shows as a restart with a new config Secret is one in push too.
    manifest(app_dir, {"processes": {"web": {"healthcheck": "/healthz"}}, "env": {"TIER": "gold"}})
    predicted = paas("diff", str(app_dir), "--app", app, "--image", images.v2)
    assert predicted.returncode == 0, predicted.stderr
    assert f"+++ push/Secret/{app}-config-v4" in predicted.stdout
    assert re.search(r"^\+\s+value: v4$", predicted.stdout, re.M), predicted.stdout
    assert "replicas: 1" not in predicted.stdout  # the scale to 2 is kept
    assert "Deployed v4" in pushed(paas, app_dir, app, images.v2)
    assert pod_releases(kubectl, app) == {"v4"}
    assert f"{app}-config-v4" in config_secrets(kubectl, app)
    assert kube_json(kubectl, "-n", app, "get", "deployment", f"{app}-web")["spec"]["replicas"] == 2

    # Two scales, then `paas rollback`: back to the last release with other code or
    # config (v4 has TIER, v2 does not), not to the scale before.
    assert paas("ps", "scale", "web=1", "--app", app).returncode == 0  # v5
    assert paas("ps", "scale", "web=2", "--app", app).returncode == 0  # v6
    back = paas("rollback", "--app", app)
    assert back.returncode == 0, back.stderr
    assert "Rolling back to v3 (Scale web=2" not in back.stderr
    assert "Rolling back to v2 (Deploy dockerfile@" in back.stderr, back.stderr
    assert "Rolled back: v7: Rollback to v2." in back.stderr
    assert pod_releases(kubectl, app) == {"v7"}
    history = {r["version"]: r for r in releases(paas, app)}
    assert history["v7"]["config_keys"] == []
    assert history["v7"]["processes"] == {"web": 2}  # a rollback keeps the formation


def test_eject_of_a_running_app_is_what_runs(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str], tmp_path: Path
) -> None:
    pushed(paas, app_dir, app, images.v1)
    assert paas("config", "set", "GREETING=from config", "--app", app).returncode == 0  # v2
    wait_for_body(app, "greeting=from config")

    # From another directory: eject reads the app from the cluster, not from files here.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = tmp_path / "k8s"
    ejected = paas("eject", "--app", app, "--out", str(out), cwd=elsewhere)
    assert ejected.returncode == 0, ejected.stderr
    assert f"Showing `{app}` as it runs: v2." in ejected.stderr
    files = {p.name: p.read_text() for p in out.iterdir()}
    deployment = yaml.safe_load(files[f"04-deployment-{app}-web.yaml"])
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "@sha256:" in container["image"]
    assert {"name": "PAAS_RELEASE", "value": "v2"} in container["env"]
    assert any(f"{app}-config-v2" in text for text in files.values())

    diff = kube(kubectl, "diff", "-k", str(out), check=False)
    assert diff.returncode == 0, diff.stdout + diff.stderr  # 0: no differences
    assert diff.stdout == ""
    before = kube_json(kubectl, "-n", app, "get", "deployment", f"{app}-web")
    replicasets = names(kubectl, app, "replicasets")
    pods = serving_pods(kubectl, app)
    # Plain `kubectl apply` only adds its last-applied annotation (which a Deployment
    # counts as a new generation); nothing is created and nothing restarts.
    applied = kube(kubectl, "apply", "-k", str(out))
    assert "created" not in applied.stdout, applied.stdout
    after = kube_json(kubectl, "-n", app, "get", "deployment", f"{app}-web")
    assert after["spec"] == before["spec"]
    assert names(kubectl, app, "replicasets") == replicasets
    assert serving_pods(kubectl, app) == pods
    assert "greeting=from config" in wait_for_body(app, "release=v2")

    # `--next` shows the directory as the next push would deploy it instead.
    manifest(app_dir, {"env": {"TIER": "gold"}})
    following = paas("render", str(app_dir), "--app", app, "--next", "--image", images.v1)
    assert following.returncode == 0, following.stderr
    objects = {(o["kind"], o["metadata"]["name"]) for o in yaml.safe_load_all(following.stdout)}
    assert ("Secret", f"{app}-config-v3") in objects


def test_a_push_reads_and_detects_the_app_once(
    paas: Paas,
    builder: str,
    app: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    del builder  # the paas builder is in the registry
    from paas import console as console_module
    from paas import detect as detection
    from paas.cli import main

    source = tmp_path / "site"
    shutil.copytree(REPO / "templates" / "static-site", source)
    calls: list[Path] = []
    real = detection.detect

    def counting(path: Path) -> detection.Detection:
        calls.append(path)
        return real(path)

    # In this process, so the calls can be counted: the push as `paas push` runs it,
    # building from source (the build path detected twice before).
    monkeypatch.setattr(detection, "detect", counting)
    monkeypatch.setattr(console_module, "_current", None)  # print to this test's stderr
    for key, value in paas.env.items():
        monkeypatch.setenv(key, value)
    code = main(["push", str(source), "--app", app])
    output = capsys.readouterr().err
    assert code == 0, output[-3000:]
    assert "Deployed v1" in output
    assert calls == [source / "."]
    assert "release=v1" in wait_for_body(app, "release=v1")
