"""`git push` to a real receiver on loopback: stock git, real `git http-backend`, real HTTP.

No cluster: the receiver runs the test pipeline (receiver_test_pipeline.py), which
prints lines with delays and fails when the pushed commit asks it to.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import Receiver, commit, new_app_repo, remote_refs
from git_helpers import Pushed, git, push

from paas.receiver.auth import new_token
from paas.receiver.refs import PushPolicy
from paas.receiver.repository import ensure_repository


def request(
    receiver: Receiver,
    method: str,
    path: str,
    token: str | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    """One raw HTTP request (the path sent exactly as given)."""
    url = urlsplit(receiver.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = "Basic " + base64.b64encode(f"paas:{token}".encode()).decode()
    try:
        chunked = "Transfer-Encoding" in sent  # http.client frames the chunks only when told
        connection.request(method, path, body=body, headers=sent, encode_chunked=chunked)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_push_to_main_runs_the_pipeline_and_streams_its_lines_as_they_happen(
    receiver: Receiver, tmp_path: Path
) -> None:
    repo = new_app_repo(tmp_path / "app", receiver.home, {"lines": 4, "delay": 0.7})
    (repo / "inside").symlink_to("app.txt")
    (repo / "outside").symlink_to("/etc/passwd")
    git(repo, receiver.home, "add", "-A")
    git(repo, receiver.home, "commit", "-q", "-m", "links")
    head = git(repo, receiver.home, "rev-parse", "HEAD").stdout.strip()
    token = receiver.token("hello")

    pushed = push(repo, receiver.home, receiver.remote("hello", token), "main")

    assert pushed.code == 0, pushed.text
    steps = [(at, line) for at, line in pushed.lines if "test pipeline: step" in line]
    assert next(line for _, line in steps).startswith("remote: test pipeline: step 1 at")
    assert len(steps) == 4
    # The first line reached the client while the pipeline still had 3 x 0.7 s to go,
    # and the lines arrived spread out, not in one piece at the end.
    assert pushed.ended - steps[0][0] > 1.5, pushed.lines
    assert steps[-1][0] - steps[0][0] > 1.5, pushed.lines
    assert f"remote: test pipeline: app hello commit {head} branch main" in pushed.text
    assert "remote: test pipeline: files app.txt inside pipeline.json" in pushed.text
    assert "remote: warning: left out the link `outside`: it points outside the app" in pushed.text
    assert remote_refs(receiver, "hello", token)["refs/heads/main"] == head


def test_a_failing_pipeline_fails_the_push_says_why_and_leaves_the_ref(
    receiver: Receiver, tmp_path: Path
) -> None:
    token = receiver.token("hello")
    repo = new_app_repo(tmp_path / "app", receiver.home)
    assert push(repo, receiver.home, receiver.remote("hello", token), "main").code == 0
    good = git(repo, receiver.home, "rev-parse", "HEAD").stdout.strip()
    commit(repo, receiver.home, {"fail": "`pip install` failed: no module `flask`"}, "broken")

    pushed = push(repo, receiver.home, receiver.remote("hello", token), "main")

    assert pushed.code != 0
    assert "remote: error (build): `pip install` failed: no module `flask`" in pushed.text
    assert "remote: hint: Fix the test app." in pushed.text
    assert "remote: The push failed: `main` was not updated." in pushed.text
    assert "pre-receive hook declined" in pushed.text
    assert remote_refs(receiver, "hello", token)["refs/heads/main"] == good


def _expired(receiver: Receiver) -> str:
    token, record = new_token(
        ["hello"], ttl=60, now=time.time() - 120, secret="x" * 43, token_id="0123456789ab"
    )
    receiver.store.add(record)
    return token


def _revoked(receiver: Receiver) -> str:
    token = receiver.token("hello")
    receiver.store.revoke(receiver.store.tokens()[-1].id, time.time())
    return token


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda r: None, id="no-token"),
        pytest.param(lambda r: "paas_" + "A" * 43, id="wrong-token"),
        pytest.param(lambda r: "not-a-paas-token", id="garbage"),
        pytest.param(_expired, id="expired"),
        pytest.param(_revoked, id="revoked"),
    ],
)
def test_a_push_without_a_valid_token_is_401_and_stores_nothing(
    receiver: Receiver, tmp_path: Path, make_token
) -> None:
    token = make_token(receiver)
    for path in (
        "/hello.git/info/refs?service=git-receive-pack",
        "/hello.git/info/refs?service=git-upload-pack",
    ):
        status, _ = request(receiver, "GET", path, token)
        assert status == 401
    status, _ = request(
        receiver, "POST", "/hello.git/git-receive-pack", token, body=b"0000",
        headers={"Content-Type": "application/x-git-receive-pack-request"},
    )  # fmt: skip
    assert status == 401
    repo = new_app_repo(tmp_path / "app", receiver.home)
    pushed = push(repo, receiver.home, receiver.remote("hello", token), "main")
    assert pushed.code != 0
    assert "Authentication failed" in pushed.text or "could not read Username" in pushed.text
    assert list(receiver.root.iterdir()) == []
    assert receiver.pipeline_events() == []


def test_a_token_for_one_app_cannot_push_to_another(receiver: Receiver, tmp_path: Path) -> None:
    token = receiver.token("app-a")
    repo = new_app_repo(tmp_path / "app", receiver.home)

    status, body = request(receiver, "GET", "/app-b.git/info/refs?service=git-receive-pack", token)
    pushed = push(repo, receiver.home, receiver.remote("app-b", token), "main")

    assert (status, body) == (403, b"This token may not use app `app-b`.\n")
    assert pushed.code != 0
    assert "403" in pushed.text
    assert list(receiver.root.iterdir()) == []
    assert push(repo, receiver.home, receiver.remote("app-a", token), "main").code == 0
    assert [p.name for p in receiver.root.iterdir()] == ["app-a.git"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/../etc.git/info/refs?service=git-receive-pack", 400),
        ("/..git/info/refs?service=git-receive-pack", 400),
        ("/a/b.git/info/refs?service=git-receive-pack", 400),
        ("/a%2f..%2fb.git/info/refs?service=git-receive-pack", 400),
        ("/-upload-pack.git/info/refs?service=git-receive-pack", 400),
        ("/Hello.git/info/refs?service=git-receive-pack", 400),
        ("/hello_world.git/info/refs?service=git-receive-pack", 400),
        ("/hello.world.git/info/refs?service=git-receive-pack", 400),
        ("/h%C3%A9llo.git/info/refs?service=git-receive-pack", 400),
        ("/kube-system.git/info/refs?service=git-receive-pack", 400),
        ("/hello/info/refs?service=git-receive-pack", 400),
        ("/hello.git/../../tokens.json", 404),
        ("/hello.git/HEAD", 404),
        ("/hello.git/config", 404),
        ("/hello.git/objects/info/packs", 404),
        ("/hello.git/hooks/pre-receive", 404),
        ("/hello.git/info/refs", 403),  # the dumb protocol
        ("/hello.git/info/refs?service=git-upload-archive", 403),
        ("/hello.git/info/refs?service=git-receive-pack&service=git-upload-pack", 403),
        ("/", 404),
    ],
)
def test_bad_repository_paths_are_refused_before_touching_disk(
    receiver: Receiver, path: str, status: int
) -> None:
    token = receiver.token("hello", "upload-pack")
    assert request(receiver, "GET", path, token)[0] == status
    assert list(receiver.root.iterdir()) == []


def test_bad_names_are_refused_by_git_push_too(receiver: Receiver, tmp_path: Path) -> None:
    token = receiver.token("hello")
    repo = new_app_repo(tmp_path / "app", receiver.home)
    for name in ("Hello", "-hello", "he..llo", "hello%2f..%2fx"):
        pushed = push(repo, receiver.home, receiver.remote(name, token), "main")
        assert pushed.code != 0
        assert "400" in pushed.text
    assert list(receiver.root.iterdir()) == []


def test_force_push_and_delete_of_main_are_refused_by_default(
    receiver: Receiver, tmp_path: Path
) -> None:
    token = receiver.token("hello")
    repo = new_app_repo(tmp_path / "app", receiver.home)
    url = receiver.remote("hello", token)
    assert push(repo, receiver.home, url, "main").code == 0
    first = git(repo, receiver.home, "rev-parse", "HEAD").stdout.strip()
    git(repo, receiver.home, "commit", "-q", "--amend", "-m", "rewritten")

    forced = push(repo, receiver.home, "--force", url, "main")
    deleted = push(repo, receiver.home, url, ":main")

    assert forced.code != 0
    assert (
        "remote: error: `refs/heads/main` refused: a force push of the deploy branch is "
        "refused: pull, merge or rebase onto it, and push again." in forced.text
    )
    assert deleted.code != 0
    assert (
        "remote: error: `refs/heads/main` refused: deleting the deploy branch is refused "
        "(the app keeps running)." in deleted.text
    )
    assert remote_refs(receiver, "hello", token)["refs/heads/main"] == first
    assert len(receiver.pipeline_events()) == 2  # the first push only


def test_an_app_whose_policy_allows_it_takes_a_force_push_and_a_delete(
    receiver: Receiver, tmp_path: Path
) -> None:
    token = receiver.token("loose")
    repo = new_app_repo(tmp_path / "app", receiver.home)
    url = receiver.remote("loose", token)
    assert push(repo, receiver.home, url, "main").code == 0
    git(repo, receiver.home, "commit", "-q", "--amend", "-m", "rewritten")
    rewritten = git(repo, receiver.home, "rev-parse", "HEAD").stdout.strip()

    forced = push(repo, receiver.home, "--force", url, "main")
    assert forced.code == 0, forced.text
    assert remote_refs(receiver, "loose", token)["refs/heads/main"] == rewritten

    deleted = push(repo, receiver.home, url, ":main")
    assert deleted.code == 0, deleted.text
    assert "remote: Deleted `main`; the app keeps running its current release." in deleted.text
    assert "refs/heads/main" not in remote_refs(receiver, "loose", token)


def test_other_branches_and_tags_are_refused_and_not_stored(
    receiver: Receiver, tmp_path: Path
) -> None:
    token = receiver.token("strict")
    repo = new_app_repo(tmp_path / "app", receiver.home)
    git(repo, receiver.home, "tag", "v1")

    pushed = push(repo, receiver.home, receiver.remote("strict", token), "main:feature", "v1")

    assert pushed.code != 0
    assert (
        "remote: error: `refs/heads/feature` refused: only the deploy branch (`main`, `master`) "
        "is taken; review apps are off." in pushed.text
    )
    assert "remote: error: `refs/tags/v1` refused: only branches are taken" in pushed.text
    assert remote_refs(receiver, "strict", token) == {}
    assert receiver.pipeline_events() == []


def test_another_branch_goes_to_the_pipeline_as_a_review_and_so_does_its_delete(
    receiver: Receiver, tmp_path: Path
) -> None:
    token = receiver.token("hello")
    url = receiver.remote("hello", token)
    repo = new_app_repo(tmp_path / "app", receiver.home)
    head = git(repo, receiver.home, "rev-parse", "HEAD").stdout.strip()

    pushed = push(repo, receiver.home, url, "main:fix/login")
    assert pushed.code == 0, pushed.text
    assert "remote: Deploying a review app of `hello` from `fix/login`" in pushed.text
    assert "remote: test pipeline: review app, delete False" in pushed.text
    assert remote_refs(receiver, "hello", token) == {"refs/heads/fix/login": head}

    deleted = push(repo, receiver.home, url, ":fix/login")
    assert deleted.code == 0, deleted.text
    assert "remote: Deleting `fix/login`: its review app goes too..." in deleted.text
    assert "remote: test pipeline: review app, delete True" in deleted.text
    assert remote_refs(receiver, "hello", token) == {}
    assert [e for e, _, _ in receiver.pipeline_events()] == ["start", "end"] * 2

    failing = commit(repo, receiver.home, {"fail": "no review for you"}, "bad")
    refused = push(repo, receiver.home, url, f"{failing}:refs/heads/other")
    assert refused.code != 0
    assert "remote: error (build): no review for you" in refused.text
    assert remote_refs(receiver, "hello", token) == {}


def test_two_pushes_of_one_app_at_once_take_turns(receiver: Receiver, tmp_path: Path) -> None:
    token = receiver.token("busy")
    url = receiver.remote("busy", token)
    first_repo = new_app_repo(tmp_path / "one", receiver.home, {"lines": 3, "delay": 2.0})
    second_repo = new_app_repo(tmp_path / "two", receiver.home, {"lines": 1})
    results: dict[str, Pushed] = {}
    # git updates `main` only after the first push's hook has exited and freed the lock:
    # a reference-transaction hook that dawdles there widens that moment to 1.5 s, so
    # the second push always gets the lock before `main` has moved.
    repo = ensure_repository(
        receiver.root, "busy", PushPolicy(), max_input_bytes=1 << 20, create=True
    )
    assert repo is not None
    dawdle = repo / "hooks" / "reference-transaction"
    dawdle.write_text('#!/bin/sh\ncat >/dev/null\n[ "$1" = prepared ] && sleep 1.5\nexit 0\n')
    dawdle.chmod(0o755)

    first = threading.Thread(
        target=lambda: results.setdefault("first", push(first_repo, receiver.home, url, "main"))
    )
    first.start()
    deadline = time.monotonic() + 30
    while not receiver.pipeline_events() and time.monotonic() < deadline:
        time.sleep(0.05)
    results["second"] = push(second_repo, receiver.home, url, "main")
    first.join(timeout=60)

    assert results["first"].code == 0, results["first"].text
    events = receiver.pipeline_events()
    # Never two pipelines at once: the second push waited for the first to end, and then
    # found `main` moved since it read it, so it deployed nothing.
    assert [e for e, _, _ in events] == ["start", "end"], (
        results["first"].text,
        results["second"].text,
    )
    assert results["second"].code != 0
    # The second push said it was waiting while the first still ran, not once its turn came.
    waiting = next(
        at for at, line in results["second"].lines if line.startswith("remote: Waiting for another")
    )
    assert waiting < results["first"].ended - 0.5, results["second"].text
    assert "remote: Waited " in results["second"].text
    assert "while this push waited: fetch, merge and push again." in results["second"].text
    head = git(first_repo, receiver.home, "rev-parse", "HEAD").stdout.strip()
    assert remote_refs(receiver, "busy", token)["refs/heads/main"] == head


def test_a_push_after_another_ended_deploys_in_turn(receiver: Receiver, tmp_path: Path) -> None:
    token = receiver.token("busy")
    url = receiver.remote("busy", token)
    repo = new_app_repo(tmp_path / "one", receiver.home, {"lines": 1})
    assert push(repo, receiver.home, url, "main").code == 0
    second = commit(repo, receiver.home, {"lines": 1}, "second")
    assert push(repo, receiver.home, url, "main").code == 0
    assert [c for e, c, _ in receiver.pipeline_events() if e == "start"][-1] == second
    assert remote_refs(receiver, "busy", token)["refs/heads/main"] == second


def test_a_clone_reads_what_was_pushed(receiver: Receiver, tmp_path: Path) -> None:
    token = receiver.token("hello")
    repo = new_app_repo(tmp_path / "app", receiver.home)
    assert push(repo, receiver.home, receiver.remote("hello", token), "main").code == 0

    cloned = git(tmp_path, receiver.home, "clone", "-q", receiver.remote("hello", token), "copy")

    assert cloned.returncode == 0, cloned.stderr
    assert (tmp_path / "copy" / "app.txt").read_text() == "first\n"


def test_a_fetch_of_an_app_with_no_repository_is_404(receiver: Receiver) -> None:
    token = receiver.token("nothing")
    status, _ = request(receiver, "GET", "/nothing.git/info/refs?service=git-upload-pack", token)
    assert status == 404
    assert list(receiver.root.iterdir()) == []


def _upload_pack_request(want: str) -> bytes:
    line = f"want {want}\n"
    return f"{len(line) + 4:04x}{line}0000".encode() + b"0009done\n"


@pytest.mark.parametrize("encoding", ["gzip", "chunked", "plain"])
def test_request_bodies_gzip_chunked_or_plain_reach_http_backend(
    receiver: Receiver, tmp_path: Path, encoding: str
) -> None:
    token = receiver.token("hello")
    repo = new_app_repo(tmp_path / "app", receiver.home)
    assert push(repo, receiver.home, receiver.remote("hello", token), "main").code == 0
    head = git(repo, receiver.home, "rev-parse", "HEAD").stdout.strip()
    body = _upload_pack_request(head)
    headers = {"Content-Type": "application/x-git-upload-pack-request"}
    if encoding == "gzip":
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    sent: bytes | list[bytes] = body
    if encoding == "chunked":
        sent = [body[:7], body[7:]]  # http.client sends an iterable chunked
        headers["Transfer-Encoding"] = "chunked"

    status, answer = request(receiver, "POST", "/hello.git/git-upload-pack", token, sent, headers)  # type: ignore[arg-type]

    assert status == 200
    assert answer.startswith(b"0008NAK\n")
    assert b"PACK" in answer[:64]


def test_an_unknown_content_encoding_is_refused(receiver: Receiver) -> None:
    token = receiver.token("hello")
    status, body = request(
        receiver, "POST", "/hello.git/git-receive-pack", token, b"0000",
        {"Content-Type": "application/x-git-receive-pack-request", "Content-Encoding": "br"},
    )  # fmt: skip
    assert status == 415
    assert body == b"Content-Encoding `br` is not supported: send gzip or nothing.\n"
