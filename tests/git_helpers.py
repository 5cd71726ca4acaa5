"""Stock `git` as a fresh user, for the receiver's tests (unit, on loopback, and e2e, on the testbed).

At the top of tests/, so that both tests/unit/receiver and tests/e2e import it.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


def git_env(home: Path) -> dict[str, str]:
    """git as a fresh user: no system or global config, never a prompt."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=str(home / "gitconfig"),
        GIT_TERMINAL_PROMPT="0",
        GIT_AUTHOR_NAME="Test",
        GIT_AUTHOR_EMAIL="test@example.com",
        GIT_COMMITTER_NAME="Test",
        GIT_COMMITTER_EMAIL="test@example.com",
    )
    return env


@dataclass
class Pushed:
    """A finished `git push`: its exit code and each stderr line with when it arrived."""

    code: int
    lines: list[tuple[float, str]]
    ended: float

    @property
    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)


def git(
    repo: Path, home: Path, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run git in `repo`; fail the test when it does not end in `timeout` seconds."""
    return subprocess.run(
        ["git", *args], cwd=repo, env=git_env(home), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def push(repo: Path, home: Path, *args: str, timeout: float = 60) -> Pushed:
    """`git push ARGS`, its stderr read as it comes, each line stamped with its arrival."""
    process = subprocess.Popen(
        ["git", "push", "--progress", *args], cwd=repo, env=git_env(home),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    lines: list[tuple[float, str]] = []

    def read() -> None:
        assert process.stderr is not None
        pending = b""
        while chunk := process.stderr.read1(4096):  # type: ignore[attr-defined]
            pending += chunk
            *done, pending = pending.replace(b"\r", b"\n").split(b"\n")
            now = time.monotonic()
            lines.extend((now, d.decode(errors="replace").rstrip()) for d in done if d.strip())
        if pending.strip():
            lines.append((time.monotonic(), pending.decode(errors="replace").rstrip()))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(
            f"git push did not end in {timeout} s:\n" + "\n".join(text for _, text in lines)
        )
    ended = time.monotonic()
    reader.join(timeout=10)
    return Pushed(code, lines, ended)
