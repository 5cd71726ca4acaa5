"""`paas receiver token ...`, `paas git remote`, the export of a pushed commit, the default pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO
from git_helpers import git, git_env

from paas.errors import BuildError
from paas.receiver.config import DEFAULT_PIPELINE
from paas.receiver.pipeline import cluster_pipeline, load_pipeline
from paas.receiver.source import export_commit


def paas(*args: str, cwd: Path | None = None, stdin: str = "", home: Path | None = None):  # type: ignore[no-untyped-def]
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"}
    if home is not None:
        env.update(git_env(home))
    return subprocess.run(
        [sys.executable, "-m", "paas", *args], cwd=cwd, env=env, input=stdin,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_token_create_prints_the_token_once_and_keeps_only_its_hash(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.json"
    created = paas("receiver", "token", "create", "--app", "hello", "--ttl", "2h",
                   "--note", "laptop", "--tokens", str(tokens))  # fmt: skip
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("paas_")
    assert len(token) == 48
    assert "It is shown only now:" in created.stderr
    assert token not in tokens.read_text()
    assert oct(tokens.stat().st_mode & 0o777) == "0o600"

    listed = paas("receiver", "token", "list", "--json", "--tokens", str(tokens))
    [row] = json.loads(listed.stdout)
    assert (row["apps"], row["state"], row["note"]) == (["hello"], "active", "laptop")
    assert token not in listed.stdout

    revoked = paas("receiver", "token", "revoke", row["id"], "--tokens", str(tokens))
    assert revoked.returncode == 0, revoked.stderr
    assert f"Revoked token `{row['id']}` (hello)." in revoked.stderr
    again = json.loads(paas("receiver", "token", "list", "--json", "--tokens", str(tokens)).stdout)
    assert again[0]["state"] == "revoked"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--app", "Bad"], "error: `Bad` is not an app name"),
        (["--app", "ok", "--ttl", "1y"], "error: `1y` is not a duration: write it like `30d`"),
        (["--app", "ok", "--ttl", "400d"], "error: `400d` is longer than 366 days."),
    ],
)
def test_token_create_refuses_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    tokens = tmp_path / "tokens.json"
    result = paas("receiver", "token", "create", *args, "--tokens", str(tokens))
    assert result.returncode == 2
    assert message in result.stderr
    assert not tokens.exists()


def test_revoking_an_unknown_token_says_so(tmp_path: Path) -> None:
    result = paas(
        "receiver", "token", "revoke", "ffffffffffff", "--tokens", str(tmp_path / "t.json")
    )
    assert result.returncode == 11
    assert "error: No token has the id `ffffffffffff`." in result.stderr


def test_git_remote_adds_the_remote_without_the_token_in_its_url(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    repo = tmp_path / "app"
    repo.mkdir()
    git(repo, home, "init", "-q", "-b", "main")
    token = "paas_" + "t" * 43

    no_helper = paas("git", "remote", "--app", "hello", "--url", "https://git.example.com",
                     "--token-stdin", cwd=repo, stdin=token + "\n", home=home)  # fmt: skip
    assert no_helper.returncode == 0, no_helper.stderr
    assert "Added remote `paas` at https://git.example.com/hello.git" in no_helper.stderr
    assert "git has no credential helper, so the token was not stored" in no_helper.stderr

    store = tmp_path / "credentials"
    git(repo, home, "config", "credential.helper", f"store --file={store}")
    again = paas("git", "remote", "--app", "hello", "--url", "https://git.example.com",
                 "--token-stdin", cwd=repo, stdin=token + "\n", home=home)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "Pointed remote `paas` at https://git.example.com/hello.git" in again.stderr
    assert store.read_text().strip() == f"https://paas:{token}@git.example.com"
    shown = git(repo, home, "remote", "-v").stdout
    assert "https://git.example.com/hello.git" in shown
    assert token not in shown


def test_git_remote_refuses_a_url_with_a_token(tmp_path: Path) -> None:
    result = paas("git", "remote", "--app", "hello", "--url", "https://u:paas_x@git.example.com",
                  cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2
    assert "The receiver URL may not hold a user, a token" in result.stderr


def _repo_with(tmp_path: Path, files: dict[str, str], links: dict[str, str]) -> Path:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, home, "init", "-q", "-b", "main")
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    for name, target in links.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).symlink_to(target)
    git(repo, home, "add", "-A")
    assert git(repo, home, "commit", "-q", "-m", "x").returncode == 0
    return repo


def test_the_export_keeps_files_and_links_inside_and_drops_links_out(tmp_path: Path) -> None:
    repo = _repo_with(
        tmp_path,
        {"a.txt": "a", "sub/b.txt": "b"},
        {
            "ok": "sub/b.txt",
            "abs": "/etc/passwd",
            "sub/up": "..",
            "sub/out": "up/..",
            "far": "../x",
        },
    )
    out = tmp_path / "out"
    out.mkdir()
    warnings = export_commit("HEAD", out, max_bytes=1000, max_files=100, repository=repo)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [
        "a.txt", "ok", "sub", "sub/b.txt", "sub/up",
    ]  # fmt: skip
    assert (out / "ok").read_text() == "b"
    assert sorted(warnings) == [
        "left out the link `abs`: it points outside the app",
        "left out the link `far`: it points outside the app",
        "left out the link `sub/out`: it points outside the app",
    ]


def test_the_export_is_capped(tmp_path: Path) -> None:
    repo = _repo_with(tmp_path, {f"f{i}.txt": "x" * 600 for i in range(3)}, {})
    (tmp_path / "a").mkdir()
    with pytest.raises(BuildError, match="larger than"):
        export_commit("HEAD", tmp_path / "a", max_bytes=1000, max_files=100, repository=repo)
    (tmp_path / "b").mkdir()
    with pytest.raises(BuildError, match="more than 2 files"):
        export_commit("HEAD", tmp_path / "b", max_bytes=10**6, max_files=2, repository=repo)


def test_the_default_pipeline_is_paas_pushs_in_the_cluster() -> None:
    assert load_pipeline(DEFAULT_PIPELINE) is cluster_pipeline
