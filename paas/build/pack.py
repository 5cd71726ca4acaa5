"""The `local` strategy: `pack build` against a Docker-compatible daemon, published.

pack runs the CNB lifecycle in a container of the daemon (Docker, or podman's
API socket through ``DOCKER_HOST``) and publishes the image straight to the
registry (``--publish``). The build cache is a volume per app, and
``REPO:latest`` is the previous image, so a rebuild reuses every layer whose
inputs did not change (dependency layers after a code-only change).

The build variables reach pack in an env file (``--env-file``), mode 0600
in a private temporary directory that is removed when the build ends,
fails or is interrupted; their values are never on pack's command line.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from paas.build.buildenv import env_file_text
from paas.build.cnb import DIGEST, explain_failure
from paas.build.plan import BuildPlan
from paas.build.tools import OutputLine, ToolRun, docker_host, find_tool, run_tool
from paas.errors import BuildError


def pack_arguments(
    plan: BuildPlan,
    source_dir: Path,
    *,
    clear_cache: bool = False,
    env_file: Path | None = None,
) -> list[str]:
    """The `pack build` arguments that carry out `plan` on the files in `source_dir`.

    The build variables are in `env_file` (`private_env_file()`), never in the
    arguments.
    """
    if plan.builder is None:
        raise ValueError("a pack build needs a builder")
    args = [
        "build",
        plan.image,
        "--builder",
        plan.builder,
        "--path",
        str(source_dir),
        "--publish",
        # Offline: without it pack fetches a lifecycle image (5-phase flow).
        "--trust-builder",
        "--pull-policy",
        "if-not-present",
        # The lifecycle container reaches the registry the way this host does.
        "--network",
        "host",
        "--cache",
        f"type=build;format=volume;name={plan.cache_name}",
        "--previous-image",
        plan.previous_image,
        # Lines go through the console, which colours them itself.
        "--no-color",
    ]
    for tag in plan.image_tags[1:]:
        args += ["--tag", tag]
    if env_file is not None:
        args += ["--env-file", str(env_file)]
    for buildpack in plan.buildpacks:
        args += ["--buildpack", buildpack]
    if plan.insecure_registry:
        args += ["--insecure-registry", plan.registry]
    if clear_cache:
        args.append("--clear-cache")
    return args


@contextmanager
def private_env_file(env: Mapping[str, str]) -> Iterator[tuple[Path, dict[str, str]]]:
    """Write `env` as pack's env file; yield its path and the variables pack must get by name.

    The file is mode 0600 in a directory only this user can enter, and both
    are removed on exit, Ctrl-C included. Values the file cannot carry (a
    line break, white space at an end) are named in it and yielded, to be
    set in pack's environment (`env_file_text()`).

    Raises:
        BuildError: such a value's name is one pack itself runs with.
    """
    text, by_name = env_file_text(env)
    with tempfile.TemporaryDirectory(prefix="paas-build-env-") as tmp:  # mode 0700
        path = Path(tmp) / "build.env"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        yield path, by_name


def build_error(plan: BuildPlan, run: ToolRun) -> BuildError:
    """Explain a failed `pack build` from its output: the step, the reason, the fix."""
    return explain_failure(plan, list(run.tail), run.exit_code, tool="`pack build`", daemon=True)


def pack_build(
    plan: BuildPlan,
    source_dir: Path,
    *,
    env: Mapping[str, str],
    on_line: OutputLine,
    clear_cache: bool = False,
    secret_env: Mapping[str, str] | None = None,
) -> str:
    """Build and publish the image of `plan` with pack; return its digest.

    The build env of `plan` and `secret_env` (mirror credentials) reach pack
    in an env file (`private_env_file()`), never on its command line.

    Raises:
        BuildError: pack is missing, there is no daemon, or the build failed.
    """
    pack = find_tool("pack", env, env_var="PAAS_PACK")
    if pack is None:
        raise BuildError(
            "`pack` is not installed, and the `local` strategy builds with it.",
            "Install pack v0.39 (`hack/testbed up` builds one), set `PAAS_PACK`, "
            "or build with `--strategy cluster`.",
        )
    host = docker_host(env)
    if host is None:
        raise BuildError(
            "No Docker-compatible daemon was found for `pack build`.",
            "Start one (`podman system service --time=0 unix:///run/podman/podman.sock &`) "
            "and set `DOCKER_HOST`, or build with `--strategy cluster`.",
        )
    # A stable key keeps pack's volume names (and so its caches) the same
    # from one build to the next.
    with private_env_file({**plan.env, **(secret_env or {})}) as (path, by_name):
        run_env = {"PACK_VOLUME_KEY": "paas", **env, **by_name, "DOCKER_HOST": host}
        run = run_tool(
            [pack, *pack_arguments(plan, source_dir, clear_cache=clear_cache, env_file=path)],
            env=run_env,
            on_line=on_line,
            keep=True,
        )
    if run.exit_code != 0:
        raise build_error(plan, run)
    for text in reversed(run.lines):
        match = DIGEST.search(text)
        if match:
            return match.group(1)
    raise BuildError(
        f"`pack build` of `{plan.app}` succeeded but printed no image digest.",
        "Check the pack version (v0.39 is tested) and the output above.",
    )
