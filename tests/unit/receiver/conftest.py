"""A real receiver on loopback for the tests: `paas receiver serve` in a subprocess, real git."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from git_helpers import git

from paas.receiver.store import FileTokenStore, create_token

REPO = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent
START_TIMEOUT = 20


@dataclass
class Receiver:
    """A running receiver: its URL, root, token store and the pipeline's log."""

    url: str
    root: Path
    store: FileTokenStore
    pipeline_log: Path
    home: Path
    log: list[str] = field(default_factory=list)
    process: subprocess.Popen[str] | None = None

    def token(self, *apps: str, ttl: str = "1h") -> str:
        return create_token(self.store, list(apps), ttl)[0]

    def remote(self, app: str, token: str | None) -> str:
        host = self.url.removeprefix("http://")
        return f"http://paas:{token}@{host}/{app}.git" if token else f"{self.url}/{app}.git"

    def logged(self, text: str, timeout: float = 10) -> bool:
        """Whether a line of the receiver's log holds `text` within `timeout` (it is read by a thread)."""
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.log):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def pipeline_events(self) -> list[tuple[str, str, float]]:
        if not self.pipeline_log.exists():
            return []
        rows = [line.split() for line in self.pipeline_log.read_text().splitlines()]
        return [(event, commit, float(stamp)) for event, commit, stamp in rows]


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    """`paas receiver serve --port 0` with the test pipeline; stopped (by its pid) afterwards."""
    root, tokens, log = tmp_path / "repos", tmp_path / "tokens.json", tmp_path / "pipeline.log"
    home = tmp_path / "home"
    home.mkdir()
    config = tmp_path / "receiver.json"
    config.write_text(
        json.dumps(
            {
                "pipeline": "receiver_test_pipeline:scripted",
                "lock_wait": 60,
                "apps": {
                    "loose": {"allow_force_push": True, "allow_delete": True},
                    "strict": {"review_apps": False},
                },
            }
        )
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(HERE)]),
        "PAAS_TEST_PIPELINE_LOG": str(log),
        "NO_COLOR": "1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "paas",
            "receiver",
            "serve",
            "--port",
            "0",
            "--root",
            str(root),
            "--tokens",
            str(tokens),
            "--config",
            str(config),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    lines: list[str] = []
    ready = threading.Event()
    url: list[str] = []

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            if line.startswith("Listening on "):
                url.append(line.split()[-1])
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not ready.wait(START_TIMEOUT):
            pytest.fail("the receiver did not start:\n" + "\n".join(lines))
        yield Receiver(url[0], root, FileTokenStore(tokens), log, home, lines, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def new_app_repo(path: Path, home: Path, plan: dict[str, object] | None = None) -> Path:
    """A fresh repository on `main` with one commit holding the test pipeline's plan."""
    path.mkdir(parents=True)
    assert git(path, home, "init", "-q", "-b", "main").returncode == 0
    commit(path, home, plan or {}, "first")
    return path


def commit(path: Path, home: Path, plan: dict[str, object], message: str) -> str:
    (path / "pipeline.json").write_text(json.dumps(plan))
    (path / "app.txt").write_text(message + "\n")
    git(path, home, "add", "-A")
    result = git(path, home, "commit", "-q", "-m", message)
    assert result.returncode == 0, result.stderr
    return git(path, home, "rev-parse", "HEAD").stdout.strip()


def remote_refs(receiver: Receiver, app: str, token: str) -> dict[str, str]:
    result = git(receiver.home, receiver.home, "ls-remote", receiver.remote(app, token))
    assert result.returncode == 0, result.stderr
    return {ref: sha for sha, ref in (line.split("\t") for line in result.stdout.splitlines())}
