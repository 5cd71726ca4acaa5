"""What a command needs to render an app from a local directory, without a cluster.

Reads the app's files and optional cluster settings; later, commands that talk
to a cluster take the settings and the current release from there instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paas.manifest import AppSpec, load_app
from paas.settings import ClusterSettings, Release, image_repository, settings_from_file


@dataclass(frozen=True)
class LocalRender:
    """The inputs of `render()` for an app directory."""

    app: AppSpec
    release: Release
    settings: ClusterSettings
    image_is_placeholder: bool


def local_render_inputs(
    path: Path, *, app_name: str | None, image: str | None, release: int, settings_file: Path | None
) -> LocalRender:
    """Read the app at `path` and decide the release to render.

    Without `image` the release points at the app's repository with the tag
    `pending`, since no build has happened; a push always deploys by digest.
    """
    settings = settings_from_file(settings_file)
    app = load_app(path, name=app_name, detect_language=image is None)
    ref = image or f"{image_repository(settings, app.name)}:pending"
    return LocalRender(
        app,
        Release(version=release, image=ref, image_kind=app.image_kind),
        settings,
        image_is_placeholder=image is None,
    )
