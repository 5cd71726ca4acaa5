"""Heroku's app.json: the parts paas uses; the rest of its documented keys are accepted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from paas.errors import ManifestError
from paas.manifest.paas_yaml import SIZES
from paas.names import ENV_NAME
from paas.yaml_places import load_json, load_yaml, validate

APP_JSON = "app.json"

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


def read_app_json(text: str, file: str = APP_JSON) -> AppJson:
    """Parse and check Heroku's app.json text (bounded like paas.yaml, see `load_json`)."""
    parsed = load_json(text, file)
    # JSON is YAML, so the YAML node tree gives line numbers for validation errors.
    try:
        data, node = load_yaml(text, file)
    except ManifestError:
        data, node = parsed, None
    return validate(AppJson, data, node, file)


def heroku_size(size: str) -> str:
    """The paas size of a dyno size from app.json's `formation` (paas's own names pass through)."""
    return size if size in SIZES else HEROKU_SIZES[size.lower()]
