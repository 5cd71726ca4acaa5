"""Push and the day-to-day commands on a real cluster, through the real CLI and the Ingress.

Push, releases, rollback, config, scale, logs, run, domains, failures: each
checked by what the deployed app serves and what the user sees.
"""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from deploy_helpers import Images, Paas, get, wait_for_body

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]


def push(paas: Paas, app_dir: Path, app: str, image: str, *extra: str):  # type: ignore[no-untyped-def]
    return paas("push", str(app_dir), "--app", app, "--image", image, *extra)


def manifest(app_dir: Path, data: dict[str, object]) -> None:
    (app_dir / "paas.yaml").write_text(yaml.safe_dump(data))


def releases(paas: Paas, app: str) -> list[dict[str, object]]:
    result = paas("releases", "--app", app, "--json", check=True)
    return json.loads(result.stdout)["releases"]  # type: ignore[no-any-return]


def test_push_release_config_rollback(paas: Paas, images: Images, app_dir: Path, app: str) -> None:
    first = push(paas, app_dir, app, images.v1)
    assert first.returncode == 0, first.stderr
    assert "Deployed v1: Deploy dockerfile@" in first.stderr
    assert f"http://{app}.localhost" in first.stderr
    body = wait_for_body(app, "release=v1")
    assert "greeting=Hello" in body

    again = push(paas, app_dir, app, images.v1)
    assert again.returncode == 0, again.stderr
    assert "Nothing changed: v1 is current." in again.stderr

    second = push(paas, app_dir, app, images.v2)
    assert second.returncode == 0, second.stderr
    body = wait_for_body(app, "release=v2")
    assert "greeting=Howdy" in body

    config = paas("config", "set", "GREETING=hi there", "--app", app)
    assert config.returncode == 0, config.stderr
    assert "Released v3: Set GREETING." in config.stderr
    assert "greeting=hi there" in wait_for_body(app, "release=v3")
    assert paas("config", "get", "GREETING", "--app", app).stdout == "hi there\n"

    history = releases(paas, app)
    assert [(r["version"], r["change"], r["status"]) for r in history] == [
        ("v3", "config", "succeeded"),
        ("v2", "deploy", "succeeded"),
        ("v1", "deploy", "succeeded"),
    ]
    assert history[0]["config_keys"] == ["GREETING"]
    assert "hi there" not in paas("releases", "--app", app).stdout  # values never shown

    back = paas("rollback", "v1", "--app", app)
    assert back.returncode == 0, back.stderr
    body = wait_for_body(app, "release=v4")
    assert "greeting=Hello" in body  # v1's image AND v1's (empty) config
    info = json.loads(paas("releases", "info", "v4", "--app", app, "--json").stdout)["release"]
    assert info["description"] == "Rollback to v1"
    assert info["config_keys"] == []


def test_scale_and_ps(paas: Paas, images: Images, app_dir: Path, app: str) -> None:
    worker = "python3 -u -c \"import time\nwhile True: print('tick'); time.sleep(2)\""
    manifest(app_dir, {"processes": {"web": {}, "worker": {"command": worker}}})
    assert push(paas, app_dir, app, images.v1).returncode == 0
    scaled = paas("ps", "scale", "web=3", "worker=0", "--app", app)
    assert scaled.returncode == 0, scaled.stderr
    status = json.loads(paas("ps", "--app", app, "--json").stdout)
    assert status["release"] == "v2"  # the scale's release (its pods still run v1's)
    rows = {r["process"]: r for r in status["processes"]}
    assert (rows["web"]["desired"], rows["web"]["ready"]) == (3, 3)
    assert [p["state"] for p in rows["web"]["pods"]].count("up") == 3
    assert rows["worker"]["desired"] == 0
    text = paas("ps", "--app", app).stdout
    assert "=== web: 3/3 ready" in text
    # Scaling restarts nothing: the pods still run release v1.
    assert {p["release"] for p in rows["web"]["pods"]} == {"v1"}


