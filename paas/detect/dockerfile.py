"""Apps that bring their own ``Dockerfile`` (or ``Containerfile``) at the root.

A Dockerfile wins over every language marker: the app chose how it is built.
The image's CMD starts it, so there is no runtime version to request and no
default web command. A Dockerfile at another path (``build.dockerfile`` in
``paas.yaml``) is the caller's business, not detection's.

The first evidence item names the file to build with: ``Dockerfile`` when
both are present (what ``docker build`` picks), else ``Containerfile``.
"""

from __future__ import annotations

from pathlib import Path

from paas.detect.appdir import AppDir
from paas.detect.model import Detection, Evidence

MARKERS = ("Dockerfile", "Containerfile")


def detect_dockerfile(path: Path) -> Detection | None:
    """Recognise an app built from its own Dockerfile or Containerfile.

    Args:
        path: The app directory.

    Returns:
        The detection, or None when neither file is at the root.
    """
    app = AppDir(path)
    present = [marker for marker in MARKERS if app.is_file(marker)]
    if not present:
        return None
    return Detection(
        language="dockerfile",
        evidence=tuple(Evidence(marker, f"{marker} is present") for marker in present),
    )
