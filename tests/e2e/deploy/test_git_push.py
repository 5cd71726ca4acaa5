"""`git push` to the receiver deploys through paas's own pipeline, building in the real cluster.

The receiver runs here (`paas receiver serve`, its default pipeline) against the
testbed; the client is stock `git`. A good commit is built in a pod, released and
served through the Ingress, with the build's lines reaching the client while the
push runs; a commit that crashes at start fails the push, leaves the branch
where it was, and the app keeps serving the release before it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_helpers import REPO, Paas, wait_for_body
from git_helpers import git, push

from paas.receiver.store import FileTokenStore, create_token

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]


@pytest.fixture
def receiver_url(paas: Paas, tmp_path: Path) -> Iterator[str]:
    """`paas receiver serve --port 0` with the default pipeline, on the test cluster."""
    process = subprocess.Popen(
        [sys.executable, "-m", "paas", "receiver", "serve", "--port", "0",
         "--root", str(tmp_path / "repos"), "--tokens", str(tmp_path / "tokens.json")],
        env=paas.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            if line.startswith("Listening on "):
                found.append(line.split()[-1])
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(30), "the receiver did not start"
        yield found[0]
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_git_push_builds_in_the_cluster_deploys_and_a_crash_leaves_the_branch(
    paas: Paas, app: str, receiver_url: str, tmp_path: Path
) -> None:
    token = create_token(FileTokenStore(tmp_path / "tokens.json"), [app], "1h")[0]
    remote = f"http://paas:{token}@{receiver_url.removeprefix('http://')}/{app}.git"
    home, repo = tmp_path / "home", tmp_path / "app"
    home.mkdir()
    shutil.copytree(REPO / "templates" / "python-flask", repo)
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "first")):
        assert git(repo, home, *args).returncode == 0
    first = git(repo, home, "rev-parse", "HEAD").stdout.strip()

    pushed = push(repo, home, remote, "main", timeout=600)
    assert pushed.code == 0, pushed.text
    built = next(at for at, line in pushed.lines if line.startswith("remote: Building `"))
    assert pushed.ended - built > 5, pushed.text  # the build's lines came while it ran
    assert "remote: Deployed v1: Deploy " in pushed.text
    assert "Hello from python-flask" in wait_for_body(app, "Hello from python-flask")

    app_py = repo / "app.py"
    app_py.write_text(app_py.read_text() + '\nraise SystemExit("boom at import")\n')
    assert git(repo, home, "commit", "-q", "-am", "crash").returncode == 0
    crashed = push(repo, home, remote, "main", timeout=600)
    assert crashed.code != 0, crashed.text
    assert "remote: error (rollout): " in crashed.text
    assert "remote: The push failed: `main` was not updated." in crashed.text
    refs = git(repo, home, "ls-remote", remote, "main").stdout.split()
    assert refs[0] == first
    assert "Hello from python-flask" in wait_for_body(app, "Hello from python-flask")
    history = json.loads(paas("releases", "--app", app, "--json", check=True).stdout)["releases"]
    assert [(r["version"], r["status"]) for r in history] == [
        ("v2", "failed"),
        ("v1", "succeeded"),
    ]
    assert history[1]["commit"] == first
