from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paas.detect import (
    DETECTORS,
    NO_APP_HINT,
    SUPPORTED,
    Detection,
    Evidence,
    detect,
)
from paas.errors import DetectError, ExitCode

MakeApp = Callable[[dict[str, str]], Path]
FixtureApp = Callable[[str], Path]

ALL_FIXTURES = {
    "dockerfile-app": "dockerfile",
    "go-heroku-yml": "go",
    "go-getting-started": "go",
    "go-toolchain": "go",
    "java-getting-started": "java",
    "java-gradle": "java",
    "node-js-getting-started": "node",
    "node-nvmrc": "node",
    "node-pnpm": "node",
    "node-yarn": "node",
    "node-yarn1": "node",
    "node-yarn-berry": "node",
    "node-pnpm-lock": "node",
    "php-getting-started": "php",
    "python-fastapi": "python",
    "python-flask": "python",
    "python-getting-started": "python",
    "python-django-psycopg2": "python",
    "python-pdm": "python",
    "python-pipenv": "python",
    "python-poetry": "python",
    "python-setuppy": "python",
    "python-uv": "python",
    "ruby-getting-started": "ruby",
    "static-site": "static",
}

#: Smallest valid content for each marker file.
MARKER_CONTENT = {"package.json": "{}", "composer.json": "{}", "go.mod": "module web\n"}


def test_detector_order() -> None:
    assert [d.language for d in DETECTORS] == [
        "python",
        "node",
        "go",
        "ruby",
        "java",
        "php",
        "dockerfile",
        "static",
    ]


def test_supported_lists_every_marker_in_detector_order() -> None:
    assert SUPPORTED == (
        ("python", ("requirements.txt", "pyproject.toml", "Pipfile", "setup.py")),
        ("node", ("package.json",)),
        ("go", ("go.mod",)),
        ("ruby", ("Gemfile",)),
        ("java", ("pom.xml", "build.gradle", "build.gradle.kts")),
        ("php", ("composer.json", "index.php")),
        ("dockerfile", ("Dockerfile", "Containerfile")),
        ("static", ("index.html", "public/index.html", "static.json")),
    )


@pytest.mark.parametrize(("name", "language"), sorted(ALL_FIXTURES.items()))
def test_every_fixture_app_is_detected(fixture_app: FixtureApp, name: str, language: str) -> None:
    assert detect(fixture_app(name)).language == language


def test_package_json_beats_a_dockerfile_as_on_heroku(make_app: MakeApp) -> None:
    app = make_app({"package.json": '{"scripts": {"start": "node ."}}', "Dockerfile": "FROM x\n"})

    assert detect(app).language == "node"


def test_a_dockerfile_beats_a_static_index_html(make_app: MakeApp) -> None:
    app = make_app({"index.html": "", "Dockerfile": "FROM x\n"})

    assert detect(app).language == "dockerfile"


def test_python_beats_node_in_a_django_app_with_frontend_assets(make_app: MakeApp) -> None:
    app = make_app({"requirements.txt": "django\n", "package.json": "{}"})

    assert detect(app).language == "python"


def test_a_language_beats_a_static_index_html(make_app: MakeApp) -> None:
    app = make_app({"go.mod": "module web\n", "public/index.html": ""})

    assert detect(app).language == "go"


def test_earlier_detector_wins_without_parsing_later_markers(make_app: MakeApp) -> None:
    # a broken composer.json does not matter once package.json has decided
    app = make_app({"package.json": "{}", "composer.json": "{"})

    assert detect(app).language == "node"


@given(st.sets(st.sampled_from([m for _, markers in SUPPORTED for m in markers]), min_size=1))
@settings(max_examples=60, deadline=None)
def test_first_detector_with_a_marker_present_wins(markers: set[str]) -> None:
    expected = next(lang for lang, files in SUPPORTED if any(f in markers for f in files))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for marker in markers:
            (root / marker).parent.mkdir(parents=True, exist_ok=True)
            (root / marker).write_text(MARKER_CONTENT.get(marker, ""), encoding="utf-8")

        detection = detect(root)

    assert detection.language == expected
    assert detection.evidence[0].file in markers
    json.dumps(detection.to_dict())


# --- errors ----------------------------------------------------------------------------


def test_empty_fixture_error_message_and_hint(fixture_app: FixtureApp) -> None:
    app = fixture_app("empty")

    with pytest.raises(DetectError) as caught:
        detect(app)

    assert caught.value.message == (
        f"No app was recognised in `{app}`: looked for "
        "`requirements.txt`, `pyproject.toml`, `Pipfile`, `setup.py`, `package.json`, "
        "`go.mod`, `Gemfile`, `pom.xml`, `build.gradle`, `build.gradle.kts`, "
        "`composer.json`, `index.php`, `Dockerfile`, `Containerfile`, `index.html`, "
        "`public/index.html` or `static.json` and found none."
    )
    assert caught.value.hint == (
        "add a Dockerfile, or one of requirements.txt, package.json, go.mod, Gemfile, pom.xml, "
        "composer.json, index.html; or set `build.dockerfile` in paas.yaml"
    )
    assert caught.value.hint == NO_APP_HINT
    assert caught.value.exit_code == ExitCode.DETECT


