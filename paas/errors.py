"""The one error hierarchy of paas, and the exit codes it maps to.

Every failure a user can cause or meet is a `PaasError` with a one-sentence
message and a hint saying what to do. The CLI catches them in one place
(`paas.cli.main`) and exits with the error's `exit_code`. docs/exit-codes.md
lists the codes; a unit test keeps that page and this enum in step.
"""

from __future__ import annotations

import copy
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, stable and documented in docs/exit-codes.md."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    MANIFEST = 3
    DETECT = 4
    RENDER = 5
    CLUSTER = 6
    BUILD = 7
    RELEASE_PHASE = 8
    ROLLOUT = 9
    BUSY = 10
    NOT_FOUND = 11
    REGISTRY = 12
    PLAN_DRIFT = 13
    INTERRUPTED = 130


class PaasError(Exception):
    """An error the user can act on.

    Args:
        message: One sentence saying what went wrong, names in backticks.
        hint: What to do about it; empty when the message already says.
    """

    exit_code: ExitCode = ExitCode.FAILURE
    kind: str = "error"
    #: The release the failing change had recorded (`v7`), when it got that far.
    release: str | None = None

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()

    def wrap(self, context: str) -> PaasError:
        """Return the same kind of error with `context` in front of the message."""
        wrapped = copy.copy(self)
        wrapped.message = f"{context}: {self.message}"
        wrapped.args = (wrapped.message,)
        return wrapped


class UsageError(PaasError):
    """The command line itself is wrong."""

    exit_code = ExitCode.USAGE
    kind = "usage"


class ManifestError(PaasError):
    """paas.yaml, the Procfile or app.json is invalid; carries the place."""

    exit_code = ExitCode.MANIFEST
    kind = "manifest"

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        file: str = "",
        line: int | None = None,
        path: str = "",
    ) -> None:
        place = file + (f":{line}" if line is not None and file else "")
        where = ": ".join(p for p in (place, path) if p)
        super().__init__(f"{where}: {message}" if where else message, hint)
        self.file = file
        self.line = line
        self.path = path


class DetectError(PaasError):
    """No language or Dockerfile could be recognised in the app directory."""

    exit_code = ExitCode.DETECT
    kind = "detect"


class NothingToBuildError(DetectError):
    """The directory holds no supported language and no Dockerfile (not a broken file)."""


class RenderError(PaasError):
    """The app cannot be turned into Kubernetes objects (e.g. a patch matched nothing)."""

    exit_code = ExitCode.RENDER
    kind = "render"


class PolicyError(RenderError):
    """A rendered object breaks the cluster's policy (namespace, kinds, Pod Security, domains)."""

    kind = "policy"


class ClusterError(PaasError):
    """The cluster could not be reached, or refused a request."""

    exit_code = ExitCode.CLUSTER
    kind = "cluster"


class BuildError(PaasError):
    """The image build failed."""

    exit_code = ExitCode.BUILD
    kind = "build"


class ReleasePhaseError(PaasError):
    """The release-phase command exited non-zero; the rollout did not happen."""

    exit_code = ExitCode.RELEASE_PHASE
    kind = "release-phase"


class RolloutError(PaasError):
    """The new release did not become ready; carries the reason class and last log lines."""

    exit_code = ExitCode.ROLLOUT
    kind = "rollout"

    def __init__(
        self,
        message: str,
        hint: str = "",
        *,
        reason: str = "Timeout",
        log_lines: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, hint)
        self.reason = reason
        self.log_lines = log_lines


class BusyError(PaasError):
    """Another operation holds the app's lock and did not release it in time."""

    exit_code = ExitCode.BUSY
    kind = "busy"


class NotFoundError(PaasError):
    """An app, release, domain or config var does not exist."""

    exit_code = ExitCode.NOT_FOUND
    kind = "not-found"


class RegistryError(PaasError):
    """The image registry could not be reached or refused credentials."""

    exit_code = ExitCode.REGISTRY
    kind = "registry"


class ImageNotFoundError(RegistryError):
    """The registry has no such repository or tag."""


class PlanDriftError(PaasError):
    """The cluster no longer matches the plan a change was asked to apply; nothing was changed."""

    exit_code = ExitCode.PLAN_DRIFT
    kind = "plan-drift"
