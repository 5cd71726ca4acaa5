from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from paas.detect import Evidence, detect
from paas.detect.python import detect_python
from paas.errors import DetectError

MakeApp = Callable[[dict[str, str]], Path]
FixtureApp = Callable[[str], Path]

FLASK_APP = "from flask import Flask\n\napp = Flask(__name__)\n"
FASTAPI_APP = "from fastapi import FastAPI\n\napp = FastAPI()\n"


# --- the getting-started app (Django) ---------------------------------------------------


def test_getting_started_is_django_served_by_gunicorn(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("python-getting-started"))

    assert detection.language == "python"
    assert detection.package_manager == "pip"
    assert detection.framework == "django"
    assert detection.default_web_command == "gunicorn gettingstarted.wsgi --bind 0.0.0.0:$PORT"
    assert detection.runtime_version == "3.13"
    assert detection.runtime_version_source == Evidence(
        ".python-version", ".python-version asks for Python 3.13"
    )
    assert detection.evidence == (
        Evidence("requirements.txt", "requirements.txt is present"),
        Evidence("requirements.txt", "requirements.txt lists django"),
        Evidence("manage.py", "manage.py is present"),
        Evidence("gettingstarted/wsgi.py", "gettingstarted/wsgi.py is the Django WSGI module"),
    )


def test_django_project_found_without_settings_hint_in_manage_py(make_app: MakeApp) -> None:
    app = make_app(
        {
            "requirements.txt": "Django==5.0\n",
            "manage.py": "import sys\n",
            "docs/wsgi.py": "",  # a wsgi.py without settings beside it is not the project
            "mysite/settings.py": "",
            "mysite/wsgi.py": "",
        }
    )

    detection = detect_python(app)

    assert detection is not None
    assert detection.default_web_command == "gunicorn mysite.wsgi --bind 0.0.0.0:$PORT"


def test_django_settings_module_in_manage_py_names_the_project(make_app: MakeApp) -> None:
    app = make_app(
        {
            "requirements.txt": "django\n",
            "manage.py": (
                'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")\n'
            ),
            "aaa/settings.py": "",
            "aaa/wsgi.py": "",
            "config/settings/__init__.py": "",
            "config/wsgi.py": "",
        }
    )

    detection = detect_python(app)

    assert detection is not None
    assert detection.default_web_command == "gunicorn config.wsgi --bind 0.0.0.0:$PORT"


def test_django_without_wsgi_module_has_no_gunicorn_command(make_app: MakeApp) -> None:
    app = make_app({"requirements.txt": "django\n", "manage.py": ""})

    detection = detect_python(app)

    assert detection is not None
    assert detection.framework == "django"
    assert detection.default_web_command is None


# --- positive and negative -------------------------------------------------------------


@pytest.mark.parametrize("marker", ["requirements.txt", "pyproject.toml", "Pipfile", "setup.py"])
def test_each_marker_alone_is_a_python_app(make_app: MakeApp, marker: str) -> None:
    detection = detect_python(make_app({marker: ""}))

    assert detection is not None
    assert detection.language == "python"
    assert detection.evidence[0] == Evidence(marker, f"{marker} is present")


def test_python_files_without_a_marker_are_not_a_python_app(make_app: MakeApp) -> None:
    app = make_app({"app.py": FLASK_APP, ".python-version": "3.12\n", "runtime.txt": "python-3.12"})

    assert detect_python(app) is None


def test_marker_that_is_a_directory_does_not_count(make_app: MakeApp) -> None:
    app = make_app({"requirements.txt/README": ""})

    assert detect_python(app) is None


# --- package manager -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "manager", "extra_evidence"),
    [
        (
            "python-uv",
            "uv",
            Evidence("uv.lock", "uv.lock is present, so uv installs the dependencies"),
        ),
        (
            "python-poetry",
            "poetry",
            Evidence("poetry.lock", "poetry.lock is present, so poetry installs the dependencies"),
        ),
        (
            "python-pdm",
            "pdm",
            Evidence("pdm.lock", "pdm.lock is present, so pdm installs the dependencies"),
        ),
        ("python-pipenv", "pipenv", None),
        ("python-setuppy", "setuptools", None),
        ("python-flask", "pip", None),
    ],
)
def test_package_manager_of_fixture_apps(
    fixture_app: FixtureApp, name: str, manager: str, extra_evidence: Evidence | None
) -> None:
    detection = detect(fixture_app(name))

    assert detection.language == "python"
    assert detection.package_manager == manager
    if extra_evidence is not None:
        assert extra_evidence in detection.evidence


