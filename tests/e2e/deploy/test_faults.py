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
