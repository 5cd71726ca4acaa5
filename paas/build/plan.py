"""What to build and how: the pure part of `paas build`.

`plan_build()` takes the app (`AppSpec`), what detection found and the cluster
settings, and returns a `BuildPlan`: the strategy, the builder, the image
tags, the build environment. It reads no file, runs nothing and asks no
clock; the shell (`paas.build.pack`, `paas.build.dockerfile`) carries it out.

Strategies:

- ``local``: ``pack build`` against a Docker-compatible daemon (Docker, or
  podman's API socket), published straight to the registry.
- ``dockerfile``: the app's Dockerfile with podman, buildah or docker, then a push.
- ``cluster``: the CNB lifecycle's creator in a Pod of the cluster, no local daemon;
  for a Dockerfile app, kaniko's executor in a Pod (`paas.build.dockerfile_cluster`).

A plan is made before its tag is known: a push tags the image with a
fingerprint of the source and the plan (`paas.build.reuse`), so the tag is
added last, with `BuildPlan.with_tag()`.

Example:
    plan = plan_build(app, detection, settings).with_tag("3f2a1bc")
    plan.strategy, plan.image_tags
    # ('local', ('localhost:5000/hello:3f2a1bc', 'localhost:5000/hello:latest'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from paas.build.buildenv import check_build_env
from paas.build.mirrors import mirror_env
from paas.errors import BuildError, UsageError
from paas.settings import MirrorSettings, image_repository

if TYPE_CHECKING:
    from paas.detect import Detection
    from paas.manifest import AppSpec
    from paas.settings import ClusterSettings

Strategy = Literal["local", "dockerfile", "cluster"]
STRATEGIES: tuple[Strategy, ...] = ("local", "dockerfile", "cluster")

#: Languages the paas builder (`buildpacks/`) has a buildpack for.

#: Builder names under this prefix are paas's own and live in the cluster's registry.
PAAS_BUILDER_PREFIX = "paas/"

_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class BuildPlan:
    """Everything needed to build and publish one image of an app.

    Attributes:
        app: The app name.
        strategy: How the image is built.
        source_path: The directory to build, relative to the app directory (``build.path``).
        repository: Where the image goes: ``REGISTRY/APP``.
        builder: The CNB builder image; for a Dockerfile build in the cluster
            the Dockerfile builder image; None for local Dockerfile builds.
        buildpacks: An explicit buildpack order, empty for the builder's own.
        dockerfile: The Dockerfile, relative to `source_path` (Dockerfile builds,
            `dockerfile` or `cluster`, only).
        env: Build-time environment (``build.env``, and ``PAAS_WEB_COMMAND``
            for the paas builder); build args for Dockerfile builds.
        registry: The registry host the image is pushed to.
        insecure_registry: Push over plain HTTP / without TLS verification.
        language: The detected language, or None.
        namespace: The app's namespace, where a `cluster` build runs.
        tag: The tag the build publishes; "" until `with_tag()`.
        mirrors: The cluster's dependency mirrors; their credentials (a
            Secret) are read when the build runs.
    """

    app: str
    strategy: Strategy
    source_path: str
    repository: str
    builder: str | None
    buildpacks: tuple[str, ...]
    dockerfile: str | None
    env: dict[str, str] = field(default_factory=dict)
    registry: str = ""
    insecure_registry: bool = False
    language: str | None = None
    namespace: str = ""
    tag: str = ""
    mirrors: MirrorSettings = field(default_factory=MirrorSettings)

    def with_tag(self, tag: str) -> BuildPlan:
        """This plan, publishing the image as `tag` (and as `latest`).

        Raises:
            UsageError: `tag` is not a valid image tag.
        """
        if not _TAG.match(tag):
            raise UsageError(
                f"`{tag}` is not a valid image tag.",
                "A tag is up to 128 letters, digits, `_`, `.` and `-`, "
                "not starting with `.` or `-`.",
            )
        return replace(self, tag=tag)

    @property
    def image_tags(self) -> tuple[str, ...]:
        """Full references to publish; the first is the one built."""
        if not self.tag:
            raise ValueError("the build plan has no tag yet: call `with_tag()` first")
        latest = () if self.tag == "latest" else (f"{self.repository}:latest",)
        return (f"{self.repository}:{self.tag}", *latest)

    @property
    def image(self) -> str:
        """The reference the build writes (its first tag)."""
        return self.image_tags[0]

    @property
    def previous_image(self) -> str:
        """The reference a CNB build compares with to reuse layers."""
        return f"{self.repository}:latest"

    @property
    def builds_dockerfile(self) -> bool:
        """Whether the image comes from the app's Dockerfile (not from buildpacks)."""
        return self.dockerfile is not None

    @property
    def cache_name(self) -> str:
        """The name of the `local` build cache volume (one per app)."""
        return f"paas-cache-{self.app}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly view, for `paas build --json` and `--dry-run`."""
        return {
            "app": self.app,
            "strategy": self.strategy,
            "source_path": self.source_path,
            "repository": self.repository,
            "image_tags": list(self.image_tags) if self.tag else [],
            "builder": self.builder,
            "buildpacks": list(self.buildpacks),
            "dockerfile": self.dockerfile,
            "language": self.language,
            "insecure_registry": self.insecure_registry,
        }


