from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from paas.detect import Evidence, detect
from paas.detect.dockerfile import detect_dockerfile
from paas.errors import DetectError

MakeApp = Callable[[dict[str, str]], Path]
FixtureApp = Callable[[str], Path]


def test_heroku_yml_build_docker_beats_the_package_json(fixture_app: FixtureApp) -> None:
    app = fixture_app("dockerfile-app")
    assert (app / "package.json").is_file()  # the fixture is also a valid Node.js app

    detection = detect(app)

    assert detection.language == "dockerfile"
    assert detection.evidence == (
        Evidence("Dockerfile", "heroku.yml builds with it (`build: docker`)"),
        Evidence("heroku.yml", "heroku.yml says `build: docker`"),
    )
    assert detection.build_choice is not None
    assert "remove `build: docker` from heroku.yml" in detection.build_choice
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


def test_a_dockerfile_beside_a_language_builds_with_buildpacks_like_heroku(
    make_app: MakeApp,
) -> None:
    app = make_app({"Dockerfile": "FROM scratch\n", "package.json": "{}", "server.js": ""})

    detection = detect(app)

    assert detection.language == "node"
    assert detection.build_choice is not None
    assert "set `build.dockerfile: Dockerfile` in paas.yaml" in detection.build_choice


def test_heroku_yml_languages_name_the_buildpacks(fixture_app: FixtureApp) -> None:
    app = fixture_app("go-heroku-yml")
    assert (app / "Dockerfile").is_file()
    assert (app / "Procfile").is_file()

    detection = detect(app)

    assert detection.language == "go"
    assert Evidence("heroku.yml", "heroku.yml names go in `build: languages`") in detection.evidence
    assert detection.build_choice is not None
    assert detection.build_choice.startswith("buildpacks, not the Dockerfile")


def test_heroku_yml_languages_go_first(make_app: MakeApp) -> None:
    app = make_app(
        {
            "heroku.yml": "build:\n  languages: [nodejs]\n",
            "requirements.txt": "",
            "package.json": "{}",
        }
    )

    detection = detect(app)

    assert detection.language == "node"
    assert (
        detection.build_choice
        == "buildpacks, for the node that heroku.yml names in `build: languages`"
    )


def test_heroku_yml_build_docker_names_a_missing_file(make_app: MakeApp) -> None:
    app = make_app({"heroku.yml": "build:\n  docker:\n    web: docker/web.Dockerfile\n"})

    with pytest.raises(
        DetectError, match=re.escape("names `docker/web.Dockerfile`, which is not a file")
    ):
        detect(app)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("build: [1]\n", "`build` is not a mapping"),
        ("build:\n  docker: {}\n", "names no Dockerfile"),
        ("run:\n  web: 3\n", "`run: web` has no command"),
        ("a: [\n", "invalid YAML at line"),
    ],
)
def test_a_malformed_heroku_yml_is_a_clear_error(
    make_app: MakeApp, text: str, problem: str
) -> None:
    with pytest.raises(DetectError, match=re.escape(problem)):
        detect(make_app({"heroku.yml": text, "package.json": "{}"}))
