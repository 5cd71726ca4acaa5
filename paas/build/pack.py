"""The `local` strategy: `pack build` against a Docker-compatible daemon, published.

pack runs the CNB lifecycle in a container of the daemon (Docker, or podman's
API socket through ``DOCKER_HOST``) and publishes the image straight to the
registry (``--publish``). The build cache is a volume per app, and
``REPO:latest`` is the previous image, so a rebuild reuses every layer whose
inputs did not change (dependency layers after a code-only change).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from paas.build.cnb import DIGEST, explain_failure
from paas.build.plan import BuildPlan
from paas.build.tools import OutputLine, ToolRun, docker_host, find_tool, run_tool
from paas.errors import BuildError


def pack_arguments(
    plan: BuildPlan,
    source_dir: Path,
    *,
    clear_cache: bool = False,
    secret_names: tuple[str, ...] = (),
) -> list[str]:
    """The `pack build` arguments that carry out `plan` on the files in `source_dir`.

    `secret_names` are passed as `--env NAME` only: pack reads their values
    from its own environment, so they never appear in a command line.
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
    for key, value in sorted(plan.env.items()):
        if key not in secret_names:
            args += ["--env", f"{key}={value}"]
    for key in sorted(secret_names):
        args += ["--env", key]
    for buildpack in plan.buildpacks:
        args += ["--buildpack", buildpack]
    if plan.insecure_registry:
        args += ["--insecure-registry", plan.registry]
    if clear_cache:
        args.append("--clear-cache")
    return args


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

    `secret_env` (mirror credentials) reaches the buildpacks by name only.

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
    secrets = dict(secret_env or {})
    run_env = {"PACK_VOLUME_KEY": "paas", **env, **secrets, "DOCKER_HOST": host}
    run = run_tool(
        [
            pack,
            *pack_arguments(plan, source_dir, clear_cache=clear_cache, secret_names=tuple(secrets)),
        ],
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
