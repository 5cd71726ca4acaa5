"""Building an app's image: plan (pure) and the strategies that carry it out.

`build_app()` is the one entry point `paas build` (and later `paas push`)
calls: it reads the app, plans the build, copies the source that
``.paasignore``/``.gitignore`` let through, and runs the strategy.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paas.build.plan import BuildPlan, plan_build
from paas.build.source import copy_source, read_ignore_rules
from paas.build.tools import OutputLine

if TYPE_CHECKING:
    from paas.kube.api import Kube
    from paas.manifest import AppSpec
    from paas.settings import ClusterSettings

__all__ = [
    "BuildPlan",
    "BuildResult",
    "build_app",
    "build_unless_published",
    "git_commit",
    "plan_build",
    "plan_for_dir",
]


@dataclass(frozen=True)
class BuildResult:
    """A built and published image.

    Attributes:
        plan: What was built, and how.
        digest: The digest of the pushed manifest, ``sha256:...``.
        seconds: How long the build took.
        files: How many files of the app were sent to the build.
    """

    plan: BuildPlan
    digest: str
    seconds: float
    files: int

    @property
    def image(self) -> str:
        """The image by digest: ``REGISTRY/APP@sha256:...``, what a release deploys."""
        return f"{self.plan.repository}@{self.digest}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-friendly view for `paas build --json`."""
        return {
            "image": self.image,
            "digest": self.digest,
            "tags": list(self.plan.image_tags),
            "strategy": self.plan.strategy,
            "builder": self.plan.builder,
            "language": self.plan.language,
            "seconds": round(self.seconds, 1),
            "files": self.files,
        }


def _git(path: Path, *args: str) -> str | None:
    """Run git in `path`; its output, or None when git fails or is missing."""
    try:
        result = subprocess.run(
            ["git", "-C", str(path), *args],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def git_commit(path: Path) -> str:
    """The commit checked out in `path`, or "" when it is not a git work tree."""
    return _git(path, "rev-parse", "HEAD") or ""


def source_tag(app_dir: Path, now: float | None = None) -> str:
    """The tag of a build: the short commit id of a clean git checkout, else a time stamp."""
    commit = _git(app_dir, "rev-parse", "--short=12", "HEAD")
    changes = _git(app_dir, "status", "--porcelain", "--", ".")
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now))
    if commit is not None:
        return commit if not changes else f"{commit}-dirty-{stamp}"
    return f"build-{stamp}"


def plan_for_dir(
    path: Path,
    *,
    app_name: str | None = None,
    strategy: str | None = None,
    builder: str | None = None,
    settings_file: Path | None = None,
    registry: str | None = None,
    extra_env: dict[str, str] | None = None,
    tag: str | None = None,
    settings: ClusterSettings | None = None,
) -> BuildPlan:
    """Read the app at `path` and plan its build (no build happens).

    The cluster settings are `settings`, else read from `settings_file`, else the defaults.
    """
    from paas.detect import detect
    from paas.manifest import load_app
    from paas.settings import settings_from_file

    if settings is None:
        settings = settings_from_file(settings_file)
    if registry:
        settings = settings.model_copy(update={"registry": registry})
    app = load_app(path, name=app_name)
    detection = None if app.dockerfile else detect(path / app.build.path)
    return plan_build(
        app,
        detection,
        settings,
        tag=tag or source_tag(path),
        strategy=strategy,
        builder=builder,
        extra_env=extra_env,
    )


def build_app(
    path: Path,
    plan: BuildPlan,
    *,
    on_line: OutputLine,
    env: Mapping[str, str] | None = None,
    clear_cache: bool = False,
    kube: Kube | None = None,
) -> BuildResult:
    """Carry out `plan` for the app directory `path`.

    A `cluster` build runs in the cluster of `kube` (default: the current
    kubeconfig context).

    Raises:
        BuildError: the build failed; the message names the step and the fix.
        RegistryError: credentials are incomplete or the registry refused them.
    """
    from paas.build.registry import registry_auth_env

    environ = dict(os.environ if env is None else env)
    started = time.monotonic()
    source_dir = path / plan.source_path
    if plan.strategy == "cluster":
        from paas.build.cluster import cluster_build
        from paas.kube.api import Kube

        digest, files = cluster_build(
            plan,
            source_dir,
            read_ignore_rules(source_dir),
            kube=kube or Kube(),
            on_line=on_line,
            clear_cache=clear_cache,
        )
        return BuildResult(plan, digest, time.monotonic() - started, files)
    with tempfile.TemporaryDirectory(prefix=f"paas-build-{plan.app}-") as tmp:
        staged = Path(tmp) / "app"
        files = copy_source(source_dir, staged, read_ignore_rules(source_dir))
        with registry_auth_env(plan.registry, environ) as auth:
            run_env = {**environ, **auth}
            if plan.strategy == "dockerfile":
                from paas.build.dockerfile import dockerfile_build

                digest = dockerfile_build(plan, staged, env=run_env, on_line=on_line)
            else:
                from paas.build.pack import pack_build

                digest = pack_build(
                    plan, staged, env=run_env, on_line=on_line, clear_cache=clear_cache
                )
    return BuildResult(plan, digest, time.monotonic() - started, files)


def build_unless_published(
    path: Path,
    app: AppSpec,
    settings: ClusterSettings,
    *,
    strategy: str | None,
    kube: Kube,
    on_info: OutputLine,
    on_line: OutputLine,
) -> str:
    """Build the app unless the registry has its image already; return the image by digest.

    The image is tagged with a fingerprint of its source and build inputs, so an
    unchanged app is not rebuilt.
    """
    from paas.build.reuse import source_fingerprint
    from paas.detect import detect
    from paas.errors import RegistryError
    from paas.registry import resolve_digest

    detection = None if app.dockerfile else detect(path / app.build.path)
    plan = plan_build(app, detection, settings, tag="fingerprint", strategy=strategy)
    tag = source_fingerprint(path / plan.source_path, plan)
    plan = plan_build(app, detection, settings, tag=tag, strategy=strategy)
    try:
        ref = resolve_digest(plan.image, insecure=settings.insecure_registry)
    except RegistryError:
        ref = ""
    if ref:
        on_info(f"Source unchanged since `{plan.image}`: not rebuilding.")
        return ref
    on_info(f"Building `{plan.image}` ({plan.strategy})...")
    return build_app(path, plan, on_line=on_line, kube=kube).image
