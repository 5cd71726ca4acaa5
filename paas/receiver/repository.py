"""The apps' bare repositories: made on the first push, with the receiver's hook and policy."""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from paas.receiver.protocol import REPOSITORY_SUFFIX
from paas.receiver.refs import PushPolicy

_creating = threading.Lock()
GIT_TIMEOUT = 30


def git_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """An environment for git that reads no user or system configuration."""
    env = {
        k: v for k, v in (os.environ if base is None else base).items() if not k.startswith("GIT_")
    }
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, GIT_TERMINAL_PROMPT="0")
    return env


def hook_script(python: str = sys.executable) -> str:
    """The pre-receive hook: the receiver's own interpreter running `paas.receiver.hook`."""
    return f"#!/bin/sh\nexec {shlex.quote(python)} -m paas.receiver.hook\n"


def repository_path(root: Path, app: str) -> Path:
    """Where the repository of a checked app name lives."""
    return root / f"{app}{REPOSITORY_SUFFIX}"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", f"--git-dir={repo}", *args],
        check=True,
        capture_output=True,
        timeout=GIT_TIMEOUT,
        env=git_environment(),
    )


def configure(repo: Path, policy: PushPolicy, *, max_input_bytes: int) -> None:
    """Set the repository's policy and install the hook (again: the interpreter may have moved)."""
    # With review apps, review branches may be deleted and force-pushed; the hook
    # still refuses both for the deploy branch unless the policy allows them.
    loose = policy.review_apps
    settings = {
        "receive.denyDeletes": str(not (policy.allow_delete or loose)).lower(),
        "receive.denyNonFastForwards": str(not (policy.allow_force_push or loose)).lower(),
        # A bare repository's HEAD names `main`: git refuses deleting it unless told.
        "receive.denyDeleteCurrent": "refuse" if not policy.allow_delete else "ignore",
        "receive.fsckObjects": "true",  # no `..`, `.git` or malformed trees get in
        "receive.maxInputSize": str(max_input_bytes),
        "receive.advertisePushOptions": "false",
        "http.receivepack": "true",
        "http.uploadpack": "true",
        "core.logAllRefUpdates": "true",
        "gc.auto": "0",
    }
    for key, value in settings.items():
        _git(repo, "config", key, value)
    hook = repo / "hooks" / "pre-receive"
    script = hook_script()
    if not hook.is_file() or hook.is_symlink() or hook.read_text() != script:
        temporary = hook.with_name(f".pre-receive.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755)
        with os.fdopen(fd, "w") as out:
            out.write(script)
        os.replace(temporary, hook)


def ensure_repository(
    root: Path, app: str, policy: PushPolicy, *, max_input_bytes: int, create: bool
) -> Path | None:
    """The app's bare repository, made (`create`) when it does not exist yet.

    A new repository is made beside its place and renamed into it, so a half
    made one is never served. A push (`create`) sets the policy and the hook
    again, since either may have changed since the last one. Returns None when
    it does not exist and `create` is false.
    """
    repo = repository_path(root, app)
    if not create:
        return repo if repo.is_dir() and not repo.is_symlink() else None
    with _creating:
        if repo.is_dir() and not repo.is_symlink():
            configure(repo, policy, max_input_bytes=max_input_bytes)
            return repo
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        building = root / f".new-{app}-{secrets.token_hex(4)}"
        try:
            subprocess.run(
                ["git", "init", "--bare", "--quiet", "--initial-branch=main", str(building)],
                check=True,
                capture_output=True,
                timeout=GIT_TIMEOUT,
                env=git_environment(),
            )
            for sample in (building / "hooks").glob("*.sample"):
                sample.unlink()
            configure(building, policy, max_input_bytes=max_input_bytes)
            os.rename(building, repo)
        finally:
            if building.exists():
                shutil.rmtree(building, ignore_errors=True)
        return repo