def resolve_builder(name: str, registry: str) -> str:
    """Return the full reference of a builder name.

    ``paas/...`` names are paas's own builder, which `paas builder create`
    pushes to the cluster's registry: ``paas/builder`` becomes
    ``REGISTRY/paas/builder:latest``. Other names are used as written
    (``heroku/builder:24``, ``paketobuildpacks/builder-jammy-base``).
    """
    if name.startswith(PAAS_BUILDER_PREFIX):
        ref = f"{registry}/{name}"
        last = ref.rsplit("/", 1)[-1]
        return ref if (":" in last or "@" in last) else f"{ref}:latest"
    return name


def is_paas_builder(ref: str, registry: str) -> bool:
    """Tell whether `ref` is paas's own builder (as resolved by `resolve_builder`)."""
    return ref.startswith(f"{registry}/{PAAS_BUILDER_PREFIX}")


def plan_build(
    app: AppSpec,
    detection: Detection | None,
    settings: ClusterSettings,
    *,
    strategy: str | None = None,
    builder: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> BuildPlan:
    """Decide how to build `app`.

    Args:
        app: The app, as `load_app` read it.
        detection: What `detect` found in the build directory; None for a
            Dockerfile app.
        settings: The cluster settings (registry, default builder).
        strategy: ``local``, ``dockerfile`` or ``cluster``; None to choose:
            ``dockerfile`` when the app has a Dockerfile, else ``local``.
            ``cluster`` builds a Dockerfile app's Dockerfile in the cluster.
        builder: A builder that wins over ``build.builder`` and the settings;
            for a Dockerfile app in the cluster, over ``dockerfile_builder``.
        extra_env: Build environment from the command line; wins over ``build.env``.

    Returns:
        The plan, without a tag.

    Raises:
        UsageError: an unknown strategy, or a build variable whose name is no
            environment variable name.
        BuildError: the strategy does not fit the app (a Dockerfile app with
            buildpacks, `dockerfile` without a Dockerfile).
    """
    if strategy is not None and strategy not in STRATEGIES:
        raise UsageError(
            f"Unknown build strategy `{strategy}`.",
            "Use one of `local`, `dockerfile` or `cluster`.",
        )
    chosen: Strategy = (
        next(s for s in STRATEGIES if s == strategy)
        if strategy
        else ("dockerfile" if app.dockerfile else "local")
    )
    if chosen == "dockerfile" and not app.dockerfile:
        raise BuildError(
            f"App `{app.name}` has no Dockerfile to build with.",
            "Set `build.dockerfile: Dockerfile` in paas.yaml (like Heroku, a Dockerfile beside "
            "a language's files is used only when paas.yaml or heroku.yml names it), "
            "or build with buildpacks: `--strategy local`.",
        )
    if chosen == "local" and app.dockerfile:
        raise BuildError(
            f"App `{app.name}` builds from `{app.dockerfile}`, which buildpacks do not use.",
            "Build it with `--strategy dockerfile` (or `--strategy cluster`), or remove the "
            "Dockerfile (and `build.dockerfile`) to build with buildpacks.",
        )

    repository = image_repository(settings, app.name)
    dockerfile = app.dockerfile
    # Mirrors first: paas.yaml's build.env and the command line may override them.
    env = dict(app.build.env) if dockerfile else {**mirror_env(settings.mirrors), **app.build.env}
    builder_ref: str | None = None
    if dockerfile and chosen == "cluster":
        # `build.builder` names a CNB builder, which a Dockerfile does not use.
        builder_ref = resolve_builder(builder or settings.dockerfile_builder, settings.registry)
    elif not dockerfile:
        builder_ref = resolve_builder(
            builder or app.build.builder or settings.builder, settings.registry
        )
        paas_builder = is_paas_builder(builder_ref, settings.registry)
        if paas_builder and detection is not None and detection.default_web_command:
            # The buildpacks write this as the image's default `web`
            # process, so the image agrees with `paas detect`.
            env.setdefault("PAAS_WEB_COMMAND", detection.default_web_command)
    env.update(extra_env or {})
    check_build_env(env)

    return BuildPlan(
        app=app.name,
        strategy=chosen,
        source_path=app.build.path,
        repository=repository,
        builder=builder_ref,
        buildpacks=tuple(app.build.buildpacks),
        dockerfile=dockerfile,
        env=env,
        registry=settings.registry,
        insecure_registry=settings.insecure_registry,
        language=detection.language if detection else app.language,
        mirrors=settings.mirrors if not dockerfile else MirrorSettings(),
        namespace=settings.namespace(app.name),
    )