def test_directory_path_is_named_as_given(tmp_path: Path) -> None:
    relative = Path(os.path.relpath(tmp_path))

    with pytest.raises(DetectError, match=rf"^No app was recognised in `{relative}`: "):
        detect(relative)


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope"

    with pytest.raises(DetectError) as caught:
        detect(missing)

    assert caught.value.message == f"The app directory `{missing}` does not exist."
    assert caught.value.hint == "pass the path of the directory that holds the app"


def test_path_that_is_a_file(tmp_path: Path) -> None:
    file = tmp_path / "package.json"
    file.write_text("{}", encoding="utf-8")

    with pytest.raises(DetectError) as caught:
        detect(file)

    assert caught.value.message == f"The app path `{file}` is not a directory."


def test_unreadable_marker_is_an_error(make_app: MakeApp, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 0 does not stop root, who runs these tests in containers; fail the open instead
    app = make_app({"package.json": "{}"})
    real_open = os.open

    def open_denied(path: str | Path, *args: int) -> int:
        if Path(path).name == "package.json":
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args)

    monkeypatch.setattr(os, "open", open_denied)

    with pytest.raises(DetectError) as caught:
        detect(app)

    assert caught.value.message == "`package.json` could not be read: Permission denied."
    assert caught.value.hint == "check the permissions of `package.json`"


def test_oversized_json_is_an_error(make_app: MakeApp) -> None:
    app = make_app({"package.json": '{"description": "' + "x" * (1024 * 1024) + '"}'})

    with pytest.raises(DetectError) as caught:
        detect(app)

    assert caught.value.message == "`package.json` is larger than 1024 KiB, too large to be parsed."


# --- reading stays inside the app directory --------------------------------------------


def test_symlink_out_of_the_app_directory_is_not_read(make_app: MakeApp, tmp_path: Path) -> None:
    secret = tmp_path / "secret-token"
    secret.write_text("s3cr3t\n", encoding="utf-8")
    app = make_app({"requirements.txt": ""})
    (app / ".python-version").symlink_to(secret)

    detection = detect(app)

    assert detection.runtime_version is None
    assert "s3cr3t" not in json.dumps(detection.to_dict())


def test_marker_symlinked_from_outside_does_not_count(make_app: MakeApp, tmp_path: Path) -> None:
    outside = tmp_path / "Dockerfile"
    outside.write_text("FROM x\n", encoding="utf-8")
    app = make_app({"index.html": ""})
    (app / "Dockerfile").symlink_to(outside)

    assert detect(app).language == "static"


def test_symlink_inside_the_app_directory_is_followed(make_app: MakeApp) -> None:
    app = make_app({"requirements.txt": "", "config/python-version": "3.12\n"})
    (app / ".python-version").symlink_to(Path("config/python-version"))

    assert detect(app).runtime_version == "3.12"


def test_symlink_loop_is_treated_as_absent(make_app: MakeApp) -> None:
    app = make_app({"index.html": ""})
    (app / "package.json").symlink_to(app / "package.json")

    assert detect(app).language == "static"


def test_detection_leaves_the_directory_unchanged(fixture_app: FixtureApp) -> None:
    app = fixture_app("python-getting-started")
    before = sorted(p.relative_to(app).as_posix() for p in app.rglob("*"))

    detect(app)

    assert sorted(p.relative_to(app).as_posix() for p in app.rglob("*")) == before


# --- the data model --------------------------------------------------------------------


def test_to_dict_keys_and_values(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("python-flask"))

    assert detection.to_dict() == {
        "language": "python",
        "evidence": [
            {"file": "requirements.txt", "rule": "requirements.txt is present"},
            {"file": "requirements.txt", "rule": "requirements.txt lists flask"},
            {"file": "app.py", "rule": "app.py creates the Flask app `app`"},
        ],
        "runtime_version": "3.12",
        "runtime_version_source": {
            "file": ".python-version",
            "rule": ".python-version asks for Python 3.12",
        },
        "package_manager": "pip",
        "framework": "flask",
        "default_web_command": "gunicorn app:app --bind 0.0.0.0:$PORT",
        "build_choice": None,
    }
    assert list(detection.to_dict()) == [
        "language",
        "evidence",
        "runtime_version",
        "runtime_version_source",
        "package_manager",
        "framework",
        "default_web_command",
        "build_choice",
    ]


def test_to_dict_of_a_dockerfile_detection_has_nulls() -> None:
    detection = Detection("dockerfile", (Evidence("Dockerfile", "Dockerfile is present"),))

    assert json.dumps(detection.to_dict()) == (
        '{"language": "dockerfile", "evidence": [{"file": "Dockerfile", "rule": '
        '"Dockerfile is present"}], "runtime_version": null, "runtime_version_source": null, '
        '"package_manager": null, "framework": null, "default_web_command": null, '
        '"build_choice": null}'
    )


def test_detection_is_frozen_and_hashable(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("go-getting-started"))

    with pytest.raises(AttributeError):
        detection.language = "node"  # type: ignore[misc]
    assert hash(detection) == hash(detect(fixture_app("go-getting-started")))


def test_evidence_files_exist_and_are_relative(fixture_app: FixtureApp) -> None:
    for name in ALL_FIXTURES:
        app = fixture_app(name)
        detection = detect(app)
        sources = [*detection.evidence]
        if detection.runtime_version_source is not None:
            sources.append(detection.runtime_version_source)
        for evidence in sources:
            assert not Path(evidence.file).is_absolute(), (name, evidence)
            assert (app / evidence.file).exists(), (name, evidence)
