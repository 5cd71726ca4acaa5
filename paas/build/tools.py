"""Finding and running the external build tools (pack, podman, buildah, docker).

Output is streamed line by line to a callback (the console) as it comes, and
the last lines are kept for the error message when the tool fails.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from paas.errors import BuildError

#: Where podman's Docker-compatible API socket usually is (rootful, then rootless).
PODMAN_SOCKETS = ("/run/podman/podman.sock",)
DOCKER_SOCKET = "/var/run/docker.sock"

OutputLine = Callable[[str], None]


@dataclass
class ToolRun:
    """The outcome of one tool run: its exit code and the output it printed."""

    exit_code: int
    lines: list[str] = field(default_factory=list)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=60))


def find_tool(name: str, env: Mapping[str, str], *, env_var: str = "") -> str | None:
    """Return the path of `name`: from `env_var` when set, else from the PATH."""
    if env_var and env.get(env_var):
        return env[env_var]
    return shutil.which(name, path=env.get("PATH"))


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def docker_host(env: Mapping[str, str]) -> str | None:
    """The Docker-compatible daemon to use: ``DOCKER_HOST``, else a podman or docker socket."""
    if env.get("DOCKER_HOST"):
        return env["DOCKER_HOST"]
    runtime_dir = env.get("XDG_RUNTIME_DIR")
    candidates = [*PODMAN_SOCKETS]
    if runtime_dir:
        candidates.append(f"{runtime_dir}/podman/podman.sock")
    candidates.append(DOCKER_SOCKET)
    for sock in candidates:
        if _is_socket(sock):
            return f"unix://{sock}"
    return None


def run_tool(
    argv: Sequence[str | Path],
    *,
    env: Mapping[str, str],
    on_line: OutputLine,
    cwd: Path | None = None,
    keep: bool = False,
) -> ToolRun:
    """Run a tool, streaming each output line (stdout and stderr merged) to `on_line`.

    Args:
        argv: The command.
        env: Its whole environment.
        on_line: Called with each line, without the newline.
        cwd: Its working directory.
        keep: Keep every line in `ToolRun.lines` (for parsing), not only the tail.

    Raises:
        BuildError: the tool could not be started.
    """
    import sh

    result = ToolRun(exit_code=0)

    def line(text: str) -> None:
        text = text.rstrip("\n")
        result.tail.append(text)
        if keep:
            result.lines.append(text)
        on_line(text)

    command = [str(a) for a in argv]
    try:
        sh.Command(command[0])(
            *command[1:],
            _env=dict(env),
            _out=line,
            _err_to_out=True,
            _cwd=str(cwd) if cwd else None,
            _tee=False,
        )
    except sh.ErrorReturnCode as exc:
        result.exit_code = exc.exit_code
    except sh.CommandNotFound:
        raise BuildError(
            f"`{command[0]}` could not be started.", "Check that it is installed and executable."
        ) from None
    return result
