"""The app lock on a real cluster: a deploy whose lease is taken stops; a dead holder is cleaned up.

A second holder writes the app's Lease while a push waits for a slow rollout:
the push notices (its renewer sees another holder), stops with exit code 10,
applies nothing more and marks its release failed, and the app keeps serving
its last good release. A command that died holding the lock (its Lease never
renewed again, its renewTime from a clock far ahead) leaves a `pending`
release: the next change takes the lock once the Lease went unchanged for its
duration as seen by the waiter, marks that release failed, then makes its own.
"""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import time
from pathlib import Path

import pytest
from deploy_helpers import Images, Paas, get, wait_for_body
from test_deploy import manifest, releases
from test_deploy_more import kube, kube_json, pushed

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

THIEF = "thief (e2e fencing)"
GHOST = "ghost (push dead01)"


def take_lease(kubectl: list[str], namespace: str, holder: str, renew: str) -> None:
    patch = {"spec": {"holderIdentity": holder, "renewTime": renew, "leaseDurationSeconds": 30}}
    kube(
        kubectl,
        "-n",
        namespace,
        "patch",
        "lease",
        "paas-lock",
        "--type=merge",
        "-p",
        json.dumps(patch),
    )


def test_a_deploy_whose_lease_is_taken_mid_rollout_stops_and_the_history_stays_whole(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    pushed(paas, app_dir, app, images.v1)
    wait_for_body(app, "release=v1")
    # v2 starts slowly: its pods stay unready for minutes, so the push waits for the rollout.
    manifest(
        app_dir,
        {
            "name": "dockerfile",
            "build": {"dockerfile": "Dockerfile"},
            "processes": {
                "web": {
                    "command": "sh -c 'sleep 600; exec python3 server.py'",
                    "healthcheck": "/healthz",
                }
            },
        },
    )
    push = paas.popen("push", str(app_dir), "--app", app, "--image", images.v2, "--timeout", "300")
    assert push.stdout is not None
    seen = []
    started = time.monotonic()
    for line in push.stdout:
        seen.append(line)
        if "web: 0/1 ready" in line:
            break
        assert time.monotonic() - started < 180, "".join(seen)
    take_lease(kubectl, app, THIEF, "2026-01-01T00:00:00.000000Z")
    taken = time.monotonic()
    rest, _ = push.communicate(timeout=120)
    output = "".join(seen) + rest
    assert push.returncode == 10, output
    assert time.monotonic() - taken < 30  # noticed within a few renewals, not at the timeout
    assert (
        f"error: lost the lock of app `{app}` to {THIEF} while waiting for the rollout: "
        "another operation took it; nothing more was applied, release v2 marked failed"
    ) in output
    assert "Traceback" not in output
    assert "Rolling back" not in output  # the app is the new holder's now
    history = {r["version"]: r for r in releases(paas, app)}
    assert history["v1"]["status"] == "succeeded"
    assert history["v2"]["status"] == "failed"
    assert str(history["v2"]["failure"]).startswith(f"lost the lock of app `{app}` to {THIEF}")
    response = get(app)
    assert response.status_code == 200
    assert "release=v1" in response.text
    lease = kube_json(kubectl, "-n", app, "get", "lease", "paas-lock")
    assert lease["spec"]["holderIdentity"] == THIEF  # the fenced push never wrote it again


def _encode(value: object) -> str:
    return base64.b64encode(gzip.compress(json.dumps(value).encode())).decode()


def test_a_dead_holders_pending_release_is_marked_failed_by_the_next_change(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    pushed(paas, app_dir, app, images.v1)
    # What a push that died mid-deploy leaves: release v2 pending, and its Lease,
    # stamped by a clock an hour ahead (the old expiry check would wait that hour).
    secret = kube_json(kubectl, "-n", app, "get", "secret", "release-v1")
    record = json.loads(gzip.decompress(base64.b64decode(secret["data"]["release.json.gz"])))
    record.update(version=2, status="pending", description="Deploy (died)", author=GHOST)
    labels = {**secret["metadata"]["labels"], "paas.dev/release": "v2"}
    pending = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": secret["type"],
        "metadata": {"name": "release-v2", "namespace": app, "labels": labels},
        "data": {"release.json.gz": _encode(record)},
    }
    subprocess.run(
        [*kubectl, "create", "-f", "-"],
        input=json.dumps(pending),
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )
    ahead = time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() + 3600))
    take_lease(kubectl, app, GHOST, ahead)
    started = time.monotonic()
    result = paas("config", "set", "GREETING=Hi", "--app", app, "--wait-lock", "120")
    waited = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert 30 <= waited < 90
    assert f"Waiting for {GHOST} to finish..." in result.stderr
    reason = f"abandoned: {GHOST} stopped renewing the app's lock before it ended"
    assert f"Marked v2 failed: {reason}." in result.stderr
    assert "Released v3: Set GREETING" in result.stdout + result.stderr
    history = {r["version"]: r for r in releases(paas, app)}
    assert history["v2"]["status"] == "failed"
    assert history["v2"]["failure"] == reason
    assert history["v3"]["status"] == "succeeded"
    wait_for_body(app, "greeting=Hi")
