"""The app manifest: paas.yaml, the Procfile and Heroku's app.json, merged into an `AppSpec`.

Pure: reads the files of one app directory and returns data. Merge rules,
strongest first: paas.yaml, then the Procfile, then app.json, then what
detection found. Every error names the file, the line and the path of the
bad value, like ``paas.yaml:7: processes.web.port: must be an integer``.
"""

from __future__ import annotations

import difflib
import json
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from paas.errors import ManifestError, NothingToBuildError
from paas.names import (
    DNS_LABEL,
    ENV_NAME,
    app_name_problem,
    process_name_problem,
    suggest_app_name,
)

MANIFEST_FILE = "paas.yaml"
PROCFILE = "Procfile"
APP_JSON = "app.json"

Size = Literal["nano", "small", "medium", "large", "xlarge"]
SIZES: tuple[str, ...] = get_args(Size)
DEFAULT_SIZE = "small"
DEFAULT_PORT = 5000

# Heroku dyno sizes, so an app.json formation needs no translation: each maps to the
# smallest size with at least the dyno's memory (capped at xlarge).
HEROKU_SIZES: dict[str, str] = {
    "eco": "medium",
    "free": "medium",
    "hobby": "medium",
    "basic": "medium",
    "standard-1x": "medium",
    "standard-2x": "large",
    "performance-m": "xlarge",
    "performance-l": "xlarge",
    "performance-l-ram": "xlarge",
    "performance-xl": "xlarge",
    "performance-2xl": "xlarge",
    "private-s": "large",
    "private-m": "xlarge",
    "private-l": "xlarge",
    "shield-s": "large",
    "shield-m": "xlarge",
    "shield-l": "xlarge",
}

_HOSTNAME = re.compile(
    r"^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$"
)
_CRON_MACRO = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_CRON_FIELD = re.compile(r"^[\d*/,\-A-Za-z?]+$")


# ---------------------------------------------------------------------------
# paas.yaml as written: strict models, unknown keys are errors


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
        if not DNS_LABEL.match(value) or len(value) > 30:
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
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
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
        for host in value:
            if len(host) > 253 or not _HOSTNAME.match(host):
                raise ValueError(f"`{host}` is not a host name like `www.example.com`")
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


# ---------------------------------------------------------------------------
# Heroku's app.json: the parts paas uses; the rest of its documented keys are accepted


class _AppJsonEnv(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str | None = None
    value: str | None = None
    required: bool = True
    generator: Literal["secret"] | None = None

    @field_validator("value", mode="before")
    @classmethod
    def _scalar(cls, value: Any) -> Any:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value) if isinstance(value, int | float) else value


