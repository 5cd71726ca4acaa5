"""Building an app's image: plan (pure) and the strategies that carry it out.

`build_app()` carries out a plan: it copies the source that
``.paasignore``/``.gitignore`` let through and runs the strategy. `paas push`
calls `build_unless_published()`, which tags the plan with a fingerprint of
the source and builds only when the registry does not have that image yet;
`paas build` plans with its own tag and calls `build_app()`.
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
    from paas.project import Project
    from paas.settings import ClusterSettings

__all__ = [
    "BuildPlan",
    "BuildResult",
    "build_app",
    "build_unless_published",
    "fingerprinted_plan",
    "git_commit",
    "plan_build",
    "published_image",
    "source_tag",
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


def build_app(
    path: Path,
    plan: BuildPlan,
    *,
    on_line: OutputLine,
    env: Mapping[str, str] | None = None,
    clear_cache: bool = False,
    kube: Kube | None = None,
    on_info: OutputLine | None = None,
    announce: str | None = None,
) -> BuildResult:
    """Carry out `plan` for the app directory `path`.

    A `cluster` build runs in the cluster of `kube` (default: the current
    kubeconfig context). The tools' lines reach `on_line` through
    `paas.build.output`: the buildpacks' lines shown, the lifecycle's hidden
    unless verbose, every line in the full build log. `announce` (default
    "Building `IMAGE` (STRATEGY)...") and "Built in 12.3 s" go to `on_info`
    (default: the console), with a spinner on a terminal.

    Raises:
        BuildError: the build failed; the message names the step and the fix.
        RegistryError: credentials are incomplete or the registry refused them.
    """
    from paas.build.output import presented

    start = announce or f"Building `{plan.image}` ({plan.strategy})..."
    with presented(plan.app, on_line, start=start, say=on_info) as shown:
        return _carry_out(path, plan, on_line=shown, env=env, clear_cache=clear_cache, kube=kube)


def _carry_out(
    path: Path,
    plan: BuildPlan,
    *,
    on_line: OutputLine,
    env: Mapping[str, str] | None,
    clear_cache: bool,
    kube: Kube | None,
) -> BuildResult:
    from paas.build.credentials import registry_auth_env

    environ = dict(os.environ if env is None else env)
    started = time.monotonic()
    source_dir = path / plan.source_path
    secret_env = _mirror_credentials(plan, kube, on_line)
    if plan.strategy == "local" or (plan.strategy == "cluster" and not plan.builds_dockerfile):
        result = _cnb_build(path, plan, environ, on_line, clear_cache, kube, secret_env)
        return BuildResult(plan, result[0], time.monotonic() - started, result[1])
    if plan.strategy == "cluster":
        from paas.build.dockerfile_cluster import dockerfile_cluster_build
        from paas.kube.api import Kube

        digest, files = dockerfile_cluster_build(
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
            from paas.build.dockerfile import dockerfile_build

            digest = dockerfile_build(plan, staged, env=run_env, on_line=on_line)
    return BuildResult(plan, digest, time.monotonic() - started, files)


def _cnb_build(
    path: Path,
    plan: BuildPlan,
    environ: dict[str, str],
    on_line: OutputLine,
    clear_cache: bool,
    kube: Kube | None,
    secret_env: dict[str, str],
) -> tuple[str, int]:
    """A buildpacks build (`local` or `cluster`), tagged with its lineage; digest and file count.

    The builder's digest is resolved right before the build, for the lineage
    tag that the code-only fast path of the next push requires.
    """
    from paas.build.credentials import registry_auth_env
    from paas.build.fastpath import builder_digest, tag_lineage

    source_dir = path / plan.source_path
    builder = builder_digest(plan)
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
            secret_env=secret_env,
        )
        tag_lineage(plan, builder, digest)
        return digest, files
    with tempfile.TemporaryDirectory(prefix=f"paas-build-{plan.app}-") as tmp:
        staged = Path(tmp) / "app"
        files = copy_source(source_dir, staged, read_ignore_rules(source_dir))
        with registry_auth_env(plan.registry, environ) as auth:
            from paas.build.pack import pack_build

            digest = pack_build(
                plan,
                staged,
                env={**environ, **auth},
                on_line=on_line,
                clear_cache=clear_cache,
                secret_env=secret_env,
            )
    tag_lineage(plan, builder, digest)
    return digest, files


def _mirror_credentials(plan: BuildPlan, kube: Kube | None, on_line: OutputLine) -> dict[str, str]:
    """The secret build variables from the Secret that `mirrors.credentials` names."""
    secret = plan.mirrors.credentials
    if secret is None:
        return {}
    from paas.build.mirrors import credential_env
    from paas.errors import BuildError, ClusterError
    from paas.kube.api import Kube
    from paas.kube.store import read_mirror_credentials

    try:
        data = read_mirror_credentials(kube or Kube(), secret)
    except ClusterError as exc:
        raise BuildError(
            f"The mirror credentials Secret `{secret}` could not be read: {exc.message}",
            "Create it in namespace paas-system (`kubectl -n paas-system create secret generic "
            f"{secret} --from-literal=pip-username=...`), or remove "
            "`mirrors.credentials` from the cluster settings.",
        ) from None
    env = credential_env(plan.mirrors, data)
    on_line(f"-----> Mirror credentials from Secret `{secret}` ({len(env)} variables)")
    return env


def published_image(
    project: Project, settings: ClusterSettings, *, strategy: str | None = None
) -> str | None:
    """The image already built from exactly this source and plan, by digest; None if there is none.

    Also None when the app cannot be planned (an error a build would report).
    """
    from paas.errors import PaasError

    try:
        plan = fingerprinted_plan(project, settings, strategy=strategy)
        return _published(plan, settings)
    except PaasError:
        return None


def fingerprinted_plan(
    project: Project, settings: ClusterSettings, *, strategy: str | None = None
) -> BuildPlan:
    """The build plan of `project`, tagged with the fingerprint of its source and plan.

    Raises:
        UsageError, BuildError: as `plan_build()` does.
    """
    from paas.build.reuse import source_fingerprint

    plan = plan_build(project.spec, project.detection, settings, strategy=strategy)
    return plan.with_tag(source_fingerprint(project.source_dir, plan))


def _published(plan: BuildPlan, settings: ClusterSettings) -> str | None:
    from paas.errors import RegistryError
    from paas.registry import resolve_digest

    try:
        return resolve_digest(plan.image, insecure=settings.insecure_registry)
    except RegistryError:
        return None


def build_unless_published(
    project: Project,
    settings: ClusterSettings,
    *,
    strategy: str | None,
    kube: Kube,
    on_info: OutputLine,
    on_line: OutputLine,
    fast_path: bool = True,
) -> str:
    """Build the app unless the registry has its image already; return the image by digest.

    The image is tagged with a fingerprint of its source and build inputs, so an
    unchanged app is not rebuilt. A code-only change of an app whose
    buildpacks allow it replaces the app layer of the previous image
    (`paas.build.fastpath`) unless `fast_path` is False or ``PAAS_FAST_PATH=0``;
    why it did not is said with ``--verbose``.
    """
    plan = fingerprinted_plan(project, settings, strategy=strategy)
    ref = _published(plan, settings)
    if ref:
        on_info(f"Source unchanged since `{plan.image}`: not rebuilding.")
        return ref
    from paas.build.fastpath import code_only_build, enabled
    from paas.build.output import is_verbose

    if fast_path and enabled(os.environ):
        why = on_info if is_verbose() else (lambda _text: None)
        fast = code_only_build(plan, project.source_dir, why=why)
        if fast is not None:
            digest, seconds = fast
            on_info(f"Code-only change: replaced the app layer ({seconds:.1f} s)")
            return f"{plan.repository}@{digest}"
    elif is_verbose():
        on_info("Full build: the fast path is turned off.")
    return build_app(project.path, plan, on_line=on_line, kube=kube, on_info=on_info).image
