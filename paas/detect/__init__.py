"""Detect what kind of app a directory holds, and how to build and start it.

One small detector per language, tried in the order of `DETECTORS`; the first
that recognises the directory wins. Python comes before Node.js so that a
Django app with a ``package.json`` for its assets stays a Python app. Like
Heroku, a Dockerfile is used only when no language is recognised, when
``heroku.yml`` says ``build: docker`` (then it comes first), or when paas.yaml
names it; ``heroku.yml``'s ``build: languages`` puts those languages first.
`Detection.build_choice` says which way was chosen and how to choose the other.

Detection is pure: it reads files inside the app directory and nothing else.
``build.dockerfile`` in ``paas.yaml`` is handled by the caller before it asks.

Example:
    detection = detect(Path("."))
    detection.language, detection.default_web_command
    # ('python', 'gunicorn app:app --bind 0.0.0.0:$PORT')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from paas.detect import dockerfile, go, java, node, php, python, ruby, static
from paas.detect.appdir import AppDir
from paas.detect.heroku_yml import HEROKU_YML, read_heroku_yml
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
    Detector("python", python.MARKERS, python.detect_python),
    Detector("node", node.MARKERS, node.detect_node),
    Detector("go", go.MARKERS, go.detect_go),
    Detector("ruby", ruby.MARKERS, ruby.detect_ruby),
    Detector("java", java.MARKERS, java.detect_java),
    Detector("php", php.MARKERS, php.detect_php),
    Detector("dockerfile", dockerfile.MARKERS, dockerfile.detect_dockerfile),
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
        The first detector's detection, in the order of `DETECTORS` (after
        heroku.yml's `build: docker` or `build: languages`), with `build_choice`
        set when the app also has a Dockerfile or a heroku.yml.

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
    app = AppDir(path)
    heroku = read_heroku_yml(app)
    if heroku is not None and heroku.dockerfile is not None:
        return _heroku_docker(app, heroku.dockerfile)
    named = heroku.languages if heroku is not None else ()
    ordered = sorted(
        DETECTORS, key=lambda d: named.index(d.language) if d.language in named else len(named)
    )
    for detector in ordered:
        detection = detector(path)
        if detection is not None:
            return _with_choice(app, detection, named)
    raise NothingToBuildError(no_app_message(path), NO_APP_HINT)


def _heroku_docker(app: AppDir, file: str) -> Detection:
    if not app.is_file(file):
        raise DetectError(
            f"{HEROKU_YML}: `build: docker` names `{file}`, "
            "which is not a file in the app directory.",
            f"add `{file}`, or fix the path under `build: docker:` in heroku.yml",
        )
    return Detection(
        language="dockerfile",
        evidence=(
            Evidence(file, f"{HEROKU_YML} builds with it (`build: docker`)"),
            Evidence(HEROKU_YML, "heroku.yml says `build: docker`"),
        ),
        build_choice=(
            f"the Dockerfile `{file}`, because heroku.yml says `build: docker`; "
            "to build with buildpacks, remove `build: docker` from heroku.yml"
        ),
    )


def _with_choice(app: AppDir, detection: Detection, named: tuple[str, ...]) -> Detection:
    """Say why buildpacks were chosen when a Dockerfile or heroku.yml could say otherwise."""
    if detection.language == "dockerfile":
        return detection
    evidence = detection.evidence
    if detection.language in named:
        evidence += (
            Evidence(HEROKU_YML, f"heroku.yml names {detection.language} in `build: languages`"),
        )
    present = next((m for m in dockerfile.MARKERS if app.is_file(m)), None)
    if present is not None:
        choice = (
            f"buildpacks, not the {present}: like Heroku, paas uses an app's {present} only when "
            "heroku.yml says `build: docker` or paas.yaml names it; to build with it, "
            f"set `build.dockerfile: {present}` in paas.yaml"
        )
    elif detection.language in named:
        choice = (
            f"buildpacks, for the {detection.language} that heroku.yml names in `build: languages`"
        )
    else:
        return replace(detection, evidence=evidence)
    return replace(detection, evidence=evidence, build_choice=choice)


def no_app_message(path: Path) -> str:
    """Return the one-sentence message for a directory that no detector recognises."""
    markers = [marker for _, files in SUPPORTED for marker in files]
    listed = ", ".join(f"`{marker}`" for marker in markers[:-1]) + f" or `{markers[-1]}`"
    return f"No app was recognised in `{path}`: looked for {listed} and found none."
