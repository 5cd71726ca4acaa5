"""Hostile app directories: nothing is read outside them, and no input makes a command hang.

Classes 1 (reading outside the app) and 3 (denial of service) of docs/security.md,
and the Procfile line that is never echoed. Each case that could hang (an alias
bomb, a FIFO) runs under a deadline of a few seconds.
"""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest
from unit_helpers import deadline, run_paas

from paas.detect import detect
from paas.errors import DetectError, ExitCode, ManifestError, PaasError
from paas.manifest import read_app
from paas.manifest.procfile import parse_procfile
from paas.project import default_app_name
from paas.settings import settings_from_file
from paas.yaml_places import load_yaml

SECRET = "hunter2-s3cr3t"
OUTSIDE_HINT = (
    "Replace it with a regular file inside the app directory; paas reads nothing outside it."
)
# Nine times nine ... nine: 9**7 (4.8 million) values from 170 bytes.
BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(6)
)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A Python app directory beside a file holding a secret."""
    (tmp_path / "secret").write_text(f"{SECRET}\n")
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("")
    return root


def error_of(app: Path) -> PaasError:
    with deadline(), pytest.raises(PaasError) as caught:
        read_app(app)
    assert SECRET not in str(caught.value)
    return caught.value


# --- class 1: reading outside the app directory -------------------------------------------


@pytest.mark.parametrize("file", ["paas.yaml", "Procfile", "app.json", "heroku.yml"])
def test_a_manifest_symlinked_out_of_the_app_is_refused_by_name(app: Path, file: str) -> None:
    (app / file).symlink_to(app.parent / "secret")

    error = error_of(app)

    assert isinstance(error, ManifestError)
    assert error.exit_code == ExitCode.MANIFEST
    assert error.message == f"{file}: the file is a symlink that leads outside the app directory"
    assert error.hint == OUTSIDE_HINT


def test_a_manifest_symlinked_inside_the_app_is_read(app: Path) -> None:
    (app / "config").mkdir()
    (app / "config" / "Procfile").write_text("web: gunicorn app:app\n")
    (app / "Procfile").symlink_to(Path("config/Procfile"))

    spec, _ = read_app(app)

    assert spec.processes["web"].command == "gunicorn app:app"


def test_default_app_name_does_not_follow_paas_yaml_out(app: Path) -> None:
    (app / "paas.yaml").symlink_to(app.parent / "secret")

    with pytest.raises(ManifestError) as caught:
        default_app_name(None, app)

    assert caught.value.message == (
        "paas.yaml: the file is a symlink that leads outside the app directory"
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            "path: ..",
            "paas.yaml:3: build.path: `..` leads outside the app directory; "
            "a build gets nothing outside it",
        ),
        (
            "path: src/../..",
            "paas.yaml:3: build.path: `src/../..` leads outside the app "
            "directory; a build gets nothing outside it",
        ),
        (
            "path: /home/me",
            "paas.yaml:3: build.path: `/home/me` is an absolute path; write a "
            "path relative to the app directory",
        ),
        (
            "dockerfile: ../Dockerfile",
            "paas.yaml:3: build.dockerfile: `../Dockerfile` leads "
            "outside the app directory; a build gets nothing outside it",
        ),
    ],
)
def test_a_build_path_that_leaves_the_app_is_refused_on_its_line(
    app: Path, build: str, message: str
) -> None:
    (app / "paas.yaml").write_text(f"name: web\nbuild:\n  {build}\n")

    error = error_of(app)

    assert (error.exit_code, error.message) == (ExitCode.MANIFEST, message)
    assert isinstance(error, ManifestError)
    assert error.line == 3


@pytest.mark.parametrize(("key", "value"), [("path", "src"), ("dockerfile", "Dockerfile")])
def test_a_build_path_that_leaves_through_a_symlink_is_refused(
    app: Path, key: str, value: str
) -> None:
    (app / value).symlink_to(app.parent if key == "path" else app.parent / "secret")
    (app / "paas.yaml").write_text(f"name: web\nbuild:\n  {key}: {value}\n")

    error = error_of(app)

    assert error.message == (
        f"paas.yaml:3: build.{key}: `{value}` leads outside the app directory through a symlink"
    )
    assert error.hint == (
        "Point it at a path inside the app directory; a build gets nothing outside it."
    )


def test_detection_treats_a_file_symlinked_out_as_absent(app: Path) -> None:
    (app / "runtime.txt").symlink_to(app.parent / "secret")

    with deadline():
        detection = detect(app)

    assert detection.language == "python"
    assert SECRET not in str(detection.to_dict())


# --- special files: refused by name, never opened -------------------------------------------


@pytest.mark.parametrize("file", ["paas.yaml", "Procfile", "app.json", "heroku.yml"])
def test_a_fifo_manifest_is_refused_without_blocking(app: Path, file: str) -> None:
    os.mkfifo(app / file)

    error = error_of(app)

    assert (error.exit_code, error.message) == (ExitCode.MANIFEST, f"{file}: the file is a FIFO")


def test_a_fifo_detection_file_is_refused_without_blocking(app: Path) -> None:
    os.mkfifo(app / ".python-version")

    with deadline(), pytest.raises(DetectError) as caught:
        detect(app)

    assert caught.value.exit_code == ExitCode.DETECT
    assert str(caught.value) == (
        "`.python-version` is a FIFO, not a regular file, and is not read. "
        "Replace it with a regular file, or remove it."
    )


def test_a_fifo_settings_file_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "settings.yaml")

    with deadline(), pytest.raises(ManifestError) as caught:
        settings_from_file(tmp_path / "settings.yaml")

    assert caught.value.message == f"{tmp_path}/settings.yaml: the file is a FIFO"


# --- size and encoding ------------------------------------------------------------------------


def test_a_manifest_over_one_mib_is_refused(app: Path) -> None:
    (app / "paas.yaml").write_text("#" * (1024 * 1024 + 1))

    error = error_of(app)

    assert error.message == "paas.yaml: the file is larger than 1 MiB"
    assert error.hint == (
        "paas reads files of at most that size from an app directory; make it smaller."
    )


def test_a_manifest_that_is_not_utf8_names_the_line_and_column(app: Path) -> None:
    (app / "Procfile").write_bytes(b"web: gunicorn app:app\nworker: caf\xe9\n")

    error = error_of(app)

    assert str(error) == (
        "Procfile:2: the file is not UTF-8 text (byte 0xe9 at column 12) Save the file as UTF-8."
    )


def test_a_procfile_line_over_the_cap_is_refused(app: Path) -> None:
    (app / "Procfile").write_text("web: " + "x" * 5000 + "\n")

    assert str(error_of(app)) == (
        "Procfile:1: the line is longer than 4096 characters "
        "Move a long command into a script in the app and run that."
    )


def test_a_procfile_of_too_many_process_types_is_refused(app: Path) -> None:
    (app / "Procfile").write_text("".join(f"p{i}: run\n" for i in range(10_000)))

    assert str(error_of(app)) == (
        "Procfile:51: more than 50 process types "
        "An app runs at most 50; split it into several apps."
    )


# --- the Procfile line is never echoed (class 7) --------------------------------------------


def test_a_bad_procfile_line_is_not_echoed() -> None:
    with pytest.raises(ManifestError) as caught:
        parse_procfile(f"web: ok\nDATABASE_URL=postgres://app:{SECRET}@db/app\n")

    assert str(caught.value) == (
        "Procfile:2: the line is not `type: command` "
        "Each line must be `type: command`, like `web: gunicorn app:app`."
    )


def test_a_procfile_error_names_only_the_process_type() -> None:
    with pytest.raises(ManifestError) as caught:
        parse_procfile(f"Web_Job: run --password {SECRET}\n")

    assert SECRET not in str(caught.value)
    assert caught.value.message.startswith("Procfile:1: process type `Web_Job` must be")


# --- class 3: YAML and JSON that cannot blow up ---------------------------------------------


def test_an_alias_bomb_is_refused_at_once(app: Path) -> None:
    (app / "paas.yaml").write_text(BOMB)

    error = error_of(app)

    assert str(error) == (
        "paas.yaml:6: more than 100,000 values once its aliases are expanded "
        "Write the values out, or use fewer aliases (`*name`)."
    )


def test_an_alias_bomb_in_heroku_yml_is_refused_at_once(app: Path) -> None:
    (app / "heroku.yml").write_text(BOMB)

    assert error_of(app).message == (
        "heroku.yml: invalid YAML at line 6: more than 100,000 values once its aliases "
        "are expanded."
    )


def test_a_few_aliases_still_work(app: Path) -> None:
    (app / "paas.yaml").write_text(
        "name: web\nenv: &common\n  A: one\nbuild:\n  env: *common\n"
        "processes:\n  web:\n    command: gunicorn app:app\n"
    )

    spec, _ = read_app(app)

    assert spec.build.env == {"A": "one"}


def test_repeated_keys_are_found_inside_shared_nodes_once() -> None:
    shared = "a: &a {x: 1, x: 2}\n" + "".join(
        f"k{i}: &k{i} [*{'a' if i == 0 else f'k{i - 1}'}, *{'a' if i == 0 else f'k{i - 1}'}]\n"
        for i in range(12)
    )

    with deadline(), pytest.raises(ManifestError) as caught:
        load_yaml(shared, "paas.yaml")

    assert caught.value.message == "paas.yaml:1: a: key `x` appears twice (first on line 1)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: " + "[" * 5000 + "]" * 5000, "paas.yaml:1: nested more than 100 levels deep"),
        ("env: &a\n  A: *a\n", "paas.yaml:1: an alias refers to a node that contains it"),
        (
            "name: web\nprocesses:\n  web:\n    port: " + "1" * 5000 + "\n",
            "paas.yaml:4: cannot parse YAML: a value that cannot be read: too many digits, "
            "or not a valid date",
        ),
        (
            "".join(f"k{i}: &a{i} [*a{i - 1}]\n" if i else "k0: &a0 [1]\n" for i in range(300)),
            "paas.yaml:98: nested more than 100 levels deep once its aliases are expanded",
        ),
    ],
    ids=["deep", "cycle", "huge-integer", "deep-through-aliases"],
)
def test_hostile_yaml_ends_in_a_clear_error(app: Path, text: str, message: str) -> None:
    (app / "paas.yaml").write_text(text)

    error = error_of(app)

    assert (error.exit_code, error.message) == (ExitCode.MANIFEST, message)


@pytest.mark.parametrize(
    ("file", "text", "message"),
    [
        (
            "app.json",
            "[" * 5000 + "]" * 5000,
            "app.json:1: cannot parse JSON: nested more than 100 levels deep",
        ),
        (
            "app.json",
            '{"a": ' + "1" * 5000 + "}",
            "app.json: cannot parse JSON: a number has too many digits",
        ),
        (
            "package.json",
            "[" * 5000 + "]" * 5000,
            "package.json:1: invalid JSON: nested more than 100 levels deep.",
        ),
        (
            "package.json",
            '{"a": ' + "1" * 5000 + "}",
            "package.json: invalid JSON: a number has too many digits.",
        ),
    ],
)
def test_hostile_json_ends_in_a_clear_error(app: Path, file: str, text: str, message: str) -> None:
    if file == "package.json":
        (app / "requirements.txt").unlink()
    (app / file).write_text(text)

    assert error_of(app).message == message


def test_cluster_settings_text_goes_through_the_bounded_loader(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text(BOMB)

    with deadline(), pytest.raises(ManifestError) as caught:
        settings_from_file(tmp_path / "settings.yaml")

    assert caught.value.message == (
        f"{tmp_path}/settings.yaml:6: more than 100,000 values once its aliases are expanded"
    )


# --- the real CLI --------------------------------------------------------------------------


paas = partial(run_paas, columns=100, timeout=20)


def test_paas_render_refuses_an_alias_bomb(app: Path) -> None:
    (app / "paas.yaml").write_text(BOMB)

    result = paas("render", cwd=app)

    assert result.returncode == ExitCode.MANIFEST
    assert result.stderr.endswith(
        "error: paas.yaml:6: more than 100,000 values once its aliases are expanded\n"
        "hint: Write the values out, or use fewer aliases (`*name`).\n"
    )


def test_paas_detect_refuses_a_fifo_without_blocking(app: Path) -> None:
    os.mkfifo(app / ".python-version")

    result = paas("detect", str(app), cwd=app.parent)

    assert result.returncode == ExitCode.DETECT
    assert result.stderr == (
        "error: `.python-version` is a FIFO, not a regular file, and is not read.\n"
        "hint: Replace it with a regular file, or remove it.\n"
    )


def test_paas_render_does_not_echo_a_procfile_secret(app: Path) -> None:
    (app / "Procfile").write_text(f"web: ok\nexport PASSWORD={SECRET}\n")

    result = paas("render", cwd=app)

    assert result.returncode == ExitCode.MANIFEST
    assert SECRET not in result.stderr + result.stdout
    assert "error: Procfile:2: the line is not `type: command`\n" in result.stderr
