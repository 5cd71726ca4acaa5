"""The decided app: every file merged, every default filled in (`AppSpec`).

A release keeps the `AppSpec` it was made from, so these models serialise and
read back exactly; `paas.manifest.merge` makes them from the app's files.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from paas.manifest.paas_yaml import Autoscale, BuildSpec, Healthcheck, PatchTarget

DEFAULT_SIZE = "small"
DEFAULT_PORT = 5000


class _Spec(BaseModel):
    """A decided value: serialisable, so a release can keep the spec it was made from."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Process(_Spec):
    """One process type of the app, every field decided."""

    name: str
    command: str | None  # None: the image's own command (Dockerfile apps)
    replicas: int
    size: str
    port: int
    healthcheck: Healthcheck | None  # None: no probes
    autoscale: Autoscale | None


class CronJob(_Spec):
    """A scheduled command, every field decided."""

    name: str
    schedule: str
    command: str
    size: str


class PatchRule(_Spec):
    """A patch from paas.yaml with the place it was written, for errors."""

    target: PatchTarget
    merge: dict[str, Any] | None
    json_ops: list[dict[str, Any]] | None
    place: str  # e.g. "paas.yaml:14: kubernetes.patches[0]"


class AppSpec(_Spec):
    """Everything paas knows about an app from its files, merged and checked."""

    name: str
    processes: dict[str, Process]
    build: BuildSpec = Field(default_factory=BuildSpec)
    release_command: str | None = None
    cron: tuple[CronJob, ...] = ()
    env: dict[str, str] = Field(default_factory=dict)
    required_env: tuple[str, ...] = ()
    generated_env: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    patches: tuple[PatchRule, ...] = ()
    read_only_root: bool | None = None  # None: as the cluster settings say
    routing: Literal["ingress", "gateway"] | None = None  # None: as the cluster settings say
    postdeploy: str | None = None
    # The process types whose paas.yaml sets `replicas`; a push keeps the live
    # count (from `paas ps scale`) of the others, as Heroku keeps the formation.
    declared_replicas: tuple[str, ...] = ()
    language: str | None = None
    dockerfile: str | None = None  # the Dockerfile to build with, when not buildpacks
    sources: tuple[str, ...] = ()  # the files that were read, strongest first

    @property
    def image_kind(self) -> Literal["cnb", "dockerfile"]:
        """What its images are: built from its Dockerfile, or by buildpacks."""
        return "dockerfile" if self.dockerfile else "cnb"
