"""`merge()` is pure: the app's files and a typed `Detection` in, an `AppSpec` out."""

from __future__ import annotations

from pathlib import Path

import pytest

from paas.detect import Detection, Evidence
from paas.errors import ManifestError
from paas.manifest import AppFiles, AppJson, Manifest, merge, read_app, read_app_files

NO_FILES = AppFiles(Manifest(), None, {}, AppJson(), ())


def test_detection_gives_the_language_and_the_web_command() -> None:
    found = Detection(
        "python",
        (Evidence("requirements.txt", "requirements.txt is present"),),
        default_web_command="gunicorn app:app",
    )
    spec = merge("shop", NO_FILES, found)
    assert spec.language == "python"
    assert spec.processes["web"].command == "gunicorn app:app"
    assert spec.dockerfile is None


def test_a_dockerfile_detection_builds_from_that_file() -> None:
    found = Detection("dockerfile", (Evidence("Containerfile", "Containerfile is present"),))
    spec = merge("shop", NO_FILES, found)
    assert (spec.language, spec.dockerfile, spec.image_kind) == (
        "dockerfile",
        "Containerfile",
        "dockerfile",
    )
    assert spec.processes["web"].command is None  # the image's own CMD


def test_nothing_detected_and_nothing_declared_has_no_start_command() -> None:
    with pytest.raises(ManifestError, match="app `shop` has no start command"):
        merge("shop", NO_FILES, None)
    prebuilt = merge("shop", NO_FILES, None, image_has_own_command=True)
    assert prebuilt.processes["web"].command is None


def test_only_replicas_written_in_paas_yaml_are_declared(tmp_path: Path) -> None:
    (tmp_path / "paas.yaml").write_text(
        "processes:\n  web: {command: serve, replicas: 2}\n  worker: {command: work}\n"
    )
    (tmp_path / "app.json").write_text('{"formation": {"worker": {"quantity": 3}}}')
    spec = merge("shop", read_app_files(tmp_path), None)
    assert spec.declared_replicas == ("web",)
    assert {n: p.replicas for n, p in spec.processes.items()} == {"web": 2, "worker": 3}


def test_read_app_detects_once_and_returns_the_detection(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    spec, detection = read_app(tmp_path, name="shop")
    assert detection is not None
    assert detection.language == spec.language == "python"
    assert spec.processes["web"].command == detection.default_web_command


def test_heroku_yml_run_is_read_like_a_procfile_and_the_procfile_wins(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / "Procfile").write_text("web: gunicorn app:app\n")
    (tmp_path / "heroku.yml").write_text(
        "build:\n  languages: [python]\nrun:\n  web: python app.py\n"
        "  worker:\n    command:\n      - python worker.py\n"
    )

    spec, detection = read_app(tmp_path, name="shop")

    assert detection is not None
    assert detection.language == "python"
    commands = {name: p.command for name, p in spec.processes.items()}
    assert commands == {"web": "gunicorn app:app", "worker": "python worker.py"}


def test_a_heroku_yml_docker_app_builds_from_the_dockerfile_it_names(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text("{}")
    (tmp_path / "web.Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "heroku.yml").write_text("build:\n  docker:\n    web: web.Dockerfile\n")

    spec, _ = read_app(tmp_path, name="shop")

    assert spec.dockerfile == "web.Dockerfile"