class _AppJsonFormation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    quantity: int | None = Field(None, ge=0, le=100)
    size: str | None = None

    @field_validator("size")
    @classmethod
    def _size(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in HEROKU_SIZES and value not in SIZES:
            known = ", ".join(sorted({*HEROKU_SIZES, *SIZES}))
            raise ValueError(f"`{value}` is not a dyno size; use one of {known}")
        return value


class _AppJsonScripts(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    postdeploy: str | None = None


class _AppJsonCron(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str
    schedule: str


class AppJson(BaseModel):
    """Heroku's app.json; keys paas does not use are accepted and ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    description: str | None = None
    keywords: list[str] = Field(default_factory=list)
    website: str | None = None
    repository: str | None = None
    logo: str | None = None
    success_url: str | None = None
    stack: str | None = None
    image: str | None = None
    buildpacks: list[dict[str, Any]] = Field(default_factory=list)
    addons: list[Any] = Field(default_factory=list)
    environments: dict[str, Any] = Field(default_factory=dict)
    scripts: _AppJsonScripts = Field(default_factory=_AppJsonScripts)
    env: dict[str, _AppJsonEnv] = Field(default_factory=dict)
    formation: dict[str, _AppJsonFormation] = Field(default_factory=dict)
    cron: list[_AppJsonCron] = Field(default_factory=list)

    @field_validator("env", mode="before")
    @classmethod
    def _env(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not ENV_NAME.match(key):
                raise ValueError(f"`{key}` is not an environment variable name")
            out[key] = {"value": item, "required": False} if not isinstance(item, Mapping) else item
        return out


# ---------------------------------------------------------------------------
# The merged result


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
    postdeploy: str | None = None
    language: str | None = None
    dockerfile: str | None = None  # the Dockerfile to build with, when not buildpacks
    sources: tuple[str, ...] = ()  # the files that were read, strongest first

    @property
    def image_kind(self) -> Literal["cnb", "dockerfile"]:
        """What its images are: built from its Dockerfile, or by buildpacks."""
        return "dockerfile" if self.dockerfile else "cnb"


# ---------------------------------------------------------------------------
# Reading files with places


@dataclass(frozen=True)
class ProcfileEntry:
    """One `type: command` line of a Procfile."""

    name: str
    command: str
    line: int


_PROCFILE_LINE = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s*(.*)$")


def parse_procfile(text: str, file: str = PROCFILE) -> dict[str, ProcfileEntry]:
    """Parse a Procfile into its entries, keyed by process type.

    Raises:
        ManifestError: on a line that is not `type: command`, a bad or repeated
            type, an empty command, or a file with no entries at all.
    """
    entries: dict[str, ProcfileEntry] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _PROCFILE_LINE.match(line)
        if not match:
            raise ManifestError(
                f"cannot read `{line}`",
                "Each line must be `type: command`, like `web: gunicorn app:app`.",
                file=file,
                line=number,
            )
        name, command = match.group(1), match.group(2).strip()
        if name != "release" and (problem := process_name_problem(name)):
            raise ManifestError(
                f"process type `{name}` {problem}",
                f"Rename it, for example to `{suggest_app_name(name)}`.",
                file=file,
                line=number,
            )
        if not command:
            raise ManifestError(
                f"process type `{name}` has no command",
                f"Write the command after `{name}:`.",
                file=file,
                line=number,
            )
        if name in entries:
            first = entries[name].line
            raise ManifestError(
                f"process type `{name}` is defined twice (first on line {first})",
                "Keep one of the two lines.",
                file=file,
                line=number,
            )
        entries[name] = ProcfileEntry(name, command, number)
    if not entries:
        raise ManifestError(
            "the Procfile defines no process types",
            "Add a line like `web: gunicorn app:app`, or delete the empty file.",
            file=file,
        )
    return entries


def _load_yaml(text: str, file: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML into data and its node tree (for line numbers); reject repeated keys."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ManifestError(
            f"cannot parse YAML: {problem}",
            "Check the indentation and quoting on that line.",
            file=file,
            line=line,
        ) from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"cannot parse YAML: {exc}", file=file) from None
    if node is not None:
        _reject_repeated_keys(node, file, ())
    return data, node


def _reject_repeated_keys(node: yaml.Node, file: str, path: tuple[str | int, ...]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                raise ManifestError(
                    f"key `{name}` appears twice (first on line {seen[name]})",
                    "Keep one of the two.",
                    file=file,
                    line=key.start_mark.line + 1,
                    path=_dotted(path),
                )
            seen[name] = key.start_mark.line + 1
            _reject_repeated_keys(value, file, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _reject_repeated_keys(item, file, (*path, index))


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if part == "[key]":
            continue
        out += (
            f"[{part}]"
            if isinstance(part, int) and not isinstance(part, bool)
            else (f".{part}" if out else str(part))
        )
    return out


def _line_of(node: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """The 1-based line of the value at `path`, or of its nearest written parent."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _fields_at(model: Any, path: Sequence[str | int]) -> list[str]:
    """The keys a model accepts at `path`, for did-you-mean suggestions."""
    current: Any = model
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part)) or next(
                (f for f in current.model_fields.values() if f.alias == part), None
            )
            if info is None:
                return []
            current = info.annotation
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [
            f.alias or name for name, f in current.model_fields.items() if not name.startswith("_")
        ]
    return []


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


_BOUNDS = {
    "greater_than_equal": "greater than or equal to",
    "less_than_equal": "less than or equal to",
    "greater_than": "greater than",
    "less_than": "less than",
}

_TYPE_MESSAGES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "list_type": "must be a list",
    "missing": "is required",
}


def _non_text_key(node: yaml.Node | None, path: Sequence[str | int]) -> str | None:
    """The first key under `path` that YAML does not read as a string, as written."""
    for part in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if str(k.value) == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if key.tag != "tag:yaml.org,2002:str":
                return str(key.value)
    return None


def _yaml_type(raw: str) -> str:
    value = yaml.safe_load(raw)
    return {bool: "boolean", int: "number", float: "number"}.get(type(value), "non-string")


