"""Release records: what each release of an app was, and the rules over the history (pure).

A release is immutable once it has ended: its image, config, app spec and the
objects it rendered. Only `status` moves, from `pending` to `succeeded` or
`failed`. The store in `paas.kube.store` keeps each record in a Secret, since
it holds config values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from paas.manifest import AppSpec
from paas.settings import Release

Status = Literal["pending", "succeeded", "failed"]
Change = Literal["deploy", "config", "scale", "domains", "rollback", "restart"]


class ReleaseRecord(BaseModel):
    """One release of an app, as `paas releases` shows it."""

    model_config = ConfigDict(extra="forbid")

    version: int
    change: Change
    description: str
    image: str
    image_kind: Literal["cnb", "dockerfile"] = "cnb"
    commit: str = ""
    author: str = ""
    created: str = ""  # RFC 3339, UTC
    status: Status = "pending"
    failure: str = ""
    pod_version: int | None = None
    first_deploy: bool = False
    config: dict[str, str] = Field(default_factory=dict, repr=False)
    app: AppSpec

    @property
    def name(self) -> str:
        """`v3`."""
        return f"v{self.version}"

    def release(self) -> Release:
        """The render input of this record."""
        return Release(
            version=self.version,
            image=self.image,
            config=self.config,
            commit=self.commit,
            image_kind=self.image_kind,
            pod_version=self.pod_version,
            first_deploy=self.first_deploy,
        )

    def summary(self) -> dict[str, Any]:
        """What `paas releases --json` prints: everything but config values."""
        data = self.model_dump(exclude={"config", "app"})
        data["version"] = self.name
        data["config_keys"] = sorted(self.config)
        data["processes"] = {p.name: p.replicas for p in self.app.processes.values()}
        return data


def next_version(history: Sequence[ReleaseRecord]) -> int:
    """The number of the next release: one more than the highest ever recorded."""
    return max((r.version for r in history), default=0) + 1


def current(history: Sequence[ReleaseRecord]) -> ReleaseRecord | None:
    """The release serving now: the newest one that succeeded."""
    done = [r for r in history if r.status == "succeeded"]
    return max(done, key=lambda r: r.version) if done else None


def find_release(history: Sequence[ReleaseRecord], app: str, version: int) -> ReleaseRecord:
    """Release `version` of `app` from its history.

    Raises:
        NotFoundError: it is not (or no longer) in the history.
    """
    from paas.errors import NotFoundError

    for record in history:
        if record.version == version:
            return record
    raise NotFoundError(
        f"release v{version} of `{app}` is not in the history",
        "See `paas releases` for the ones kept.",
    )


def to_prune(history: Sequence[ReleaseRecord], keep: int) -> list[ReleaseRecord]:
    """The records beyond the newest `keep`, never the current one or one its pods run."""
    newest = sorted(history, key=lambda r: r.version, reverse=True)
    live = current(history)
    protected = {live.version, live.pod_version} if live else set()
    return [r for r in newest[keep:] if r.version not in protected]


def describe_deploy(commit: str, image: str) -> str:
    """`Deploy 3f2a1c9`, or the image when there is no commit."""
    if commit:
        return f"Deploy {commit[:7]}"
    name, _, digest = image.rsplit("/", 1)[-1].partition("@")
    return f"Deploy {name}@{digest.removeprefix('sha256:')[:7]}" if digest else f"Deploy {name}"
