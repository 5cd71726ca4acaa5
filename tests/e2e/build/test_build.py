"""End to end: `paas build` publishes images that serve, the way a paas pod runs them.

Each test copies an app to a fresh directory with its own name, builds it
with the real pack, lifecycle and paas builder against the testbed's
registry and podman socket, pulls the image by digest and runs it with the
launcher as the rendered pod does (read-only root, /tmp, uid 1000).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from e2e_apps import copy_app, full_build_log

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]
TEMPLATES = REPO / "templates"
FIXTURES = REPO / "tests" / "fixtures" / "apps"
DIGEST_REF = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")


def build(testbed, path: Path, *args: str):
    result = testbed.paas("build", path, "--settings", testbed.settings, "--json", *args)
    return result


def built_image(testbed, path: Path, *args: str) -> tuple[str, str]:
    result = build(testbed, path, *args)
    assert result.returncode == 0, result.stderr[-6000:]
    data = json.loads(result.stdout)
    assert DIGEST_REF.match(data["image"]), data
    assert data["image"].startswith(f"{testbed.registry}/{path.name}@sha256:")
    return data["image"], result.stderr


@pytest.fixture(scope="session")
def starter_image(build_testbed, builder, tmp_path_factory) -> Callable[[str], str]:
    """A starter's image, built once per session (several tests run the same image)."""
    built: dict[str, str] = {}

    def image(template: str) -> str:
        if template not in built:
            app = copy_app(TEMPLATES / template, tmp_path_factory.mktemp("starter"))
            built[template] = built_image(build_testbed, app)[0]
        return built[template]

    return image


@pytest.mark.parametrize(
    ("template", "command"),
    [
        (
            "python-flask",
            "gunicorn app:app --bind 0.0.0.0:${PORT:-5000} --workers 2 --access-logfile -",
        ),
        ("node-express", "node index.js"),
        ("go-http", "go-http"),
        ("static-site", "paas-static-server"),
        (
            "web-worker",
            "gunicorn app:app --bind 0.0.0.0:${PORT:-5000} --workers 2 --access-logfile -",
        ),
    ],
)
def test_starter_builds_and_serves(
    template: str,
    command: str,
    starter_image,
    run_image,
) -> None:
    image = starter_image(template)
    running = run_image(image, command, {"PAAS_RELEASE": "v7", "GREETING": "Howdy"})
    body = running.get("/")
    assert "release=v7" in body
    assert "greeting=Howdy" in body
    assert running.get("/healthz").strip() == "ok"


def test_static_server_logs_requests_and_stops_cleanly_on_sigterm(
    starter_image,
    run_image,
) -> None:
    image = starter_image("static-site")
    running = run_image(image, "paas-static-server")
    assert "release=unknown" in running.get("/")
    assert "greeting=Hello" in running.get("/")
    assert running.stop() == 0
    assert re.search(r"GET / 200 \d+B", running.logs())


def test_image_default_process_is_the_detected_web_command(
    starter_image,
    run_image,
) -> None:
    # No command: the image's default process (`web`), as `paas detect` named it.
    image = starter_image("go-http")
    running = run_image(image, None, {"PAAS_RELEASE": "v2"})
    assert "release=v2" in running.get("/")


def test_python_getting_started_django_builds_and_serves(
    build_testbed,
    builder,
    app_copy,
    run_image,
) -> None:
    app = app_copy(FIXTURES / "python-getting-started")
    image, log = built_image(build_testbed, app)
    assert "Python 3.13" in log
    running = run_image(image, "gunicorn gettingstarted.wsgi")
    assert running.get("/") == "Hello from Python!"


def test_go_getting_started_gin_builds_and_serves(
    build_testbed,
    builder,
    app_copy,
    run_image,
) -> None:
    app = app_copy(FIXTURES / "go-getting-started")
    image, log = built_image(build_testbed, app)
    assert "Go 1.22." in log
    running = run_image(image, "bin/go-getting-started")
    assert running.get("/") == "<h1>Getting Started with Go</h1>\n"


