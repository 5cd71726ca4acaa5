"""More of the deploy pipeline and the day-to-day commands on a real cluster, through the real CLI and the Ingress.

The release phase and app.json's postdeploy script, cron jobs and pruning,
`paas diff`, `paas eject` applied with kubectl, and the day-to-day commands
(config unset and --shell, ps restart, rollback, logs): each checked by what
the cluster runs, what the Ingress serves and what the user sees.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from deploy_helpers import Images, Paas, get, wait_for_body
from test_deploy import manifest, push, releases

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

# A process that stops at once on SIGTERM, so pruned pods do not wait out their grace.
SLEEPER = (
    'exec python3 -u -c "import signal, sys, time; '
    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); "
    "print('worker up'); time.sleep(3600)\""
)


def kube(kubectl: list[str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*kubectl, *args], capture_output=True, text=True, timeout=180, check=False
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"kubectl {' '.join(args)} exited {result.returncode}:\n{result.stderr}", pytrace=False
        )
    return result


def kube_json(kubectl: list[str], *args: str) -> Any:
    return json.loads(kube(kubectl, *args, "-o", "json").stdout)


def names(kubectl: list[str], namespace: str, kind: str, *selector: str) -> set[str]:
    items = kube_json(kubectl, "-n", namespace, "get", kind, *selector)["items"]
    return {item["metadata"]["name"] for item in items}


def wait_until(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}", pytrace=False)
        time.sleep(0.5)


def pushed(paas: Paas, app_dir: Path, app: str, image: str) -> str:
    """Push and insist on success; return what the user saw (stderr)."""
    result = push(paas, app_dir, app, image)
    assert result.returncode == 0, result.stdout + result.stderr
    output: str = result.stderr
    return output


def test_release_phase_runs_for_a_new_release_only(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    marker = f"migrated-{uuid.uuid4().hex[:6]}"
    (app_dir / "paas.yaml").write_text(
        f"processes:\n  web: {{healthcheck: /healthz}}\nrelease: echo {marker} $PAAS_RELEASE\n"
    )
    first = pushed(paas, app_dir, app, images.v1)
    assert f"Running the release phase: echo {marker} $PAAS_RELEASE" in first
    assert f"release | {marker} v1" in first
    # The release phase ends before the rollout starts.
    assert first.index(f"release | {marker} v1") < first.index("web: 1/1 ready")
    assert "Deployed v1" in first
    assert "greeting=Hello" in wait_for_body(app, "release=v1")
    job = kube_json(kubectl, "-n", app, "get", "job", f"{app}-release-v1")
    assert job["status"].get("succeeded") == 1
    assert job["spec"]["backoffLimit"] == 0

    # Same image, config and manifest: no release, so no release phase.
    again = push(paas, app_dir, app, images.v1)
    assert again.returncode == 0, again.stderr
    assert "Nothing changed: v1 is current." in again.stderr
    assert "release phase" not in again.stderr
    assert marker not in again.stderr
    assert names(kubectl, app, "jobs") == {f"{app}-release-v1"}
    assert [r["version"] for r in releases(paas, app)] == ["v1"]

    # A new image is a new release: the phase runs again, with v2's image and number.
    second = pushed(paas, app_dir, app, images.v2)
    assert f"release | {marker} v2" in second
    assert "greeting=Howdy" in wait_for_body(app, "release=v2")
    assert names(kubectl, app, "jobs") == {f"{app}-release-v1", f"{app}-release-v2"}


def test_a_push_that_only_scales_runs_no_release_phase(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    release = "release: echo release-phase $PAAS_RELEASE\n"
    (app_dir / "paas.yaml").write_text(f"processes:\n  web: {{healthcheck: /healthz}}\n{release}")
    assert "release | release-phase v1" in pushed(paas, app_dir, app, images.v1)
    (app_dir / "paas.yaml").write_text(
        f"processes:\n  web: {{healthcheck: /healthz, replicas: 2}}\n{release}"
    )
    scaled = pushed(paas, app_dir, app, images.v1)  # same image, same config
    assert "Deployed v2" in scaled
    assert "release phase" not in scaled, scaled
    pods = kube_json(kubectl, "-n", app, "get", "pods", "-l", "paas.dev/process=web")["items"]
    assert {p["metadata"]["labels"]["paas.dev/release"] for p in pods} == {"v1"}


def test_postdeploy_runs_once_after_the_first_deploy(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    marker = f"seeded-{uuid.uuid4().hex[:6]}"
    (app_dir / "app.json").write_text(
        json.dumps({"scripts": {"postdeploy": f"echo {marker} $PAAS_RELEASE"}})
    )
    first = pushed(paas, app_dir, app, images.v1)
    assert "Running the postdeploy script..." in first
    assert f"{marker} v1" in first
    # After the rollout, not before it.
    assert first.index("web: 1/1 ready") < first.index("Running the postdeploy script...")
    assert "release phase" not in first  # postdeploy is not a release phase
    wait_for_body(app, "release=v1")
    job = kube_json(kubectl, "-n", app, "get", "job", f"{app}-postdeploy-v1")
    assert job["status"].get("succeeded") == 1

    logs = paas("logs", "-p", "postdeploy", "--app", app)
    assert logs.returncode == 0, logs.stderr
    assert re.search(rf"app\[postdeploy\.\w+\]: {marker} v1$", logs.stdout, re.M), logs.stdout

    second = pushed(paas, app_dir, app, images.v2)
    assert "postdeploy" not in second
    assert marker not in second
    wait_for_body(app, "release=v2")
    assert names(kubectl, app, "jobs", "-l", "paas.dev/process=postdeploy") == {
        f"{app}-postdeploy-v1"
    }
    # A config change is a new release too, and still no postdeploy.
    config = paas("config", "set", "GREETING=later", "--app", app)
    assert config.returncode == 0, config.stderr
    assert "postdeploy" not in config.stderr
    assert names(kubectl, app, "jobs", "-l", "paas.dev/process=postdeploy") == {
        f"{app}-postdeploy-v1"
    }


def test_cron_and_worker_are_created_then_pruned(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    cron_command = "python3 -c \"import os; print('cron ran', os.environ['PAAS_RELEASE'])\""
    manifest(
        app_dir,
        {
            "processes": {"web": {"healthcheck": "/healthz"}, "worker": {"command": SLEEPER}},
            "cron": [{"name": "nightly", "schedule": "0 3 * * *", "command": cron_command}],
        },
    )
    pushed(paas, app_dir, app, images.v1)
    cronjob = kube_json(kubectl, "-n", app, "get", "cronjob", f"{app}-nightly")
    assert cronjob["spec"]["schedule"] == "0 3 * * *"
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    assert cronjob["spec"]["timeZone"] == "Etc/UTC"
    worker = kube_json(kubectl, "-n", app, "get", "deployment", f"{app}-worker")
    assert worker["status"].get("readyReplicas") == 1

    # The CronJob's template really runs, with the release's image and environment.
    kube(kubectl, "-n", app, "create", "job", "by-hand", f"--from=cronjob/{app}-nightly")
    kube(kubectl, "-n", app, "wait", "--for=condition=complete", "job/by-hand", "--timeout=90s")
    assert kube(kubectl, "-n", app, "logs", "job/by-hand").stdout.strip() == "cron ran v1"

    manifest(app_dir, {"processes": {"web": {"healthcheck": "/healthz"}}})
    second = pushed(paas, app_dir, app, images.v1)
    assert "Deployed v2" in second
    assert names(kubectl, app, "cronjobs") == set()
    assert names(kubectl, app, "deployments") == {f"{app}-web"}
    assert releases(paas, app)[0]["processes"] == {"web": 1}
    # Same image and environment: v2 keeps the web pods of v1 (no restart).
    assert "release=v1" in get(app).text


def test_diff_shows_changes_and_redacts_config(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    manifest(app_dir, {"processes": {"web": {"healthcheck": "/healthz"}}})
    pushed(paas, app_dir, app, images.v1)
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    assert paas("config", "set", f"API_TOKEN={secret}", "--app", app).returncode == 0

    same = paas("diff", str(app_dir), "--app", app)
    assert same.returncode == 0, same.stderr
    assert same.stdout == ""
    assert "No changes." in same.stderr

    manifest(
        app_dir,
        {"processes": {"web": {"healthcheck": "/healthz", "replicas": 2}}, "env": {"TIER": "gold"}},
    )
    changed = paas("diff", str(app_dir), "--app", app)
    assert changed.returncode == 0, changed.stderr
    text = changed.stdout
    assert f"+++ push/Deployment/{app}-web" in text
    assert re.search(r"^-\s+replicas: 1$", text, re.M), text
    assert re.search(r"^\+\s+replicas: 2$", text, re.M), text
    assert f"+++ push/PodDisruptionBudget/{app}-web" in text  # 2 replicas: a new PDB
    assert f"+++ push/Secret/{app}-config-v3" in text  # the next release's config
    assert re.search(r"^\+\s+API_TOKEN: \(redacted [0-9a-f]{8}\)$", text, re.M), text
    assert re.search(r"^\+\s+TIER: \(redacted [0-9a-f]{8}\)$", text, re.M), text
    as_json = paas("diff", str(app_dir), "--app", app, "--json")
    assert as_json.returncode == 0, as_json.stderr
    plan = json.loads(as_json.stdout)
    objects = {change["object"] for change in plan["objects"]}
    assert (plan["release"], plan["current_release"], plan["restart"]) == ("v3", "v2", True)
    assert plan["image"]["from"] == plan["image"]["to"]
    assert plan["config"] == {"added": [], "changed": [], "removed": []}  # TIER is the manifest's
    assert {f"Deployment/{app}-web", f"Secret/{app}-config-v3"} <= objects
    for output in (changed, as_json):
        everything = output.stdout + output.stderr
        assert secret not in everything
        assert base64.b64encode(secret.encode()).decode() not in everything
        assert "gold" not in everything

    # A diff changes nothing.
    assert [r["version"] for r in releases(paas, app)] == ["v2", "v1"]
    deployment = kube_json(kubectl, "-n", app, "get", "deployment", f"{app}-web")
    assert deployment["spec"]["replicas"] == 1
    assert names(kubectl, app, "poddisruptionbudgets") == set()

    # After a push of the same directory there is nothing left to show.
    pushed(paas, app_dir, app, images.v1)
    after = paas("diff", str(app_dir), "--app", app)
    assert after.returncode == 0, after.stderr
    assert "No changes." in after.stderr, after.stdout


def test_eject_then_kubectl_apply_serves_the_app(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str], tmp_path: Path
) -> None:
    out = tmp_path / "k8s"
    ejected = paas("eject", str(app_dir), "--out", str(out), "--app", app, "--image", images.v1)
    assert ejected.returncode == 0, ejected.stderr
    assert f"deploy with `kubectl apply -k {out}`" in ejected.stderr
    assert (out / "kustomization.yaml").is_file()
    try:
        applied = kube(kubectl, "apply", "-k", str(out))
        assert f"deployment.apps/{app}-web created" in applied.stdout
        kube(kubectl, "-n", app, "rollout", "status", f"deployment/{app}-web", "--timeout=120s")
        body = wait_for_body(app, "release=v1")
        assert "greeting=Hello" in body
        assert get(app, "/healthz").text == "ok"
    finally:
        kube(kubectl, "delete", "namespace", app, "--wait=false", check=False)


def test_config_restart_rollback_and_logs(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    (app_dir / "paas.yaml").write_text(
        "processes:\n  web: {healthcheck: /healthz}\nrelease: echo release-phase $PAAS_RELEASE\n"
    )
    pushed(paas, app_dir, app, images.v1)
    tricky = 'it\'s $HOME; `x` "y"'
    config = paas("config", "set", "GREETING=hi", f"NOTE={tricky}", "--app", app)
    assert config.returncode == 0, config.stderr
    assert "greeting=hi" in wait_for_body(app, "release=v2")

    # --shell prints lines a shell reads back to the exact values.
    shell = paas("config", "--shell", "--app", app)
    assert shell.returncode == 0, shell.stderr
    assert shell.stdout.splitlines()[0] == "GREETING=hi"
    read_back = subprocess.run(
        ["sh", "-c", f'{shell.stdout}\nprintf "%s" "$NOTE"'],
        capture_output=True,
        text=True,
        check=True,
    )
    assert read_back.stdout == tricky

    unset = paas("config", "unset", "GREETING", "--app", app)
    assert unset.returncode == 0, unset.stderr
    assert "Released v3: Unset GREETING." in unset.stderr
    assert "greeting=Hello" in wait_for_body(app, "release=v3")
    assert paas("config", "get", "GREETING", "--app", app).returncode == 11
    shown = json.loads(paas("config", "--json", "--reveal", "--app", app).stdout)
    assert shown["config"] == {"NOTE": tricky}
    assert json.loads(paas("config", "--json", "--app", app).stdout)["config"] == {"NOTE": None}
    assert paas("config", "unset", "GREETING", "--app", app).returncode == 11

    # ps restart: new pods, same release, no new release.
    selector = f"-l=paas.dev/app={app},paas.dev/process=web"
    before = names(kubectl, app, "pods", selector)
    restarted = paas("ps", "restart", "web", "--app", app)
    assert restarted.returncode == 0, restarted.stderr
    assert f"Restarting `{app}-web`." in restarted.stderr

    def replaced() -> list[dict[str, Any]] | None:
        pods = kube_json(kubectl, "-n", app, "get", "pods", selector)["items"]
        if any(p["metadata"]["name"] in before for p in pods):
            return None
        ready = [
            p
            for p in pods
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p.get("status", {}).get("conditions", [])
            )
        ]
        return pods if pods and len(ready) == len(pods) else None

    pods = wait_until("the restarted web pods", replaced, timeout=90)
    assert {p["metadata"]["labels"]["paas.dev/release"] for p in pods} == {"v3"}
    assert releases(paas, app)[0]["version"] == "v3"
    assert "release=v3" in get(app).text

    # rollback with no argument: to the release before the current one.
    back = paas("rollback", "--app", app)
    assert back.returncode == 0, back.stderr
    assert "Rollback to v2" in back.stderr
    assert "greeting=hi" in wait_for_body(app, "release=v4")
    history = releases(paas, app)
    assert [(r["version"], r["change"]) for r in history][:2] == [
        ("v4", "rollback"),
        ("v3", "config"),
    ]
    assert history[0]["config_keys"] == ["GREETING", "NOTE"]

    # logs: --tail keeps the newest lines; -p release shows each release phase.
    for _ in range(5):
        get(app)
    everything = paas("logs", "--app", app)
    assert everything.returncode == 0, everything.stderr
    tail = paas("logs", "--tail", "3", "--app", app)
    assert tail.returncode == 0, tail.stderr
    lines = tail.stdout.splitlines()
    assert len(lines) == 3, tail.stdout
    assert len(everything.stdout.splitlines()) > 3
    assert all(re.match(r"\S+Z app\[[\w.]+\]: ", line) for line in lines), lines
    newest = everything.stdout.splitlines()[-3].split(" ", 1)[0]
    assert all(line.split(" ", 1)[0] >= newest for line in lines), (lines, newest)

    release_logs = paas("logs", "-p", "release", "--app", app)
    assert release_logs.returncode == 0, release_logs.stderr
    release_lines = release_logs.stdout.splitlines()
    assert all("app[release." in line for line in release_lines), release_lines
    ran = {line.rsplit(" ", 1)[-1] for line in release_lines if "release-phase v" in line}
    assert ran == {"v1", "v2", "v3", "v4"}, release_logs.stdout


def test_postdeploy_waits_for_the_first_successful_release(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    (app_dir / "app.json").write_text(
        json.dumps({"scripts": {"postdeploy": "echo postdeploy $PAAS_RELEASE"}})
    )
    manifest(app_dir, {"processes": {"web": {"command": "exit 3"}}})
    crashed = push(paas, app_dir, app, images.v1)
    assert crashed.returncode == 9, crashed.stderr
    assert "postdeploy" not in crashed.stderr  # v1 never rolled out
    manifest(app_dir, {"processes": {"web": {"healthcheck": "/healthz"}}})
    fixed = pushed(paas, app_dir, app, images.v1)
    assert "release | postdeploy v2" in fixed
    assert names(kubectl, app, "jobs") == {f"{app}-postdeploy-v2"}
    third = pushed(paas, app_dir, app, images.v2)
    assert "postdeploy" not in third