def _explain(
    error: Mapping[str, Any], model: Any, node: yaml.Node | None = None
) -> tuple[tuple[str | int, ...], str, str]:
    """Turn one pydantic error into (path, message, hint) in the user's words."""
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(key, known, n=1)
        hint = (
            f"Did you mean `{close[0]}`?"
            if close
            else f"Known keys here: {', '.join(f'`{k}`' for k in known)}."
            if known
            else ""
        )
        return loc, f"unknown key `{key}`", hint
    if kind == "literal_error":
        allowed = error.get("ctx", {}).get("expected", "")
        return loc, f"must be one of {allowed}", ""
    if kind in _BOUNDS:
        bound = next(iter(error.get("ctx", {}).values()), "")
        return loc, f"must be {_BOUNDS[kind]} {bound}", ""
    if loc and loc[-1] == "[key]" and kind != "value_error":
        raw = _non_text_key(node, loc[:-2]) or str(loc[-2])
        return (
            loc[:-2],
            f"key `{raw}` is read by YAML as a {_yaml_type(raw)}, not as text",
            "Put the key in quotes.",
        )
    if kind == "value_error":
        msg = str(error.get("ctx", {}).get("error", error["msg"]))
        return loc, msg, ""
    return loc, _TYPE_MESSAGES.get(kind, str(error["msg"]).lower()), ""


