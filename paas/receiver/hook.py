"""The pre-receive hook of every app repository: `python -m paas.receiver.hook`.

git runs it after the pack arrived and before any ref moves, with the ref
updates on stdin. It refuses what the app's policy refuses, exports the pushed
commit, runs the pipeline, and writes each line the pipeline reports at once,
flushed, so the client shows it as a `remote:` line while the push runs. A
non-zero exit refuses the whole push: no ref is updated.

The receiver passes the hook its settings in `PAAS_RECEIVER_HOOK` (JSON); the
client cannot set it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from paas.console import sanitise
from paas.errors import PaasError
from paas.names import app_name_problem
from paas.receiver.refs import PushPolicy, RefUpdate, decide_push, parse_ref_updates
from paas.receiver.repository import git_environment

SETTINGS_VARIABLE = "PAAS_RECEIVER_HOOK"
MAX_STDIN = 1024 * 1024
MAX_LINE = 4000
#: The file in an app's repository whose `flock` serialises its pushes.
PUSH_LOCK = "paas-push.lock"
#: Beside it: the ref a push deployed and its new commit, for the next holder of the lock.
#: git updates the ref only once the hook has exited (and freed the lock), so the next
#: push waits for that update before it compares the ref with what its client read.
HANDOVER = "paas-pushed"
HANDOVER_WAIT = 10.0
WAIT_NOTE = 30.0
HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class HookSettings:
    """What the receiver tells the hook about this push."""

    app: str
    pusher: str
    pipeline: str
    policy: PushPolicy
    max_source_bytes: int
    max_source_files: int
    lock_wait: float = 600.0

    def to_json(self) -> str:
        """The settings as the environment variable's value."""
        return json.dumps(
            {
                "app": self.app,
                "pusher": self.pusher,
                "pipeline": self.pipeline,
                "deploy_branches": list(self.policy.deploy_branches),
                "allow_force_push": self.policy.allow_force_push,
                "allow_delete": self.policy.allow_delete,
                "review_apps": self.policy.review_apps,
                "max_source_bytes": self.max_source_bytes,
                "max_source_files": self.max_source_files,
                "lock_wait": self.lock_wait,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> HookSettings:
        """The settings the receiver passed."""
        data: dict[str, Any] = json.loads(text)
        settings = cls(
            app=str(data["app"]),
            pusher=str(data["pusher"]),
            pipeline=str(data["pipeline"]),
            policy=PushPolicy(
                tuple(str(b) for b in data["deploy_branches"]),
                bool(data["allow_force_push"]),
                bool(data["allow_delete"]),
                bool(data.get("review_apps", True)),
            ),
            max_source_bytes=int(data["max_source_bytes"]),
            max_source_files=int(data["max_source_files"]),
            lock_wait=float(data.get("lock_wait", 600)),
        )
        if app_name_problem(settings.app):
            raise ValueError("bad app name")
        return settings


class Lines:
    """Writes lines to the client at once: sanitised, one `remote:` line each, flushed."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def __call__(self, text: str) -> None:
        """Write `text`, one line per line it has."""
        for line in sanitise(str(text)).split("\n"):
            self.stream.write(line[:MAX_LINE] + "\n")
        self.stream.flush()


def hook_git_environment() -> dict[str, str]:
    """The environment of git in the hook: no user config, and the quarantine git gave the hook.

    The pushed objects live in the quarantine until the push passes.
    """
    keep = ("GIT_DIR", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_QUARANTINE_PATH")  # fmt: skip
    return git_environment() | {k: os.environ[k] for k in keep if k in os.environ}


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=hook_git_environment(),
    )


def _fast_forwards(updates: list[RefUpdate]) -> dict[str, bool]:
    return {
        u.ref: _git("merge-base", "--is-ancestor", u.old, u.new).returncode == 0
        for u in updates
        if not u.is_create and not u.is_delete
    }


def run(settings: HookSettings, stdin: str, say: Lines) -> int:
    """Decide, wait for the app's turn, export and deploy one push; return the hook's exit code."""
    try:
        updates = parse_ref_updates(stdin)
    except ValueError as error:
        say(f"error: {error}")
        return 1
    decision = decide_push(updates, settings.policy, _fast_forwards(updates))
    for refused, reason in decision.refused:
        say(f"error: `{refused.ref}` refused: {reason}.")
    if decision.refused:
        say("The push was refused: no ref was updated.")
        return 1
    if decision.delete is not None:
        say(f"Deleted `{decision.delete.branch}`; the app keeps running its current release.")
        return 0
    update = decision.deploy or decision.review or decision.review_delete
    if update is None:
        return 0
    lock = Path(os.environ.get("GIT_DIR", ".")) / PUSH_LOCK
    with push_turn(lock, settings, update.new, say) as turn:
        if not turn:
            say(
                f"error: another push of `{settings.app}` was still running after "
                f"{settings.lock_wait:.0f} s: try again later."
            )
            say(f"The push failed: `{update.branch}` was not updated.")
            return 1
        return _deploy(settings, update, say, review=update is not decision.deploy)


@contextlib.contextmanager
def push_turn(lock: Path, settings: HookSettings, commit: str, say: Lines) -> Iterator[bool]:
    """Hold the app's push lock (a `flock` on a file in its repository); yield False on timeout.

    A push that has to wait says so at once, with when the push before it
    started, and again every 30 s, so the client sees why nothing happens.
    """
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        if not _try_lock(fd):
            started = time.monotonic()
            say(f"Waiting for another push of `{settings.app}` to end{_holder(fd)}...")
            note = WAIT_NOTE
            while not _try_lock(fd):
                waited = time.monotonic() - started
                if waited >= settings.lock_wait:
                    yield False
                    return
                if waited >= note:
                    say(f"  still waiting ({waited:.0f} s)")
                    note += WAIT_NOTE
                time.sleep(0.2)
            say(
                f"Waited {time.monotonic() - started:.0f} s for another push of "
                f"`{settings.app}` to end."
            )
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{time.time():.0f} {commit[:12]}\n".encode(), 0)
        yield True
    finally:
        os.close(fd)  # frees the lock


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(fd: int) -> str:
    """`` (started 12 s ago, at 45d32300cd08)`` from what the holder wrote, or nothing."""
    fields = os.pread(fd, 100, 0).decode(errors="replace").split()
    if len(fields) != 2 or not fields[0].isdigit() or not all(c in HEX for c in fields[1]):
        return ""
    return f" (started {max(0, time.time() - int(fields[0])):.0f} s ago, at {fields[1]})"


def _deploy(settings: HookSettings, update: RefUpdate, say: Lines, *, review: bool) -> int:
    """Export the pushed commit and run the pipeline, holding the app's push lock.

    A review branch's push runs it with `review` set; its delete with `delete`
    set too, and nothing exported.
    """
    from paas.receiver.pipeline import PushedSource, load_pipeline
    from paas.receiver.source import export_commit

    git_dir = Path(os.environ.get("GIT_DIR", "."))
    _await_handover(git_dir / HANDOVER)
    current = _ref(update.ref)
    if current != ("" if update.is_create else update.old):
        say(
            f"error: `{update.branch}` moved to {current[:12] or 'nothing'} while this push "
            "waited: fetch, merge and push again."
        )
        return 1
    if update.is_delete:
        say(f"Deleting `{update.branch}`: its review app goes too...")
    else:
        what = "a review app of " if review else ""
        say(f"Deploying {what}`{settings.app}` from `{update.branch}` at {update.new[:12]}...")
    workdir = Path(tempfile.mkdtemp(prefix="paas-push-"))
    try:
        source_dir = workdir / "source"
        source_dir.mkdir(mode=0o700)
        if not update.is_delete:
            for warning in export_commit(
                update.new,
                source_dir,
                max_bytes=settings.max_source_bytes,
                max_files=settings.max_source_files,
                env=hook_git_environment(),
            ):
                say(f"warning: {warning}")
        pipeline = load_pipeline(settings.pipeline)
        pipeline(
            PushedSource(
                settings.app,
                source_dir,
                update.new,
                update.branch or "",
                settings.pusher,
                review=review,
                delete=update.is_delete,
            ),
            say,
        )
    except PaasError as error:
        say(f"error ({error.kind}): {error.message}")
        if error.hint:
            say(f"hint: {error.hint}")
        say(f"The push failed: `{update.branch}` was not updated.")
        return 1
    except Exception as error:  # the pipeline is the receiver's config: a bug, said briefly
        say(f"error (unexpected): {type(error).__name__}: {error}")
        say(f"The push failed: `{update.branch}` was not updated.")
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _write_handover(git_dir / HANDOVER, update)
    return 0


def _ref(ref: str) -> str:
    return _git("rev-parse", "--verify", "--quiet", ref).stdout.strip()


def _write_handover(path: Path, update: RefUpdate) -> None:
    """Record, under the lock, the ref update git makes once this hook has exited."""
    new = "" if update.is_delete else update.new
    with contextlib.suppress(OSError):
        path.write_text(f"{update.ref} {new}\n")


def _await_handover(path: Path) -> None:
    """Wait (briefly) until the previous push's ref update has landed, then forget it.

    If it never lands (git refused it after the hook said yes), the ref as it is
    counts, so a stale record cannot refuse pushes for good.
    """
    try:
        fields = path.read_text().split()
    except OSError:
        return
    if len(fields) in (1, 2) and fields[0].startswith("refs/heads/"):
        expected = fields[1] if len(fields) == 2 else ""
        deadline = time.monotonic() + HANDOVER_WAIT
        while _ref(fields[0]) != expected and time.monotonic() < deadline:
            time.sleep(0.05)
    with contextlib.suppress(OSError):
        path.unlink()


def main() -> int:
    """The hook's entry point."""
    say = Lines(sys.stdout)
    try:
        settings = HookSettings.from_json(os.environ[SETTINGS_VARIABLE])
    except (KeyError, ValueError, TypeError):
        say("error: this repository is served only through `paas receiver serve`.")
        return 1
    return run(settings, sys.stdin.read(MAX_STDIN), say)


if __name__ == "__main__":
    sys.exit(main())
