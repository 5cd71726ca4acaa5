"""Team-wide cluster settings: what `paas cluster init` stores and every command reads.

Plain data, so that rendering and build planning stay pure. Commands get them
through `paas.kube.store.settings_for()`: the cluster's, or the defaults below
(a local cluster) only when no cluster answers, and then they say so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: A Gateway as cluster settings name it: `NAMESPACE/NAME` (a DNS label, then a DNS name).
GATEWAY_REF = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?"


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


class MirrorSettings(BaseModel):
    """Dependency mirrors per ecosystem, for clusters that cannot reach the public registries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pip: str | None = None  # a PEP 503 simple index, e.g. https://pypi.internal/simple
    npm: str | None = None  # an npm registry
    go: str | None = None  # a GOPROXY value: URLs, `direct` or `off`, comma-separated
    maven: str | None = None  # a Maven repository that mirrors Maven Central
    gems: str | None = None  # a RubyGems source that mirrors rubygems.org
    composer: str | None = None  # a Composer repository that mirrors Packagist
    credentials: str | None = None  # a Secret in paas-system: ECOSYSTEM-username/-password keys

    @model_validator(mode="after")
    def _urls(self) -> MirrorSettings:
        for name in ("pip", "npm", "maven", "gems", "composer"):
            url = getattr(self, name)
            if url is not None and not url.startswith(("https://", "http://")):
                raise ValueError(f"mirror `{name}` must be an http(s) URL, not `{url}`")
            if url is not None and "@" in url.split("/")[2]:
                raise ValueError(
                    f"mirror `{name}` has credentials in its URL: put them in the Secret "
                    "that `mirrors.credentials` names"
                )
        return self


#: The exceptions to Pod Security "restricted" a platform engineer can allow by name.
POLICY_EXCEPTIONS = (
    "privileged",
    "host-namespaces",
    "host-path",
    "host-ports",
    "capabilities",
    "privilege-escalation",
    "run-as-root",
    "seccomp",
    "volume-types",
    "sysctls",
    "security-profiles",
    "pod-security-labels",
)


class PolicySettings(BaseModel):
    """What a platform engineer allows apps beyond paas's defaults (see paas/render/policy.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Pod Security "restricted" exceptions by name, e.g. ``privileged``, ``host-path``.
    allow: tuple[str, ...] = ()
    #: Kinds a patch may turn an object into, as ``group/Kind`` (``Kind`` for the core group).
    kinds: tuple[str, ...] = ()
    #: Custom domains may be wildcards (``*.example.com``).
    wildcard_domains: bool = False
    #: Custom domains may be the cluster domain or inside it.
    cluster_domain: bool = False

    @model_validator(mode="after")
    def _known(self) -> PolicySettings:
        for name in self.allow:
            if name not in POLICY_EXCEPTIONS:
                raise ValueError(
                    f"`{name}` is not a policy exception; the exceptions are: "
                    + ", ".join(POLICY_EXCEPTIONS)
                )
        return self


class AddonImages(BaseModel):
    """The images the built-in add-on provider runs (upstream's by default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    postgres: str = "postgres:16"
    redis: str = "redis:7"


class ClusterSettings(BaseModel):
    """Settings shared by everyone who deploys to one cluster."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    domain: str = "localhost"
    registry: str = "localhost:5000"
    builder: str = "paas/builder"
    #: The image that builds Dockerfile apps in the cluster (kaniko's executor);
    #: ``paas/...`` names resolve in the registry like `builder`.
    dockerfile_builder: str = "paas/dockerfile-builder"
    ingress_class: str | None = None
    tls: TLSSettings = Field(default_factory=TLSSettings)
    insecure_registry: bool = False
    namespace_prefix: str = ""
    history: int = Field(20, ge=2, le=1000)
    read_only_root: bool = False
    #: Seconds the router takes to act on an endpoint change (Traefik's
    #: `providersThrottleDuration`, 2 s by default): a change says "Released"
    #: only once the old pods left the EndpointSlices and this much time passed.
    router_settle_seconds: float = Field(2.0, ge=0, le=60)
    #: How requests reach apps: an Ingress each, or a Gateway API HTTPRoute each
    #: attached to `gateway` (`NAMESPACE/NAME`); paas.yaml's `kubernetes.routing`
    #: overrides it per app.
    routing: Literal["ingress", "gateway"] = "ingress"
    gateway: str = Field("", pattern=rf"^$|^{GATEWAY_REF}$")

    @model_validator(mode="after")
    def _gateway_named(self) -> ClusterSettings:
        if self.routing == "gateway" and not self.gateway:
            raise ValueError("routing `gateway` needs `gateway`, the Gateway as NAMESPACE/NAME")
        return self

    mirrors: MirrorSettings = Field(default_factory=MirrorSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    addon_images: AddonImages = Field(default_factory=AddonImages)

    def namespace(self, app: str) -> str:
        """The namespace that holds everything of `app`."""
        return f"{self.namespace_prefix}{app}"

    def app_host(self, app: str) -> str:
        """The default host name of `app`: `APP.DOMAIN`."""
        return f"{app}.{self.domain}"


def parse_settings(text: str, file: str) -> ClusterSettings:
    """Parse cluster settings from YAML (or JSON) text; errors name the file and line."""
    from paas.yaml_places import parse_model

    return parse_model(ClusterSettings, text, file)


def settings_from_file(path: Path) -> ClusterSettings:
    """The settings in the file `path` (`--settings`, as `paas cluster info --json` prints).

    Read like a manifest file: a regular file (never a FIFO or device, which
    would block), at most 1 MiB of UTF-8, parsed by the bounded YAML loader.

    Raises:
        ManifestError: the file is absent, special, too large, not UTF-8 or invalid.
    """
    from paas.detect.appdir import read_named_file

    return parse_settings(read_named_file(path), str(path))


def image_repository(settings: ClusterSettings, app: str) -> str:
    """Where the images of `app` are pushed: `REGISTRY/APP`."""
    return f"{settings.registry}/{app}"
