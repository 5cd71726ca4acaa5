"""Faults while a push rolls out, on the testbed: the push rides them out or says plainly what
happened, the release history stays right and the last good release keeps serving.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest
from deploy_helpers import REPO, Images, Paas, get, wait_for_body
from test_deploy import manifest, push, releases

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

SLOW_START = "sh -c 'sleep 8; exec python3 server.py'"


def lines_of(process: subprocess.Popen[str]) -> list[str]:
    """The process's output lines as they come, read by a thread."""
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        started = time.monotonic()
        lines.extend(
            f"[{time.monotonic() - started:5.1f}] {line}"
            for line in iter(process.stdout.readline, "")
        )

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_a_push_rides_out_an_api_server_restart_mid_rollout(
    paas: Paas, images: Images, app_dir: Path, app: str
) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    wait_for_body(app, "release=v1")
    manifest(
        app_dir,
        {"processes": {"web": {"command": SLOW_START, "healthcheck": {"path": "/healthz"}}}},
    )
    pushing = paas.popen("push", str(app_dir), "--app", app, "--image", images.v2)
    said = lines_of(pushing)
    deadline = time.monotonic() + 120
    while not any("web: 0/1 ready" in line for line in said):
        assert pushing.poll() is None, "".join(said)
        assert time.monotonic() < deadline, "".join(said)
        time.sleep(0.2)

    # The API server goes away for a few seconds while the new pod starts.
    restart = subprocess.Popen(
        [str(REPO / "hack" / "testbed"), "restart", "kube-apiserver", "--kill", "--down-for", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(2)
    during = get(app)  # the router keeps what it had: v1 serves on
    assert (during.status_code, "release=v1" in during.text) == (200, True), during.text[:200]
    out, _ = restart.communicate(timeout=120)
    assert restart.returncode == 0, out

    restarted = time.monotonic()
    assert pushing.wait(timeout=300) == 0, "".join(said)
    text = "".join(said)
    print(f"the push ended {time.monotonic() - restarted:.1f} s after the API server was back")
    assert "The cluster's API server is not answering (cannot reach the cluster" in text, text
    assert "The API server answers again after" in text, text
    assert "Deployed v2:" in text, text
    assert "greeting=Howdy" in wait_for_body(app, "release=v2")
    assert [r["status"] for r in releases(paas, app)] == ["succeeded", "succeeded"]


def wait_for_line(said: list[str], process: subprocess.Popen[str], needle: str) -> None:
    deadline = time.monotonic() + 120
    while not any(needle in line for line in said):
        assert process.poll() is None, "".join(said)
        assert time.monotonic() < deadline, "".join(said)
        time.sleep(0.2)


def test_a_push_rides_out_a_kubelet_restart_mid_rollout(
    paas: Paas, images: Images, app_dir: Path, app: str
) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    wait_for_body(app, "release=v1")
    manifest(
        app_dir,
        {"processes": {"web": {"command": SLOW_START, "healthcheck": {"path": "/healthz"}}}},
    )
    pushing = paas.popen("push", str(app_dir), "--app", app, "--image", images.v2)
    said = lines_of(pushing)
    wait_for_line(said, pushing, "web: 0/1 ready")

    # The kubelet dies (SIGKILL) while the new pod starts; its containers run on.
    restart = subprocess.Popen(
        [str(REPO / "hack" / "testbed"), "restart", "kubelet", "--kill", "--down-for", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(2)
    during = get(app)
    assert (during.status_code, "release=v1" in during.text) == (200, True), during.text[:200]
    out, _ = restart.communicate(timeout=180)
    assert restart.returncode == 0, out

    assert pushing.wait(timeout=300) == 0, "".join(said)
    text = "".join(said)
    assert "Deployed v2:" in text, text
    assert "greeting=Howdy" in wait_for_body(app, "release=v2")
    assert [r["status"] for r in releases(paas, app)] == ["succeeded", "succeeded"]


def test_a_build_with_the_registry_down_fails_naming_it_and_v1_serves_on(
    paas: Paas, images: Images, app_dir: Path, app: str, python_base: str
) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    wait_for_body(app, "release=v1")
    manifest(app_dir, {"build": {"env": {"BASE_IMAGE": python_base}}})
    (app_dir / "server.py").write_text(
        (app_dir / "server.py").read_text().replace('"Hello"', '"Registry down"')
    )
    # The registry goes away for 40 s, from just before the build starts.
    down = subprocess.Popen(
        [str(REPO / "hack" / "testbed"), "restart", "registry", "--kill", "--down-for", "40"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(1)
        failed = paas("push", str(app_dir), "--app", app, "--strategy", "dockerfile", timeout=300)
        during = get(app)
    finally:
        out, _ = down.communicate(timeout=180)
    assert down.returncode == 0, out

    assert failed.returncode not in (0, 1), failed.stdout + failed.stderr  # a class, not a crash
    said = failed.stdout + failed.stderr
    errors = [line for line in said.splitlines() if line.startswith("error:")]
    assert errors, said
    assert "to `registry.paas.test:5000` failed" in errors[-1], said
    assert "Traceback" not in said, said
    assert (during.status_code, "release=v1" in during.text) == (200, True), during.text[:200]
    assert [(r["version"], r["status"]) for r in releases(paas, app)] == [("v1", "succeeded")]

    # Nothing was lost: with the registry back, the same push deploys.
    again = paas("push", str(app_dir), "--app", app, "--strategy", "dockerfile", timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "greeting=Registry down" in wait_for_body(app, "release=v2")


def test_a_process_over_its_memory_is_named_oomkilled_and_rolled_back(
    paas: Paas, images: Images, app_dir: Path, app: str
) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    wait_for_body(app, "release=v1")
    # 400 MiB written, in a `nano` pod (128Mi): the kernel kills it, again and again.
    hog = "python3 -c \"x = b'x' * (400 * 2**20); import time; time.sleep(600)\""
    manifest(app_dir, {"processes": {"web": {"command": hog, "size": "nano"}}})

    failed = push(paas, app_dir, app, images.v2, "--timeout", "120")

    said = failed.stdout + failed.stderr
    assert failed.returncode == 9, said  # the rollout class (docs/exit-codes.md)
    assert "OOMKilled" in said, said
    assert "memory" in said.lower(), said
    assert "release=v1" in get(app).text
    history = {r["version"]: r["status"] for r in releases(paas, app)}
    assert history == {"v1": "succeeded", "v2": "failed"}, history


def test_a_push_killed_mid_rollout_is_marked_failed_by_the_next_change(
    paas: Paas, images: Images, app_dir: Path, app: str
) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    wait_for_body(app, "release=v1")
    manifest(
        app_dir,
        {"processes": {"web": {"command": SLOW_START, "healthcheck": {"path": "/healthz"}}}},
    )
    pushing = paas.popen("push", str(app_dir), "--app", app, "--image", images.v2)
    said = lines_of(pushing)
    wait_for_line(said, pushing, "web: 0/1 ready")
    pushing.kill()  # SIGKILL: no handler runs, the lock and a pending v2 are left behind
    pushing.wait(timeout=30)
    assert "release=v1" in get(app).text

    started = time.monotonic()
    after = paas("config", "set", "GREETING=After", "--app", app, "--wait-lock", "120")
    waited = time.monotonic() - started

    text = after.stdout + after.stderr
    assert after.returncode == 0, text
    assert waited < 90, text
    assert "Marked v2 failed: abandoned:" in text, text
    assert "Released v3: Set GREETING" in text, text
    history = {r["version"]: r["status"] for r in releases(paas, app)}
    assert history == {"v1": "succeeded", "v2": "failed", "v3": "succeeded"}, history
    assert "greeting=After" in wait_for_body(app, "release=v3")
