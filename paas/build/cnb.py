"""What the CNB lifecycle prints, read the same for every strategy that runs it.

pack (`local`) and the creator pod (`cluster`) print the lifecycle's output and
the paas buildpacks' step errors; this module finds the image digest in it and
turns a failure into a `BuildError` naming the step and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from paas.build.plan import BuildPlan
from paas.detect import NO_APP_HINT
from paas.errors import BuildError

#: The exporter prints ``*** Images (sha256:...):`` (older: ``*** Digest: sha256:...``).
DIGEST = re.compile(r"\*\*\* (?:Digest: |Images \()(sha256:[0-9a-f]{64})")
_STEP_ERROR = re.compile(r"error in step `([^`]+)`: (.*)$")
_STEP_HINT = re.compile(r"!\s+hint: (.*)$")


def explain_failure(
    plan: BuildPlan, lines: Sequence[str], exit_code: int, *, tool: str, daemon: bool = False
) -> BuildError:
    """Explain a failed CNB build (pack's or the creator's) from its last output lines.

    Args:
        plan: The build.
        lines: The last lines it printed.
        exit_code: How the tool exited.
        tool: The tool as messages name it, e.g. "`pack build`".
        daemon: The build ran through a container daemon (pack), which may be
            what could not be reached.
    """
    for i, text in enumerate(lines):
        step = _STEP_ERROR.search(text)
        if step:
            hint = next(
                (m.group(1) for t in lines[i + 1 : i + 3] if (m := _STEP_HINT.search(t))),
                "See the build output above.",
            )
            return BuildError(
                f"Building `{plan.app}` failed in step `{step.group(1)}`: {step.group(2)}", hint
            )
    text = "\n".join(lines)
    if "No buildpack groups passed detection" in text:
        return BuildError(
            f"No buildpack of `{plan.builder}` recognised the app `{plan.app}`.",
            f"To build with the paas builder, {NO_APP_HINT}.",
        )
    if "failed to fetch builder image" in text or "image not found" in text.lower():
        return BuildError(
            f"The builder `{plan.builder}` is not available to the daemon.",
            "Create it with `paas builder create`, or name another with `--builder`.",
        )
    if "connect: connection refused" in text or "Cannot connect" in text:
        if daemon:
            return BuildError(
                f"{tool} could not reach the container daemon or the registry.",
                "Check `DOCKER_HOST` (podman: `podman system service`) and that the registry "
                "is up.",
            )
        return BuildError(
            f"{tool} could not reach the registry `{plan.registry}`.",
            "Check that the registry is up and that the cluster's pods reach it by that name.",
        )
    last = next((t.strip() for t in reversed(lines) if t.strip()), "")
    return BuildError(
        f"{tool[0].upper()}{tool[1:]} of `{plan.app}` exited {exit_code}: {last}",
        "See the build output above.",
    )
