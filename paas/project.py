"""An app directory read once per command, and what a command shows of an app.

`Project.read()` reads the app's files, detects its language once and reads
its git commit; `paas push`, `build`, `diff`, `render`, `eject`, `init` and the
git receiver take the `Project` instead of reading the directory again.

`objects_to_show()` is what `paas render` and `paas eject` print: for an app
that runs, its current release (what runs, so `kubectl diff` of an ejected
directory is empty); with `next_push`, or for an app with no release yet, the
directory as the next push would deploy it, decided by the same
`next_release()` as `paas push`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paas.manifest import AppSpec, read_app
from paas.releases import Change, Release, describe_deploy

if TYPE_CHECKING:
    from paas.detect import Detection
    from paas.objects import Obj
    from paas.releases import ReleaseRecord
    from paas.settings import ClusterSettings


@dataclass(frozen=True)
class Project:
    """An app directory, read once: its decided spec, what detection found, its commit.

    Attributes:
        path: The app directory.
        spec: Its files merged (`paas.manifest`).
        detection: What detection found in `build.path`; None for a Dockerfile
            app named in paas.yaml, or when nothing was recognised and a
            prebuilt image is deployed.
        commit: The git commit checked out, or "" outside a git work tree.
    """

    path: Path
    spec: AppSpec
    detection: Detection | None
    commit: str

    @classmethod
    def read(cls, path: Path, *, name: str | None = None, prebuilt: bool = False) -> Project:
        """Read the app at `path`; `prebuilt` when an image is deployed, so nothing needs building.

        Raises:
            ManifestError: a file is invalid or the app has no start command.
            DetectError: nothing to build and no Dockerfile (unless `prebuilt`).
        """
        from paas.build import git_commit

        spec, detection = read_app(path, name=name, detect_language=not prebuilt)
        return cls(path, spec, detection, git_commit(path))

    @property
    def name(self) -> str:
        """The app name."""
        return self.spec.name

    @property
    def source_dir(self) -> Path:
        """The directory that is built: `build.path` in the app directory."""
        return self.path / self.spec.build.path

    def deploy(self, image: str, *, source: str = "") -> Change:
        """The change a push of this directory with `image` (by digest) asks for.

        `source` says where a prebuilt image came from (`image REF`); "" for a build.
        """
        return Change(
            "deploy",
            describe_deploy(self.commit, image),
            app=self.spec,
            image=image,
            image_kind=self.spec.image_kind,
            commit=self.commit,
            source=source,
        )


def default_app_name(app: str | None, path: Path = Path(".")) -> str:
    """The app a command acts on: `--app`, else paas.yaml's `name`, else the directory's name."""
    if app:
        return app
    from paas.detect.appdir import AppDir
    from paas.manifest import MANIFEST_FILE, read_manifest
    from paas.names import suggest_app_name

    text = AppDir(path).manifest_text(MANIFEST_FILE)
    if text is not None:
        manifest, _ = read_manifest(text)
        if manifest.name:
            return manifest.name
    return suggest_app_name(path.resolve().name)


def placeholder_image(settings: ClusterSettings, app: str) -> str:
    """The image shown before any build: the app's repository, tag `pending`."""
    from paas.settings import image_repository

    return f"{image_repository(settings, app)}:pending"


@dataclass(frozen=True)
class Shown:
    """What `paas render` and `paas eject` show.

    Attributes:
        objects: The objects, in apply order.
        release: The release rendered.
        image_is_placeholder: No image was built or given yet.
    """

    objects: list[Obj]
    release: Release
    image_is_placeholder: bool


def objects_to_show(
    path: Path,
    *,
    app_name: str | None,
    image: str | None,
    next_push: bool,
    context: str | None,
    settings_file: Path | None,
    on_info: Callable[[str], None],
) -> Shown:
    """The objects `paas render`/`paas eject` show, read from the cluster when one answers.

    Raises:
        ManifestError, DetectError: the directory, when it is read, is invalid.
        RenderError: a patch matches nothing or cannot apply.
    """
    from paas.kube.store import settings_for
    from paas.render import render

    settings, kube = settings_for(context, settings_file, on_info=on_info)
    if kube is None:
        project = Project.read(path, name=app_name, prebuilt=image is not None)
        ref = image or placeholder_image(settings, project.name)
        release = Release(version=1, image=ref, image_kind=project.spec.image_kind)
        return Shown(render(project.spec, release, settings), release, image is None)
    from paas.deploy import app_history, plan_change
    from paas.releases import current

    if not next_push and image is None:
        # What runs is read from the cluster alone: the directory may be anything.
        name = default_app_name(app_name, path)
        history = app_history(kube, settings, name)
        running = current(history)
        if running is not None:
            on_info(
                f"Showing `{name}` as it runs: {running.name}. "
                "`--next` shows this directory as the next push would deploy it."
            )
            release = running.release()
            return Shown(render(running.app, release, settings), release, False)
    project = Project.read(path, name=app_name, prebuilt=image is not None)
    history = app_history(kube, settings, project.name)
    ref = image or next_push_image(project, settings, history, on_info=on_info)
    plan = plan_change(kube, settings, project.name, project.deploy(ref), history=history)
    release = plan.record.release()
    return Shown(plan.objects, release, release.image == placeholder_image(settings, project.name))


def next_push_image(
    project: Project,
    settings: ClusterSettings,
    history: list[ReleaseRecord],
    *,
    on_info: Callable[[str], None],
) -> str:
    """The image a push of `project` would deploy, as far as it is known without building.

    The image built from exactly this source when the registry has it (a push
    then builds nothing); else the image serving now, saying that a push
    would build a new one; else, before any release, the placeholder.
    """
    from paas.build import published_image
    from paas.releases import current

    built = published_image(project, settings)
    if built:
        return built
    last = current(history)
    if last is None:
        return placeholder_image(settings, project.name)
    on_info(
        f"The source differs from every image built of it: a push builds a new image; "
        f"shown with the image of {last.name}."
    )
    return last.image