@pytest.mark.parametrize(
    ("pyproject", "lockfile", "manager", "evidence"),
    [
        ("[project]\nname = 'x'\n", None, "pip", None),
        (
            "[tool.poetry]\nname = 'x'\n",
            None,
            "poetry",
            Evidence("pyproject.toml", "pyproject.toml has a [tool.poetry] table"),
        ),
        (
            "[tool.pdm]\ndistribution = false\n",
            None,
            "pdm",
            Evidence("pyproject.toml", "pyproject.toml has a [tool.pdm] table"),
        ),
        ("[tool.uv]\ndev-dependencies = []\n", None, "pip", None),  # uv is only chosen by its lock
        (
            "[tool.poetry]\nname = 'x'\n",
            "uv.lock",
            "uv",
            Evidence("uv.lock", "uv.lock is present, so uv installs the dependencies"),
        ),
    ],
)
def test_pyproject_package_manager(
    make_app: MakeApp, pyproject: str, lockfile: str | None, manager: str, evidence: Evidence | None
) -> None:
    files = {"pyproject.toml": pyproject}
    if lockfile:
        files[lockfile] = "version = 1\n"

    detection = detect_python(make_app(files))

    assert detection is not None
    assert detection.package_manager == manager
    if evidence is not None:
        assert evidence in detection.evidence


def test_lockfile_wins_over_another_tools_table(make_app: MakeApp) -> None:
    app = make_app({"pyproject.toml": "[tool.poetry]\nname = 'x'\n", "pdm.lock": ""})

    detection = detect_python(app)

    assert detection is not None
    assert detection.package_manager == "pdm"


def test_requirements_txt_wins_over_other_package_manager_files(make_app: MakeApp) -> None:
    app = make_app(
        {
            "requirements.txt": "flask\n",
            "pyproject.toml": "[tool.poetry]\nname = 'x'\n",
            "poetry.lock": "",
            "Pipfile": "",
        }
    )

    detection = detect_python(app)

    assert detection is not None
    assert detection.package_manager == "pip"
    assert detection.evidence[:3] == (
        Evidence("requirements.txt", "requirements.txt is present"),
        Evidence("pyproject.toml", "pyproject.toml is present"),
        Evidence("Pipfile", "Pipfile is present"),
    )


def test_pipfile_wins_over_setup_py(make_app: MakeApp) -> None:
    detection = detect_python(make_app({"Pipfile": "", "setup.py": ""}))

    assert detection is not None
    assert detection.package_manager == "pipenv"


# --- runtime version -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "version", "source"),
    [
        (
            "python-flask",
            "3.12",
            Evidence(".python-version", ".python-version asks for Python 3.12"),
        ),
        ("python-setuppy", "3.12.1", Evidence("runtime.txt", "runtime.txt asks for python-3.12.1")),
        (
            "python-pdm",
            ">=3.11",
            Evidence("pyproject.toml", "pyproject.toml has requires-python = '>=3.11'"),
        ),
        (
            "python-poetry",
            "^3.12",
            Evidence("pyproject.toml", "pyproject.toml has a poetry python dependency '^3.12'"),
        ),
        (
            "python-pipenv",
            "3.12",
            Evidence("Pipfile", "Pipfile has [requires] python_version = '3.12'"),
        ),
        ("python-fastapi", None, None),
    ],
)
def test_runtime_version_of_fixture_apps(
    fixture_app: FixtureApp, name: str, version: str | None, source: Evidence | None
) -> None:
    detection = detect(fixture_app(name))

    assert detection.runtime_version == version
    assert detection.runtime_version_source == source


def test_python_version_file_wins_and_only_its_first_line_counts(make_app: MakeApp) -> None:
    app = make_app(
        {
            "requirements.txt": "",
            ".python-version": "\n3.11.9\n3.10\n",
            "runtime.txt": "python-3.12.1\n",
            "pyproject.toml": "[project]\nrequires-python = '>=3.9'\n",
        }
    )

    detection = detect_python(app)

    assert detection is not None
    assert detection.runtime_version == "3.11.9"


def test_runtime_txt_wins_over_requires_python(make_app: MakeApp) -> None:
    app = make_app(
        {
            "pyproject.toml": "[project]\nrequires-python = '>=3.9'\n",
            "runtime.txt": "python-3.12.4\n",
        }
    )

    detection = detect_python(app)

    assert detection is not None
    assert detection.runtime_version == "3.12.4"


def test_empty_python_version_file_is_ignored(make_app: MakeApp) -> None:
    detection = detect_python(make_app({"requirements.txt": "", ".python-version": "\n"}))

    assert detection is not None
    assert detection.runtime_version is None
    assert detection.runtime_version_source is None


