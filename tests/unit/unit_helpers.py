"""Helpers shared by the unit tests: run paas as a user does, a deadline, a kubeconfig."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: A kubeconfig that does not exist: commands that need no cluster say they use the defaults.
NO_KUBECONFIG = "/nonexistent/paas-unit-tests/kubeconfig"
NO_CLUSTER = (
    "No cluster answered (no usable kubeconfig: Invalid kube-config file. No configuration "
    "found): using the local default settings (registry `localhost:5000`, domain "
    "`localhost`); run `paas cluster init` on the cluster, or pass `--settings FILE`.\n"
)


def paas_env(
    *, columns: int | None = None, kubeconfig: str | Path = NO_KUBECONFIG
) -> dict[str, str]:
    """The environment of a user's paas: this checkout's code, no colour, no `PAAS_` variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAAS_")}
    env.update(
        NO_COLOR="1",
        PYTHONPATH=str(ROOT),
        PYTHONDONTWRITEBYTECODE="1",
        KUBECONFIG=str(kubeconfig),
    )
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return env


def run_paas(
    *args: str | Path,
    cwd: Path | None = None,
    columns: int | None = None,
    kubeconfig: str | Path = NO_KUBECONFIG,
    timeout: float = 60,
    file_size_limit: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run paas as a user does; with `file_size_limit`, a write past that many bytes fails."""

    def limit() -> None:
        if file_size_limit is not None:  # the write fails with EFBIG instead of a signal
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "paas", *map(str, args)],
        cwd=cwd,
        env=paas_env(columns=columns, kubeconfig=kubeconfig),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=limit if file_size_limit is not None else None,
    )


@contextmanager
def deadline(seconds: int = 5) -> Iterator[None]:
    """Fail, rather than hang, when the block runs longer than `seconds`."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def write_kubeconfig(path: Path, port: int) -> Path:
    """A kubeconfig at `path` whose API server is https://127.0.0.1:`port`, with a dummy token."""
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {{server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}
users:
- name: someone
  user: {{token: not-a-real-token}}
contexts:
- name: local
  context: {{cluster: local, user: someone}}
current-context: local
"""
    )
    return path


def required_tool(name: str) -> str:
    """The path of `name` on the PATH; without it the test fails in CI (which installs it) and
    is skipped only on a machine that never ran `hack/testbed up`."""
    import shutil

    import pytest

    found = shutil.which(name)
    if found is None:
        message = f"`{name}` is not installed: `hack/testbed up` installs it"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)  # only outside CI: in CI the line above fails the test
    return found
