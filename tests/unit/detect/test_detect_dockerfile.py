from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from paas.detect import Evidence, detect
from paas.detect.dockerfile import detect_dockerfile

MakeApp = Callable[[dict[str, str]], Path]
FixtureApp = Callable[[str], Path]


def test_dockerfile_fixture_beats_its_package_json(fixture_app: FixtureApp) -> None:
    app = fixture_app("dockerfile-app")
    assert (app / "package.json").is_file()  # the fixture is also a valid Node.js app

    detection = detect(app)

    assert detection.language == "dockerfile"
    assert detection.evidence == (Evidence("Dockerfile", "Dockerfile is present"),)
    assert detection.runtime_version is None
    assert detection.runtime_version_source is None
    assert detection.package_manager is None
    assert detection.framework is None
    assert detection.default_web_command is None


@pytest.mark.parametrize("marker", ["Dockerfile", "Containerfile"])
def test_either_file_counts(make_app: MakeApp, marker: str) -> None:
    detection = detect_dockerfile(make_app({marker: "FROM scratch\n"}))

    assert detection is not None
    assert detection.evidence == (Evidence(marker, f"{marker} is present"),)


def test_both_files_are_evidence(make_app: MakeApp) -> None:
    detection = detect_dockerfile(make_app({"Containerfile": "", "Dockerfile": ""}))

    assert detection is not None
    assert [e.file for e in detection.evidence] == ["Dockerfile", "Containerfile"]


def test_dockerfile_elsewhere_does_not_count(make_app: MakeApp) -> None:
    app = make_app({"docker/Dockerfile": "", "Dockerfile.prod": "", "app.dockerfile": ""})

    assert detect_dockerfile(app) is None