# --- default web command ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "framework", "command"),
    [
        ("python-flask", "flask", "gunicorn app:app --bind 0.0.0.0:$PORT"),
        ("python-uv", "flask", "gunicorn app:app --bind 0.0.0.0:$PORT"),
        ("python-pdm", "flask", "gunicorn wsgi:application --bind 0.0.0.0:$PORT"),
        ("python-pipenv", "flask", "gunicorn app:app --bind 0.0.0.0:$PORT"),
        ("python-fastapi", "fastapi", "uvicorn app.main:api --host 0.0.0.0 --port $PORT"),
        ("python-poetry", "fastapi", "uvicorn main:app --host 0.0.0.0 --port $PORT"),
        ("python-setuppy", None, "python main.py"),
    ],
)
def test_default_web_command_of_fixture_apps(
    fixture_app: FixtureApp, name: str, framework: str | None, command: str
) -> None:
    detection = detect(fixture_app(name))

    assert detection.framework == framework
    assert detection.default_web_command == command


def test_flask_instance_evidence_names_file_and_variable(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("python-flask"))

    assert Evidence("app.py", "app.py creates the Flask app `app`") in detection.evidence
    assert Evidence("requirements.txt", "requirements.txt lists flask") in detection.evidence


def test_flask_in_main_py_with_annotation(make_app: MakeApp) -> None:
    app = make_app(
        {
            "requirements.txt": "flask[async]>=3  # web framework\n",
            "main.py": "import flask\n\nserver: flask.Flask = flask.Flask(__name__)\n",
        }
    )

    detection = detect_python(app)

    assert detection is not None
    assert detection.default_web_command == "gunicorn main:server --bind 0.0.0.0:$PORT"


def test_flask_dependency_without_instance_falls_back_to_python_file(make_app: MakeApp) -> None:
    app = make_app(
        {
            "requirements.txt": "flask\n",
            "app.py": "from factory import create_app\n\ncreate_app().run()\n",
        }
    )

    detection = detect_python(app)

    assert detection is not None
    assert detection.framework == "flask"
    assert detection.default_web_command == "python app.py"


def test_flask_instance_without_flask_dependency_is_not_flask(make_app: MakeApp) -> None:
    app = make_app({"requirements.txt": "requests\n", "app.py": FLASK_APP})

    detection = detect_python(app)

    assert detection is not None
    assert detection.framework is None
    assert detection.default_web_command == "python app.py"


def test_fastapi_from_pyproject_dependencies(make_app: MakeApp) -> None:
    app = make_app(
        {
            "pyproject.toml": "[project]\ndependencies = ['FastAPI[standard] >= 0.110']\n",
            "app.py": FASTAPI_APP,
        }
    )

    detection = detect_python(app)

    assert detection is not None
    assert detection.framework == "fastapi"
    assert detection.default_web_command == "uvicorn app:app --host 0.0.0.0 --port $PORT"


def test_dependencies_followed_through_included_requirements(make_app: MakeApp) -> None:
    app = make_app(
        {
            "requirements.txt": "-r requirements/base.txt\n",
            "requirements/base.txt": "--requirement=web.txt\n-e .\n",
            "requirements/web.txt": "Flask==3.0\n-r web.txt\n",  # a loop must not hang
            "app.py": FLASK_APP,
        }
    )

    detection = detect_python(app)

    assert detection is not None
    assert detection.framework == "flask"


def test_setup_py_install_requires(make_app: MakeApp) -> None:
    app = make_app(
        {
            "setup.py": "setup(name='x', install_requires=['Flask>=3', \"gunicorn\"])\n",
            "wsgi.py": FLASK_APP,
        }
    )

    detection = detect_python(app)

    assert detection is not None
    assert detection.framework == "flask"
    assert detection.default_web_command == "gunicorn wsgi:app --bind 0.0.0.0:$PORT"


def test_app_py_wins_over_main_py_as_plain_script(make_app: MakeApp) -> None:
    app = make_app({"requirements.txt": "", "app.py": "", "main.py": ""})

    detection = detect_python(app)

    assert detection is not None
    assert detection.default_web_command == "python app.py"
    assert Evidence("app.py", "app.py is present") in detection.evidence


def test_no_entry_point_means_no_default_web_command(make_app: MakeApp) -> None:
    detection = detect_python(make_app({"requirements.txt": "requests\n", "worker.py": ""}))

    assert detection is not None
    assert detection.framework is None
    assert detection.default_web_command is None


# --- malformed files -------------------------------------------------------------------


def test_malformed_pyproject_names_file_and_line(make_app: MakeApp) -> None:
    app = make_app({"pyproject.toml": "[project]\nname = 'x'\nversion\n"})

    with pytest.raises(DetectError) as caught:
        detect(app)

    assert caught.value.message == (
        "pyproject.toml:3: invalid TOML: expected '=' after a key in a key/value pair at column 8."
    )
    assert caught.value.hint == (
        "fix the syntax of `pyproject.toml`; paas reads it to detect the app's language, "
        "runtime version and start command"
    )


def test_malformed_pipfile_names_file_and_line(make_app: MakeApp) -> None:
    app = make_app({"Pipfile": "[packages]\nflask = \n"})

    with pytest.raises(DetectError, match=r"^Pipfile:2: invalid TOML: "):
        detect(app)
