"""Detect what kind of app a directory holds, and how to build and start it.

One small detector per language, tried in the order of `DETECTORS`; the first
that recognises the directory wins. A Dockerfile comes first because an app
that brings one has chosen how it is built; Python comes before Node.js so that
a Django app with a ``package.json`` for its assets stays a Python app.

Detection is pure: it reads files inside the app directory and nothing else.
``build.dockerfile`` in ``paas.yaml`` is handled by the caller before it asks.

Example:
    detection = detect(Path("."))
    detection.language, detection.default_web_command
    # ('python', 'gunicorn app:app --bind 0.0.0.0:$PORT')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from paas.detect import dockerfile, go, java, node, php, python, ruby, static
from paas.detect.model import Detection, Evidence
from paas.errors import DetectError, NothingToBuildError

__all__ = [
    "DETECTORS",
    "NO_APP_HINT",
    "SUPPORTED",
    "Detection",
    "Detector",
    "Evidence",
    "detect",
]


@dataclass(frozen=True)
class Detector:
    """One language's detector and the files it looks for.

    Attributes:
        language: The `Detection.language` it returns.
        markers: The files whose presence it looks for, relative to the app directory.
        function: Returns a `Detection` for the directory, or None when it does not match.
    """

    language: str
    markers: tuple[str, ...]
    function: Callable[[Path], Detection | None]

    def __call__(self, path: Path) -> Detection | None:
        """Run the detector on the app directory `path`."""
        return self.function(path)


DETECTORS: tuple[Detector, ...] = (
    Detector("dockerfile", dockerfile.MARKERS, dockerfile.detect_dockerfile),
    Detector("python", python.MARKERS, python.detect_python),
    Detector("node", node.MARKERS, node.detect_node),
    Detector("go", go.MARKERS, go.detect_go),
    Detector("ruby", ruby.MARKERS, ruby.detect_ruby),
    Detector("java", java.MARKERS, java.detect_java),
    Detector("php", php.MARKERS, php.detect_php),
    Detector("static", static.MARKERS, static.detect_static),
)

#: What detection looks for: (language, marker files) in detector order.
SUPPORTED: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (detector.language, detector.markers) for detector in DETECTORS
)

NO_APP_HINT = (
    "add a Dockerfile, or one of requirements.txt, package.json, go.mod, Gemfile, pom.xml, "
    "composer.json, index.html; or set `build.dockerfile` in paas.yaml"
)


def detect(path: Path) -> Detection:
    """Detect the app in the directory `path`.

    Args:
        path: The app directory (after ``build.path`` has been applied).

    Returns:
        The first detector's detection, in the order of `DETECTORS`.

    Raises:
        DetectError: `path` is not a directory, no detector recognises it, or a
            file a detector must parse is malformed (``package.json:3: ...``).
    """
    if not path.exists():
        raise DetectError(
            f"The app directory `{path}` does not exist.",
            "pass the path of the directory that holds the app",
        )
    if not path.is_dir():
        raise DetectError(
            f"The app path `{path}` is not a directory.",
            "pass the path of the directory that holds the app",
        )
    for detector in DETECTORS:
        detection = detector(path)
        if detection is not None:
            return detection
    raise NothingToBuildError(no_app_message(path), NO_APP_HINT)


def no_app_message(path: Path) -> str:
    """Return the one-sentence message for a directory that no detector recognises."""
    markers = [marker for _, files in SUPPORTED for marker in files]
    listed = ", ".join(f"`{marker}`" for marker in markers[:-1]) + f" or `{markers[-1]}`"
    return f"No app was recognised in `{path}`: looked for {listed} and found none."
