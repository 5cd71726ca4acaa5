"""git push beside paas push: a one-line change to the Python starter, until the new page is served.

Usage (the testbed up, `eval "$(hack/testbed env)"` done, the builder created,
`paas cluster init` run, `paas receiver install` done):
    python bench/git_push.py [--runs 3]

Two apps are made from the python-flask starter, one deployed by `git push`
to the receiver in the cluster (through the Ingress, at git.DOMAIN), one by
`paas push --strategy cluster`; both build in the cluster. After a first
deploy of each, every run changes one line of app.py in both and times, side
by side, from the command's start until the Ingress serves the new page. It
prints one row per run and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
STARTER = REPO / "templates" / "python-flask"
INGRESS = "http://127.0.0.1"


def paas(*args: str, cwd: Path | None = None, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "paas", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if result.returncode != 0:
        sys.exit(f"paas {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def git(repo: Path, home: Path, *args: str) -> str:
    env = {
        **os.environ,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
    }
    result = subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"git {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout + result.stderr


def served(app: str, domain: str, needle: str, timeout: float = 120) -> float:
    """Poll the Ingress until the page has `needle`; return when it did (perf_counter)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            page = httpx.get(INGRESS, headers={"Host": f"{app}.{domain}"}, timeout=2)
            if needle in page.text:
                return time.perf_counter()
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    sys.exit(f"{app} never served {needle!r}")


def change(repo: Path, mark: str) -> None:
    """One line of the page: `{greeting} from MARK</h1>`."""
    app_py = repo / "app.py"
    lines = app_py.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if "<h1>" in line)
    lines[at] = f"  <h1>{{greeting}} from {mark}</h1>\n"
    app_py.write_text("".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    info = json.loads(paas("cluster", "info", "--json"))
    domain = info["domain"]
    host = f"git.{domain}"
    resolve = f"http.curloptResolve={host}:80:127.0.0.1"
    suffix = uuid.uuid4().hex[:6]
    by_git, by_paas = f"bench-git-{suffix}", f"bench-paas-{suffix}"
    rows: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="paas-bench-") as tmp:
        home, git_repo, paas_repo = Path(tmp) / "home", Path(tmp) / "git", Path(tmp) / "paas"
        home.mkdir()
        shutil.copytree(STARTER, git_repo)
        shutil.copytree(STARTER, paas_repo)
        git(git_repo, home, "init", "-q", "-b", "main")
        git(git_repo, home, "config", "--global", "credential.helper", "store")
        git(git_repo, home, "add", "-A")
        git(git_repo, home, "commit", "-q", "-m", "first")
        token = paas("receiver", "token", "create", "--app", by_git, "--ttl", "1h")
        remote = f"http://paas:{token.strip().splitlines()[-1]}@{host}/{by_git}.git"
        try:
            git(git_repo, home, "-c", resolve, "push", "-q", remote, "main")
            paas("push", "--app", by_paas, "--strategy", "cluster", cwd=paas_repo)
            for run in range(args.runs):
                mark = f"run {run} {uuid.uuid4().hex[:4]}"
                change(git_repo, mark)
                git(git_repo, home, "commit", "-q", "-am", mark)
                started = time.perf_counter()
                git(git_repo, home, "-c", resolve, "push", "-q", remote, "main")
                git_seconds = served(by_git, domain, mark) - started
                change(paas_repo, mark)
                started = time.perf_counter()
                paas("push", "--app", by_paas, "--strategy", "cluster", cwd=paas_repo)
                paas_seconds = served(by_paas, domain, mark) - started
                rows.append((git_seconds, paas_seconds))
                print(
                    f"run {run + 1}: git push {git_seconds:.1f} s, paas push {paas_seconds:.1f} s, "
                    f"ratio {git_seconds / paas_seconds:.2f}",
                    flush=True,
                )
        finally:
            for app in (by_git, by_paas):
                subprocess.run(
                    [sys.executable, "-m", "paas", "apps", "destroy", app, "--confirm", app],
                    capture_output=True,
                    check=False,
                )
    git_median = statistics.median(r[0] for r in rows)
    paas_median = statistics.median(r[1] for r in rows)
    print(
        f"median: git push {git_median:.1f} s, paas push {paas_median:.1f} s, "
        f"ratio {git_median / paas_median:.2f} (goal <= 1.15)"
    )


if __name__ == "__main__":
    main()