def test_crashing_release_fails_fast_and_keeps_serving(
    paas: Paas, images: Images, app_dir: Path, app: str
) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    wait_for_body(app, "release=v1")
    command = "python3 -c \"print('boom: no DATABASE_URL'); raise SystemExit(3)\""
    manifest(app_dir, {"processes": {"web": {"command": command}}})
    started = time.monotonic()
    crash = push(paas, app_dir, app, images.v2)
    elapsed = time.monotonic() - started
    assert crash.returncode == 9, crash.stderr
    assert "CrashLoopBackOff" in crash.stderr
    assert "boom: no DATABASE_URL" in crash.stderr  # the last log lines
    assert "Rolled back to v1" in crash.stderr
    assert elapsed < 120, f"took {elapsed:.0f}s: not fail-fast"
    assert "release=v1" in get(app).text
    history = releases(paas, app)
    assert [(r["version"], r["status"]) for r in history] == [("v2", "failed"), ("v1", "succeeded")]


def test_failing_release_phase_stops_the_rollout(
    paas: Paas, images: Images, app_dir: Path, app: str
) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    (app_dir / "paas.yaml").write_text(
        "release: python3 -c \"print('migrating...'); raise SystemExit(1)\"\n"
    )
    failed = push(paas, app_dir, app, images.v2)
    assert failed.returncode == 8, failed.stderr
    assert "release | migrating..." in failed.stderr
    assert "the release phase" in failed.stderr
    assert "greeting=Hello" in get(app).text  # v2's image never rolled out
    assert releases(paas, app)[0]["status"] == "failed"


