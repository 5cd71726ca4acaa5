"""The receiver in the cluster: `paas receiver install`, then `git push` over the Ingress.

`paas receiver install` builds the receiver's image in the testbed (a Dockerfile
build in a pod, from the registry's Debian image) and runs it in paas-system;
tokens are Secrets there. Stock `git` pushes the Python starter through
Traefik to `git.localhost`; the app is built in a pod, released and served.
The receiver's pod is deleted and comes back with the repository, and the next
push deploys. Uninstall keeps the repositories' volume unless `--purge`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_helpers import DOMAIN, REPO, Paas, wait_for_body
from git_helpers import git, git_env, push

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

HOST = f"git.{DOMAIN}"
URL = f"http://{HOST}"
#: Traefik listens on the host's port 80; git's curl is told where `git.localhost` is.
RESOLVE = ("-c", f"http.curloptResolve={HOST}:80:127.0.0.1")


@pytest.fixture
def installed(paas: Paas, builder: str) -> Iterator[None]:
    """The receiver installed in the test cluster; purged afterwards."""
    result = paas("receiver", "install", "--timeout", "300", timeout=1500)
    try:
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"The receiver serves {URL}" in result.stdout + result.stderr
        yield
    finally:
        paas("receiver", "uninstall", "--purge", timeout=120)


def kubectl(paas: Paas, *args: str) -> str:
    result = subprocess.run(
        ["kubectl", *args], env=paas.env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_git_push_over_the_ingress_to_the_receiver_in_the_cluster(
    paas: Paas, app: str, installed: None, tmp_path: Path
) -> None:
    status = json.loads(paas("receiver", "status", "--json", check=True).stdout)
    assert status["ready"] is True
    assert status["url"] == URL
    assert status["volume"] == "Bound"
    assert "@sha256:" in status["image"]
    pod = json.loads(
        kubectl(paas, "-n", "paas-system", "get", "pod", "-l",
                "app.kubernetes.io/name=paas-receiver", "-o", "json")
    )["items"][0]  # fmt: skip
    assert pod["spec"]["serviceAccountName"] == "paas-receiver"
    assert pod["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True

    # A token kept in the cluster, handed to git's credential store by `paas git remote`.
    home, repo = tmp_path / "home", tmp_path / "app"
    home.mkdir()
    shutil.copytree(REPO / "templates" / "python-flask", repo)
    for args in (
        ("init", "-q", "-b", "main"),
        ("config", "--global", "credential.helper", "store"),
        ("config", "http.curloptResolve", RESOLVE[1].partition("=")[2]),
        ("add", "-A"),
        ("commit", "-q", "-m", "first"),
    ):
        assert git(repo, home, *args).returncode == 0
    token = paas("receiver", "token", "create", "--app", app, "--ttl", "1h", check=True)
    secret = token.stdout.strip().splitlines()[-1]
    assert secret.startswith("paas_")
    remote = subprocess.run(
        [sys.executable, "-m", "paas", "git", "remote", "--app", app, "--url", URL, "--token-stdin"],
        input=secret + "\n", cwd=repo, env={**paas.env, **git_env(home)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert remote.returncode == 0, remote.stderr
    assert secret not in git(repo, home, "remote", "-v").stdout

    # No token, or a wrong one: 401 through the Ingress, nothing stored.
    stranger = tmp_path / "stranger"  # another user: a 401 must not touch our stored token
    stranger.mkdir()
    wrong = git(
        stranger, stranger, *RESOLVE, "ls-remote", f"http://paas:paas_wrong@{HOST}/{app}.git"
    )
    assert wrong.returncode != 0
    assert "401" in wrong.stderr or "Authentication failed" in wrong.stderr

    pushed = push(repo, home, "paas", "main", timeout=900)
    assert pushed.code == 0, pushed.text
    built = next(at for at, line in pushed.lines if line.startswith("remote: Building `"))
    assert pushed.ended - built > 5, pushed.text  # the build's lines came while it ran
    assert "remote: Deployed v1: Deploy " in pushed.text
    assert "Hello from python-flask" in wait_for_body(app, "Hello from python-flask")

    # The receiver's pod is deleted: a new one comes back with the repository.
    kubectl(paas, "-n", "paas-system", "delete", "pod", "-l",
            "app.kubernetes.io/name=paas-receiver", "--wait=true")  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        found = paas("receiver", "status", "--json")
        if found.returncode == 0 and json.loads(found.stdout)["ready"]:
            break
        time.sleep(2)
    else:
        pytest.fail(f"the receiver did not come back: {found.stdout}", pytrace=False)
    first = git(repo, home, "rev-parse", "HEAD").stdout.strip()
    deadline = time.monotonic() + 30  # the router follows the new pod's endpoint
    refs = git(repo, home, *RESOLVE, "ls-remote", "paas", "main")
    while refs.returncode != 0 and "404 page not found" in refs.stderr:
        assert time.monotonic() < deadline, refs.stderr
        time.sleep(1)
        refs = git(repo, home, *RESOLVE, "ls-remote", "paas", "main")
    assert refs.returncode == 0, refs.stderr
    assert refs.stdout.split()[0] == first

    app_py = repo / "app.py"
    app_py.write_text(app_py.read_text().replace("from python-flask</h1>", "from v2</h1>"))
    assert git(repo, home, "commit", "-q", "-am", "second").returncode == 0
    again = push(repo, home, "paas", "main", timeout=900)
    assert again.code == 0, again.text
    assert "remote: Deployed v2: Deploy " in again.text
    assert "Hello from v2" in wait_for_body(app, "Hello from v2")
    history = json.loads(paas("releases", "--app", app, "--json", check=True).stdout)["releases"]
    assert [(r["version"], r["status"]) for r in history] == [
        ("v2", "succeeded"),
        ("v1", "succeeded"),
    ]

    # A review app: a branch push deploys APP-feature with the parent's GREETING and
    # app.json's review env; deleting the branch destroys it and its namespace.
    review = f"{app}-feature"
    try:
        check_review_app(paas, app, review, repo, home)
    finally:
        paas("apps", "destroy", review, "--confirm", review, timeout=120)

    # Uninstall keeps the repositories and tokens; the apps keep serving.
    gone = paas("receiver", "uninstall", check=True)
    assert "kept PersistentVolumeClaim paas-receiver-repos" in gone.stdout + gone.stderr
    kubectl(paas, "-n", "paas-system", "get", "pvc", "paas-receiver-repos")
    assert paas("receiver", "status").returncode == 1
    listed = json.loads(paas("receiver", "token", "list", "--json", check=True).stdout)
    assert [t["apps"] for t in listed if t["state"] == "active"] == [[app]]
    assert "Howdy from v2" in wait_for_body(app, "Howdy from v2")


def check_review_app(paas: Paas, app: str, review: str, repo: Path, home: Path) -> None:
    refused = push(repo, home, "paas", "main:feature", timeout=300)
    assert refused.code != 0
    assert f"review apps are off for `{app}`" in refused.text
    paas("receiver", "review-apps", "enable", "--app", app, check=True)
    paas("config", "set", "GREETING=Howdy", "--app", app, check=True)

    assert git(repo, home, "checkout", "-q", "-b", "feature").returncode == 0
    (repo / "app.json").write_text(
        json.dumps({"environments": {"review": {"env": {
            "GREETING": {"required": True}, "STAGE": "review"}}}})
    )  # fmt: skip
    app_py = repo / "app.py"
    app_py.write_text(
        app_py.read_text()
        .replace('<p id="release">', '<p id="stage">stage={stage}</p><p id="release">')
        .replace(
            "PAGE.format(release=release,",
            'PAGE.format(stage=escape(os.environ.get("STAGE", "")), release=release,',
        )
    )
    assert git(repo, home, "add", "-A").returncode == 0
    assert git(repo, home, "commit", "-q", "-m", "review me").returncode == 0
    pushed = push(repo, home, "paas", "feature", timeout=900)
    assert pushed.code == 0, pushed.text
    assert f"remote: Review app `{review}` of `{app}`." in pushed.text
    assert "remote: Config from app.json's review environment: GREETING, STAGE." in pushed.text
    page = wait_for_body(review, "stage=review")
    assert "Howdy from v2" in page
    listed = json.loads(paas("apps", "--json", check=True).stdout)["apps"]
    assert any(r["name"] == review and r["review_of"] == app for r in listed), listed
    table = paas("apps", check=True).stdout
    assert f"  {review} (review)" in table
    status = json.loads(
        paas("receiver", "review-apps", "status", "--app", app, "--json", check=True).stdout
    )
    assert status == {"app": app, "enabled": True, "review_apps": [review]}
    assert "Howdy from v2" in wait_for_body(app, "Howdy from v2")  # the parent is untouched

    deleted = push(repo, home, "paas", ":feature", timeout=300)
    assert deleted.code == 0, deleted.text
    assert f"remote: Destroyed review app `{review}`." in deleted.text
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = subprocess.run(
            ["kubectl", "get", "namespace", review, "-o", "name"], env=paas.env,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if found.returncode != 0 and "NotFound" in found.stderr:
            break
        time.sleep(2)
    else:
        pytest.fail(f"the review app's namespace is still there: {found.stdout}", pytrace=False)