def _validate(model: type[BaseModel], data: Any, node: yaml.Node | None, file: str) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ManifestError(
            "must be a mapping of keys like `name:` and `processes:`", file=file, line=1
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        loc, message, hint = _explain(errors[0], model, node)
        if len(errors) > 1:
            more = len(errors) - 1
            hint = f"{hint} ({more} more problem{'s' if more > 1 else ''} after this one.)".strip()
        raise ManifestError(
            message, hint, file=file, line=_line_of(node, loc), path=_dotted(loc)
        ) from None


def parse_model(model: type[BaseModel], text: str, file: str) -> Any:
    """Parse YAML text into `model`; errors carry the file, line and path."""
    data, node = _load_yaml(text, file)
    return _validate(model, data, node, file)


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
    data, node = _load_yaml(text, file)
    _env_as_written(data, node, ("env",))
    _env_as_written(data, node, ("build", "env"))
    manifest: Manifest = _validate(Manifest, data, node, file)
    return manifest, node


def read_app_json(text: str, file: str = APP_JSON) -> AppJson:
    """Parse and check Heroku's app.json text."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"cannot parse JSON: {exc.msg}",
            "Fix the JSON syntax on that line.",
            file=file,
            line=exc.lineno,
        ) from None
    # JSON is YAML, so the YAML node tree gives line numbers for validation errors.
    try:
        data, node = _load_yaml(text, file)
    except ManifestError:
        data, node = json.loads(text), None
    app_json: AppJson = _validate(AppJson, data, node, file)
    return app_json


# ---------------------------------------------------------------------------
# Merging


def load_app(path: Path, *, name: str | None = None, detect_language: bool = True) -> AppSpec:
    """Read an app directory and merge its files into an `AppSpec`.

    Args:
        path: The app directory.
        name: The app name from `--app`; wins over paas.yaml and the directory name.
        detect_language: Insist on a recognisable language (something to build).
            When false (a prebuilt image is deployed) detection still gives the
            defaults where it can, but a directory with nothing to build is fine.

    Raises:
        ManifestError: a file is invalid or the app has no start command.
        DetectError: nothing to build and no Dockerfile (only when detecting).
    """
    from paas.detect import Detection, detect

    root = Path(path)
    sources: list[str] = []
    manifest, node = Manifest(), None
    if (root / MANIFEST_FILE).is_file():
        manifest, node = read_manifest((root / MANIFEST_FILE).read_text(), MANIFEST_FILE)
        sources.append(MANIFEST_FILE)
    procfile: dict[str, ProcfileEntry] = {}
    if (root / PROCFILE).is_file():
        procfile = parse_procfile((root / PROCFILE).read_text(), PROCFILE)
        sources.append(PROCFILE)
    app_json = AppJson()
    if (root / APP_JSON).is_file():
        app_json = read_app_json((root / APP_JSON).read_text(), APP_JSON)
        sources.append(APP_JSON)

    app_name = name or manifest.name or suggest_app_name(root.resolve().name)
    if problem := app_name_problem(app_name):
        suggestion = suggest_app_name(app_name)
        raise ManifestError(
            f"app name `{app_name}` {problem}",
            (
                f"Pick another, like `{suggestion}`."
                if suggestion not in (app_name, "app")
                else "Pick another with `--app`, or set `name:` in paas.yaml."
            ),
        )

    dockerfile = manifest.build.dockerfile
    if dockerfile is not None and not (root / manifest.build.path / dockerfile).is_file():
        raise ManifestError(
            f"`{dockerfile}` does not exist",
            "Fix the path; it is relative to `build.path`.",
            file=MANIFEST_FILE,
            line=_line_of(node, ("build", "dockerfile")),
            path="build.dockerfile",
        )
    detection: Detection | None = None
    if dockerfile is None:
        try:
            detection = detect(root / manifest.build.path)
        except NothingToBuildError:
            # A Procfile or paas.yaml commands are enough to run a prebuilt image, and
            # so is the image's own command; a broken package.json is still an error
            # (DetectError is not caught).
            if manifest.processes or procfile or not detect_language:
                detection = None
            else:
                raise
        if detection is not None and detection.language == "dockerfile":
            dockerfile = next(e.file for e in detection.evidence)

    processes = _merge_processes(
        app_name,
        manifest,
        node,
        procfile=procfile,
        app_json=app_json,
        detection=detection,
        image_has_command=dockerfile is not None or not detect_language,
    )
    required = tuple(
        k
        for k, v in app_json.env.items()
        if v.required and v.value is None and v.generator is None and k not in manifest.env
    )
    generated = tuple(k for k, v in app_json.env.items() if v.generator == "secret")
    env = {k: v.value for k, v in app_json.env.items() if v.value is not None}
    env.update(manifest.env)

    release_command = manifest.release or (
        procfile["release"].command if "release" in procfile else None
    )
    cron = [
        CronJob(name=c.name, schedule=c.schedule, command=c.command, size=c.size or DEFAULT_SIZE)
        for c in manifest.cron
    ]
    if not cron:
        cron = [
            CronJob(name=f"cron-{i}", schedule=c.schedule, command=c.command, size=DEFAULT_SIZE)
            for i, c in enumerate(app_json.cron, start=1)
        ]
    patches = tuple(
        PatchRule(
            target=p.target,
            merge=p.merge,
            json_ops=p.json_ops,
            place=f"{MANIFEST_FILE}:{_line_of(node, ('kubernetes', 'patches', i))}: "
            f"kubernetes.patches[{i}]",
        )
        for i, p in enumerate(manifest.kubernetes.patches)
    )
    return AppSpec(
        name=app_name,
        processes=processes,
        build=manifest.build,
        release_command=release_command,
        cron=tuple(cron),
        env=env,
        required_env=required,
        generated_env=generated,
        domains=tuple(manifest.domains),
        patches=patches,
        postdeploy=app_json.scripts.postdeploy,
        language=detection.language if detection else ("dockerfile" if dockerfile else None),
        dockerfile=dockerfile,
        sources=tuple(sources),
    )


def _merge_processes(
    app: str,
    manifest: Manifest,
    node: yaml.Node | None,
    *,
    procfile: Mapping[str, ProcfileEntry],
    app_json: AppJson,
    detection: Any,
    image_has_command: bool,
) -> dict[str, Process]:
    names = [n for n in procfile if n != "release"]
    names += [n for n in manifest.processes if n not in names]
    default_web = getattr(detection, "default_web_command", None)
    if "web" not in names and (default_web or (image_has_command and not names)):
        names.insert(0, "web")
    if not names:
        raise ManifestError(
            f"app `{app}` has no start command",
            "Add `web:` to the Procfile or `processes.web.command` to paas.yaml.",
        )

    processes: dict[str, Process] = {}
    for name in names:
        spec = manifest.processes.get(name, ProcessSpec())
        formation = app_json.formation.get(name)
        command = spec.command or (procfile[name].command if name in procfile else None)
        if command is None and name == "web":
            command = default_web
        if command is None and not (image_has_command and name == "web"):
            raise ManifestError(
                f"process type `{name}` has no command",
                f"Add `{name}:` to the Procfile or `processes.{name}.command` to paas.yaml.",
                file=MANIFEST_FILE,
                line=_line_of(node, ("processes", name)),
                path=f"processes.{name}",
            )
        size = spec.size or (
            _heroku_size(formation.size) if formation and formation.size else DEFAULT_SIZE
        )
        replicas = (
            spec.replicas
            if spec.replicas is not None
            else (formation.quantity if formation and formation.quantity is not None else 1)
        )
        healthcheck = spec.healthcheck
        if healthcheck is None:
            healthcheck = Healthcheck(tcp=True) if name == "web" else Healthcheck(disabled=True)
        processes[name] = Process(
            name=name,
            command=command,
            replicas=replicas,
            size=size,
            port=spec.port or DEFAULT_PORT,
            healthcheck=None if healthcheck.disabled else healthcheck,
            autoscale=spec.autoscale,
        )
    return processes


def _heroku_size(size: str) -> str:
    return size if size in SIZES else HEROKU_SIZES[size.lower()]