def test_dockerfile_starter_builds_with_the_dockerfile_strategy(
    build_testbed,
    builder,
    app_copy,
    run_image,
) -> None:
    # Nothing can be pulled here: the Dockerfile's BASE_IMAGE build arg names a
    # local image with python3 (the paas build image with CPython on the PATH).
    base = "localhost/paas-e2e/python3:bookworm"
    containerfile = (
        f"FROM {build_testbed.registry}/paas/build:bookworm\n"
        "USER root\n"
        "RUN ln -sf $(ls -d /opt/paas/python/3.13.*)/bin/python3 /usr/local/bin/python3\n"
        "USER 1000\n"
    )
    made = subprocess.run(
        ["podman", "build", "--pull=never", "-t", base, "-f", "-", "."],
        input=containerfile,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert made.returncode == 0, made.stderr
    app = app_copy(TEMPLATES / "dockerfile")
    image, _ = built_image(
        build_testbed, app, "--strategy", "dockerfile", "-e", f"BASE_IMAGE={base}"
    )
    running = run_image(image, None, {"PAAS_RELEASE": "v4", "GREETING": "Hi"})
    body = running.get("/")
    assert "release=v4" in body
    assert "greeting=Hi" in body


@pytest.mark.parametrize(
    ("template", "code_file", "reused"),
    [
        ("python-flask", "app.py", "reusing the cached dependencies"),
        ("node-express", "index.js", "reusing the cached node_modules"),
    ],
)
def test_code_only_change_reuses_dependency_layers(
    template: str,
    code_file: str,
    reused: str,
    build_testbed,
    builder,
    app_copy,
    run_image,
) -> None:
    app = app_copy(TEMPLATES / template)
    first, first_log = built_image(build_testbed, app)
    assert reused not in first_log
    source = app / code_file
    source.write_text(
        source.read_text().replace('id="greeting">greeting=', 'id="greeting">greeting2=')
    )
    second, second_log = built_image(build_testbed, app)
    assert second != first
    assert reused in second_log
    # The exporter reuses the dependency layer of the previous image instead of uploading it:
    # the full build log says so; the build's output shows the buildpacks' lines only.
    layer = "paas/python:venv" if template == "python-flask" else "paas/nodejs:modules"
    assert f"Reusing layer '{layer}'" in full_build_log(app)
    for internal in ("Reusing layer", "===> ", "Adding label", "SBOM", "  build | "):
        assert internal not in second_log
    assert re.search(r"^-----> ", second_log, re.MULTILINE)
    assert re.search(r"^Built in \d+\.\d s$", second_log, re.MULTILINE)
    assert "greeting2=" in run_image(second, None, {}).get("/")


def test_no_detectable_language_is_a_clear_error(build_testbed, tmp_path: Path) -> None:
    app = tmp_path / "nothing-here"
    app.mkdir()
    (app / "README.md").write_text("hello\n")
    result = build(build_testbed, app)
    assert result.returncode == 4
    assert "error: No app was recognised in" in result.stderr
    assert "hint: add a Dockerfile, or one of requirements.txt" in result.stderr


def test_missing_runtime_version_lists_the_available_ones(
    build_testbed,
    builder,
    app_copy,
) -> None:
    app = app_copy(TEMPLATES / "python-flask")
    (app / ".python-version").write_text("3.9\n")
    result = build(build_testbed, app)
    assert result.returncode == 7, result.stderr[-3000:]
    assert re.search(
        r"error: Building `[^`]+` failed in step `resolve Python version`: Python `3\.9` "
        r"\(from \.python-version\) is not available; this builder has 3\.11\.\d+, 3\.13\.\d+",
        result.stderr,
    ), result.stderr[-3000:]
    assert "hint: ask for one of those versions in .python-version" in result.stderr
    # The failure ends with the full log's last lines (the lifecycle's too) and its path.
    # (up to 30 lines; this build's whole log is shorter)
    assert re.search(r"^The last \d+ lines of the build log:$", result.stderr, re.M), result.stderr
    assert "  | ===> BUILDING" in result.stderr  # a lifecycle line, hidden above, shown in the tail
    path = re.search(r"^full build log: (\S+)$", result.stderr, re.MULTILINE)
    assert path, result.stderr[-3000:]
    assert "===> BUILDING" in Path(path.group(1)).read_text()


def test_nearest_patch_is_used_and_said(build_testbed, builder, app_copy) -> None:
    app = app_copy(TEMPLATES / "python-flask")
    (app / ".python-version").write_text("3.13.0\n")
    _, log = built_image(build_testbed, app)
    assert re.search(
        r"Python 3\.13\.0 \(from \.python-version\) is not available; using 3\.13\.\d+", log
    )


def test_failing_dependency_install_names_the_step(build_testbed, builder, app_copy) -> None:
    app = app_copy(TEMPLATES / "python-flask")
    (app / "requirements.txt").write_text("flask==3.1.3\nno-such-package-paas-e2e==9.9.9\n")
    result = build(build_testbed, app)
    assert result.returncode == 7
    assert "error: Building" in result.stderr
    assert "failed in step `pip install`" in result.stderr
    assert "no-such-package-paas-e2e" in result.stderr
    assert "hint: fix the dependency list" in result.stderr


def test_failing_dockerfile_names_the_step(build_testbed, builder, tmp_path: Path) -> None:
    app = tmp_path / "broken-dockerfile"
    app.mkdir()
    (app / "Dockerfile").write_text(
        f"FROM {build_testbed.registry}/paas/run:bookworm\nRUN echo building && false\n"
    )
    result = build(build_testbed, app)
    assert result.returncode == 7
    assert (
        "error: The Dockerfile build of `broken-dockerfile` failed at step 2/2: RUN echo building && false."
        in result.stderr
    )
    assert "hint: Fix `Dockerfile` there" in result.stderr
