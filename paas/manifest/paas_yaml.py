"""paas.yaml exactly as written: strict models (an unknown key is an error), and its reader.

The models here are also the value types of the decided spec (`paas.manifest.spec`):
a `Healthcheck`, an `Autoscale`, a `BuildSpec` mean the same written or decided.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from paas.names import DNS_LABEL, ENV_NAME, app_name_problem, process_name_problem
from paas.yaml_places import load_yaml, validate

MANIFEST_FILE = "paas.yaml"

Size = Literal["nano", "small", "medium", "large", "xlarge"]
SIZES: tuple[str, ...] = get_args(Size)

_HOSTNAME = re.compile(
    r"^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$"
)
_CRON_MACRO = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Healthcheck(_Model):
    """How readiness is checked: an HTTP path, a TCP connect, or nothing."""

    path: str | None = None
    tcp: bool = False
    disabled: bool = False
    timeout: int = Field(3, ge=1, le=60)
    period: int = Field(10, ge=1, le=300)

    @model_validator(mode="after")
    def _one_kind(self) -> Healthcheck:
        if self.path is not None and not self.path.startswith("/"):
            raise ValueError(f"path `{self.path}` must start with `/`")
        if not self.disabled and (self.path is None) == (not self.tcp):
            raise ValueError("set exactly one of `path` or `tcp: true`")
        return self


class Autoscale(_Model):
    """Horizontal autoscaling on CPU."""

    min: int = Field(ge=1, le=100)
    max: int = Field(ge=1, le=100)
    cpu: int = Field(70, ge=1, le=100)
    # Seconds of lower CPU before the HPA removes pods (its scale-down
    # stabilization window); None leaves the Kubernetes default (300 s).
    scale_down_after: int | None = Field(None, ge=0, le=3600)

    @model_validator(mode="after")
    def _ordered(self) -> Autoscale:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not be greater than max ({self.max})")
        return self


class ProcessSpec(_Model):
    """One process type as paas.yaml writes it; unset fields come from elsewhere."""

    command: str | None = None
    replicas: int | None = Field(None, ge=0, le=100)
    size: Size | None = None
    port: int | None = Field(None, ge=1, le=65535)
    healthcheck: Healthcheck | None = None
    autoscale: Autoscale | None = None

    @field_validator("healthcheck", mode="before")
    @classmethod
    def _healthcheck_shorthand(cls, value: Any) -> Any:
        if value is False or value == "none":
            return {"disabled": True}
        if isinstance(value, str):
            return {"path": value}
        return value

    @field_validator("command")
    @classmethod
    def _command_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be empty")
        return value


class CronSpec(_Model):
    """A scheduled command, run as a Kubernetes CronJob."""

    name: str
    schedule: str
    command: str
    size: Size | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not DNS_LABEL.fullmatch(value) or len(value) > 30:
            raise ValueError(
                f"`{value}` must be a DNS label: lowercase letters, digits and "
                "dashes, at most 30 characters"
            )
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        fields = value.split()
        if value.strip() in _CRON_MACRO:
            return value.strip()
        if len(fields) != 5 or not all(_CRON_FIELD.fullmatch(f) for f in fields):
            raise ValueError(
                f"`{value}` is not a cron schedule; write five fields like "
                "`0 3 * * *` or a macro like `@daily`"
            )
        return value


class BuildSpec(_Model):
    """How the image is built."""

    path: str = "."
    builder: str | None = None
    buildpacks: list[str] = Field(default_factory=list)
    dockerfile: str | None = None
    env: dict[str, str] = Field(default_factory=dict)

    @field_validator("env", mode="before")
    @classmethod
    def _env(cls, value: Any) -> Any:
        return _env_strings(value)

    @field_validator("path", "dockerfile")
    @classmethod
    def _inside(cls, value: str | None) -> str | None:
        """A path relative to the app directory that stays in it (symlinks: `check_build_paths`)."""
        if value is None:
            return None
        if "\0" in value:
            raise ValueError("must not contain a NUL character")
        if value.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", value):
            raise ValueError(
                f"`{value}` is an absolute path; write a path relative to the app directory"
            )
        if ".." in re.split(r"[/\\]", value):
            raise ValueError(
                f"`{value}` leads outside the app directory; a build gets nothing outside it"
            )
        return value


class PatchTarget(_Model):
    """Which rendered objects a patch applies to; every given field must match."""

    kind: str | None = None
    name: str | None = None
    process: str | None = None


class Patch(_Model):
    """An override of rendered objects: a strategic-merge patch or an RFC 6902 JSON patch."""

    target: PatchTarget
    merge: dict[str, Any] | None = None
    json_ops: list[dict[str, Any]] | None = Field(None, alias="json")

    @model_validator(mode="after")
    def _one_kind(self) -> Patch:
        if (self.merge is None) == (self.json_ops is None):
            raise ValueError("set exactly one of `merge` or `json`")
        return self


class KubernetesSpec(_Model):
    """The escape hatch: overrides applied to the rendered objects."""

    patches: list[Patch] = Field(default_factory=list)
    # A read-only root filesystem with only /tmp writable; None: the cluster settings'.
    read_only_root: bool | None = None
    # How requests reach the app: an Ingress or a Gateway API HTTPRoute; None: the
    # cluster settings' `routing`.
    routing: Literal["ingress", "gateway"] | None = None


def _check_process_name(name: str) -> str:
    if name == "release":
        raise ValueError(
            "`release` is the release phase: write it as top-level `release:`, not as a process"
        )
    if problem := process_name_problem(name):
        raise ValueError(f"process type `{name}` {problem}")
    return name


ProcessName = Annotated[str, AfterValidator(_check_process_name)]


class Manifest(_Model):
    """paas.yaml exactly as written."""

    name: str | None = None
    build: BuildSpec = Field(default_factory=BuildSpec)
    processes: dict[ProcessName, ProcessSpec] = Field(default_factory=dict)
    release: str | None = None
    cron: list[CronSpec] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    domains: list[str] = Field(default_factory=list)
    kubernetes: KubernetesSpec = Field(default_factory=KubernetesSpec)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and (problem := app_name_problem(value)):
            raise ValueError(f"`{value}` {problem}")
        return value

    @field_validator("env", mode="before")
    @classmethod
    def _env(cls, value: Any) -> Any:
        return _env_strings(value)

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        from paas.arguments import check_host
        from paas.errors import UsageError

        for host in value:
            if len(host) > 253 or not _HOSTNAME.fullmatch(host):
                raise ValueError(f"`{host}` is not a host name like `www.example.com`")
            try:  # the same rules as `paas domains add`: no IP address, no single label
                check_host(host)
            except UsageError as exc:
                raise ValueError(exc.message) from None
        if len(set(value)) != len(value):
            raise ValueError("lists a domain twice")
        return value

    @field_validator("cron")
    @classmethod
    def _cron_names(cls, value: list[CronSpec]) -> list[CronSpec]:
        seen: set[str] = set()
        for job in value:
            if job.name in seen:
                raise ValueError(f"cron job `{job.name}` is defined twice")
            seen.add(job.name)
        return value


def _env_strings(value: Any) -> Any:
    """Accept numbers and booleans as env values, written the way a shell would see them."""
    if not isinstance(value, Mapping):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not ENV_NAME.match(key):
            raise ValueError(
                f"`{key}` is not an environment variable name "
                "(letters, digits and `_`, not starting with a digit)"
            )
        if isinstance(item, bool):
            out[key] = "true" if item else "false"
        elif isinstance(item, int | float):
            out[key] = str(item)
        else:
            out[key] = item
    return out


def _env_as_written(data: Any, node: yaml.Node | None, path: tuple[str, ...]) -> None:
    """Keep env values as the user typed them: `3.10` stays "3.10", `yes` stays "yes".

    YAML would read such plain scalars as numbers or booleans; a shell would not.
    """
    target = data
    for part in path:
        if not isinstance(target, dict) or part not in target:
            return
        target = target[part]
        found = (
            next((v for k, v in getattr(node, "value", []) if k.value == part), None)
            if isinstance(node, yaml.MappingNode)
            else None
        )
        node = found
    if not isinstance(target, dict) or not isinstance(node, yaml.MappingNode):
        return
    for key, value in node.value:
        if (
            isinstance(value, yaml.ScalarNode)
            and value.tag not in {"tag:yaml.org,2002:str", "tag:yaml.org,2002:null"}
            and key.value in target
        ):
            target[key.value] = value.value


def read_manifest(text: str, file: str = MANIFEST_FILE) -> tuple[Manifest, yaml.Node | None]:
    """Parse and check paas.yaml text; return the model and its node tree."""
    data, node = load_yaml(text, file)
    _env_as_written(data, node, ("env",))
    _env_as_written(data, node, ("build", "env"))
    return validate(Manifest, data, node, file), node
