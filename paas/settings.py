"""Team-wide cluster settings and the release being rendered.

`ClusterSettings` is what `paas cluster init` stores in the cluster and every
command reads; here it is plain data so that rendering stays pure. Without a
cluster (`paas render` on a laptop) the defaults describe a local cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TLSSettings(BaseModel):
    """How Ingresses get certificates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["none", "cert-manager", "secret"] = "none"
    issuer: str | None = None  # cert-manager ClusterIssuer, with mode cert-manager
    secret: str | None = None  # a TLS Secret in each app namespace, with mode secret

    @model_validator(mode="after")
    def _complete(self) -> TLSSettings:
        if self.mode == "cert-manager" and not self.issuer:
            raise ValueError("tls mode `cert-manager` needs `issuer`, a ClusterIssuer name")
        if self.mode == "secret" and not self.secret:
            raise ValueError("tls mode `secret` needs `secret`, the name of a TLS Secret")
        return self


class ClusterSettings(BaseModel):
    """Settings shared by everyone who deploys to one cluster."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: str = "localhost"
    registry: str = "localhost:5000"
    builder: str = "paas/builder"
    ingress_class: str | None = None
    tls: TLSSettings = Field(default_factory=TLSSettings)
    insecure_registry: bool = False
    namespace_prefix: str = ""
    history: int = Field(20, ge=2, le=1000)

    def namespace(self, app: str) -> str:
        """The namespace that holds everything of `app`."""
        return f"{self.namespace_prefix}{app}"

    def app_host(self, app: str) -> str:
        """The default host name of `app`: `APP.DOMAIN`."""
        return f"{app}.{self.domain}"


class Release(BaseModel):
    """The release a render is for: which image, which config, which version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    image: str
    config: dict[str, str] = Field(default_factory=dict)
    commit: str = ""
    image_kind: Literal["cnb", "dockerfile"] = "cnb"
    # A release that changes neither image nor config (a scale, a domain change) keeps
    # the pods of the release they run, so that it restarts nothing.
    pod_version: int | None = None
    # app.json's postdeploy script runs after the app's first successful deploy; by
    # default that is v1, but a push after a failed v1 is the first one too.
    first_deploy: bool | None = None

    @property
    def name(self) -> str:
        """The release as users write it: `v3`."""
        return f"v{self.version}"

    @property
    def pod_name(self) -> str:
        """The release the pods run: its image, its config, its `PAAS_RELEASE`."""
        return f"v{self.pod_version or self.version}"


def read_settings(text: str, file: str) -> ClusterSettings:
    """Parse cluster settings from YAML (or JSON) text; errors name the file and line."""
    from paas.manifest import parse_model

    settings: ClusterSettings = parse_model(ClusterSettings, text, file)
    return settings


def settings_from_file(path: Path | None) -> ClusterSettings:
    """The settings in the file `path` (`--settings`), else the local defaults."""
    return read_settings(path.read_text(), str(path)) if path else ClusterSettings()


def image_repository(settings: ClusterSettings, app: str) -> str:
    """Where the images of `app` are pushed: `REGISTRY/APP`."""
    return f"{settings.registry}/{app}"