def test_run_one_off(paas: Paas, images: Images, app_dir: Path, app: str) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    assert paas("config", "set", "GREETING=from-config", "--app", app).returncode == 0
    ran = paas(
        "run", "--app", app, "--", "python3", "-c", "import os; print(os.environ['GREETING'])"
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().splitlines()[-1] == "from-config"
    assert paas("run", "--app", app, "--", "false").returncode == 1
    assert paas("run", "--app", app, "--", "sh", "-c", "exit 7").returncode == 7


def test_zero_downtime_and_logs_follow(paas: Paas, images: Images, app_dir: Path, app: str) -> None:
    (app_dir / "paas.yaml").write_text("processes:\n  web: {replicas: 2, healthcheck: /healthz}\n")
    assert push(paas, app_dir, app, images.v1).returncode == 0
    wait_for_body(app, "release=v1")
    counts = {"ok": 0, "failed": 0}
    errors: list[str] = []
    stop = threading.Event()

    def load() -> None:  # 20 requests a second, through the Ingress
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    response = client.get("http://127.0.0.1/", headers={"Host": f"{app}.localhost"})
                    ok = response.status_code == 200
                except httpx.HTTPError as exc:
                    ok = False
                    errors.append(repr(exc))
                counts["ok" if ok else "failed"] += 1
                if not ok and len(errors) < 5:
                    errors.append(f"status {getattr(response, 'status_code', '?')}")
                time.sleep(max(0.0, 0.05 - (time.monotonic() - started)))

    follower = paas.popen("logs", "-f", "--app", app)
    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    try:
        assert push(paas, app_dir, app, images.v2).returncode == 0
        assert paas("config", "set", "GREETING=zero", "--app", app).returncode == 0
        wait_for_body(app, "greeting=zero")
        time.sleep(2)
    finally:
        stop.set()
        loader.join()
        follower.terminate()
        output, _ = follower.communicate(timeout=10)
    print(f"zero-downtime: {counts['ok']} ok, {counts['failed']} failed")
    assert counts["ok"] > 100
    assert counts["failed"] == 0, errors[:5]
    sources = {
        line.split("app[", 1)[1].split("]", 1)[0]
        for line in output.splitlines()
        if "app[web." in line
    }
    assert len(sources) >= 4, sources  # 2 pods of v1, then pods of v2 and v3


def test_two_pushes_at_once_both_land(paas: Paas, images: Images, app_dir: Path, app: str) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    a = paas.popen("push", str(app_dir), "--app", app, "--image", images.v2)
    time.sleep(0.5)
    b = paas.popen("config", "set", "GREETING=second", "--app", app)
    out_a, _ = a.communicate(timeout=600)
    out_b, _ = b.communicate(timeout=600)
    assert a.returncode == 0, out_a
    assert b.returncode == 0, out_b
    assert "Waiting for" in out_a + out_b
    history = releases(paas, app)
    assert [r["status"] for r in history] == ["succeeded"] * 3
    assert {r["change"] for r in history[:2]} == {"deploy", "config"}


def test_two_config_changes_by_one_person_take_turns_and_keep_both(
    paas: Paas, images: Images, app_dir: Path, app: str
) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    # The same author and the same kind of change: each must still wait for
    # the other, and the second must start from the release the first made.
    a = paas.popen("config", "set", "FIRST=1", "--app", app)
    b = paas.popen("config", "set", "SECOND=2", "--app", app)
    out_a, _ = a.communicate(timeout=600)
    out_b, _ = b.communicate(timeout=600)
    assert a.returncode == 0, out_a
    assert b.returncode == 0, out_b
    assert "Waiting for e2e@paas.test (config " in out_a + out_b
    config = json.loads(paas("config", "--json", "--reveal", "--app", app, check=True).stdout)[
        "config"
    ]
    assert config["FIRST"] == "1"
    assert config["SECOND"] == "2"
    history = releases(paas, app)
    assert [r["status"] for r in history] == ["succeeded"] * 3


def test_domains_and_apps(paas: Paas, images: Images, app_dir: Path, app: str) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    added = paas("domains", "add", f"www.{app}.example.com", "--app", app)
    assert added.returncode == 0, added.stderr
    response = httpx.get("http://127.0.0.1/", headers={"Host": f"www.{app}.example.com"}, timeout=5)
    deadline = time.monotonic() + 30
    while response.status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
        response = httpx.get(
            "http://127.0.0.1/", headers={"Host": f"www.{app}.example.com"}, timeout=5
        )
    assert "release=v1" in response.text  # no restart: the pods still run v1
    listed = json.loads(paas("domains", "--app", app, "--json").stdout)
    assert (listed["default"], listed["custom"]) == (
        f"{app}.localhost",
        [f"www.{app}.example.com"],
    )
    assert paas("domains", "remove", f"www.{app}.example.com", "--app", app).returncode == 0
    names = [a["name"] for a in json.loads(paas("apps", "--json").stdout)["apps"]]
    assert app in names
    info = json.loads(paas("apps", "info", "--app", app, "--json").stdout)
    assert info["release"] == "v3"
    refused = paas("apps", "destroy", app)
    assert refused.returncode == 2


def test_ctrl_c_during_push_keeps_the_last_release(
    paas: Paas, images: Images, app_dir: Path, app: str
) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    wait_for_body(app, "release=v1")
    manifest(app_dir, {"processes": {"web": {"command": "sleep 60; exec python3 server.py"}}})
    proc = paas.popen("push", str(app_dir), "--app", app, "--image", images.v2)
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if "Release v2" in line:
            break
    time.sleep(4)
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=180)
    output = "".join(seen) + rest
    assert proc.returncode == 130, output
    assert "Rolling back to v1..." in output
    assert "greeting=Hello" in wait_for_body(app, "release=v1")
    history = releases(paas, app)
    assert [(r["version"], r["status"], r["failure"]) for r in history] == [
        ("v2", "failed", "interrupted"),
        ("v1", "succeeded", ""),
    ]
    # The lock was released: the next change goes ahead without waiting.
    unlocked = paas("config", "set", "AFTER=1", "--app", app, "--wait-lock", "0")
    assert unlocked.returncode == 0, unlocked.stderr


def test_doctor_checks_what_a_push_needs(paas: Paas, builder: str) -> None:
    del builder  # the paas builder is in the registry
    result = paas("doctor", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert list(checks) == [
        "kubeconfig",
        "cluster",
        "permissions",
        "settings",
        "registry",
        "cluster builds",
        "build tools",
    ]
    assert all(c["ok"] for c in checks.values()), checks
    assert "/paas/builder:latest` in the registry" in checks["cluster builds"]["detail"]

    table = paas("doctor")
    assert table.returncode == 0
    assert re.search(r"cluster builds\s+ok\s+builder `", table.stdout)

    broken = paas("doctor", "--context", "no-such-context")
    assert broken.returncode != 0
    assert re.search(r"kubeconfig\s+FAIL", broken.stdout)
    assert "error: 1 check failed: kubeconfig" in broken.stderr
