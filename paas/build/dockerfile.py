"""The `dockerfile` strategy: the app's Dockerfile with podman, buildah or docker, then a push.

The first of podman, buildah and docker found on the PATH builds the image
(``build.env`` and ``--build-env`` become build args), tags it, and pushes
each tag; the digest of the pushed manifest is what `paas build` prints.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path

from paas.build.plan import BuildPlan
from paas.build.tools import OutputLine, ToolRun, find_tool, run_tool
from paas.errors import BuildError

TOOLS = ("podman", "buildah", "docker")

_STEP = re.compile(
    r"^(?:\[\d+/\d+\] )?STEP (\d+/\d+): (.*)$|^Step (\d+/\d+) : (.*)$|^#\d+ \[[^\]]*\] (.*)$"
)
_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


def find_image_tool(env: Mapping[str, str]) -> tuple[str, str]:
    """Return (name, path) of the first of podman, buildah and docker on the PATH.

    Raises:
        BuildError: none is installed.
    """
    for name in TOOLS:
        path = find_tool(name, env)
        if path:
            return name, path
    raise BuildError(
        "Neither podman, buildah nor docker is installed to build the Dockerfile.",
        "Install one of them (`apt-get install podman`), or build with `--strategy cluster`.",
    )


def build_arguments(tool: str, plan: BuildPlan, context: Path) -> list[str]:
    """The arguments that build `plan`'s Dockerfile in `context` with `tool`."""
    if plan.dockerfile is None:
        raise ValueError("a Dockerfile build needs a Dockerfile")
    verb = ["bud"] if tool == "buildah" else ["build"]
    args = [*verb, "-f", str(context / plan.dockerfile), "-t", plan.image]
    for key, value in sorted(plan.env.items()):
        args += ["--build-arg", f"{key}={value}"]
    if tool != "docker":
        args += ["--layers"] if tool == "buildah" else []
    args.append(str(context))
    return args


def push_arguments(tool: str, plan: BuildPlan, ref: str, digest_file: Path) -> list[str]:
    """The arguments that push `ref` with `tool`, writing the digest to `digest_file`."""
    if tool == "docker":
        return ["push", ref]
    args = ["push", "--digestfile", str(digest_file)]
    if plan.insecure_registry:
        args.append("--tls-verify=false")
    return [*args, ref]


def failed_step(run: ToolRun) -> str | None:
    """The last Dockerfile step the output shows as started, like `3/6: RUN pip install ...`."""
    step = None
    for text in run.tail:
        match = _STEP.match(text.strip())
        if match:
            number = match.group(1) or match.group(3)
            what = match.group(2) or match.group(4) or match.group(5)
            step = f"{number}: {what}" if number else what
    return step


def dockerfile_build(
    plan: BuildPlan, context: Path, *, env: Mapping[str, str], on_line: OutputLine
) -> str:
    """Build the Dockerfile of `plan` in `context`, push every tag; return the digest.

    Raises:
        BuildError: no tool, a failing step (named), or a failed push.
    """
    tool, path = find_image_tool(env)
    run = run_tool([path, *build_arguments(tool, plan, context)], env=env, on_line=on_line)
    if run.exit_code != 0:
        step = failed_step(run)
        where = f" at step {step}" if step else ""
        raise BuildError(
            f"The Dockerfile build of `{plan.app}` failed{where}.",
            f"Fix `{plan.dockerfile}` there; the output above shows the error. "
            f"Try it with `{tool} build -f {plan.dockerfile} .`.",
        )
    digest = ""
    for ref in plan.image_tags:
        if ref != plan.image:
            tagged = run_tool([path, "tag", plan.image, ref], env=env, on_line=on_line)
            if tagged.exit_code != 0:
                raise BuildError(
                    f"`{tool} tag {plan.image} {ref}` failed.", "See the output above."
                )
        with tempfile.TemporaryDirectory(prefix="paas-push-") as tmp:
            digest_file = Path(tmp) / "digest"
            pushed = run_tool(
                [path, *push_arguments(tool, plan, ref, digest_file)],
                env=env,
                on_line=on_line,
                keep=True,
            )
            if pushed.exit_code != 0:
                raise BuildError(
                    f"Pushing `{ref}` to `{plan.registry}` failed.",
                    "Check that the registry is up and that you are logged in "
                    "(`podman login`, or `PAAS_REGISTRY_USERNAME`/`PAAS_REGISTRY_PASSWORD`).",
                )
            if not digest:
                if digest_file.is_file():
                    digest = digest_file.read_text().strip()
                else:
                    digest = next(
                        (m.group(1) for t in pushed.lines if (m := _DIGEST.search(t))), ""
                    )
    if not digest.startswith("sha256:"):
        raise BuildError(f"The push of `{plan.image}` reported no digest.", "See the output above.")
    return digest
