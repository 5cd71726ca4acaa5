"""The build source of a hostile app: nothing from outside it, no special file, no slow pattern."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from unit_helpers import deadline

from paas.build.plan import BuildPlan
from paas.build.reuse import source_fingerprint
from paas.build.source import IgnoreRules, copy_source, read_ignore_rules, source_files
from paas.errors import BuildError, ExitCode


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "id_rsa").write_text("-----BEGIN KEY-----\n")
    root = tmp_path / "app"
    root.mkdir()
    (root / "app.py").write_text("print('hi')\n")
    return root


def plan() -> BuildPlan:
    return BuildPlan(
        app="web",
        strategy="pack",
        source_path=".",
        repository="localhost:5000/web",
        builder="paas/builder",
        buildpacks=(),
        dockerfile=None,
    )


def refusal(app: Path) -> BuildError:
    with deadline(), pytest.raises(BuildError) as caught:
        list(source_files(app))
    return caught.value


def test_a_fifo_in_the_source_is_refused_by_name(app: Path) -> None:
    (app / "run").mkdir()
    os.mkfifo(app / "run" / "pipe")

    error = refusal(app)

    assert error.exit_code == ExitCode.BUILD
    assert str(error) == (
        "`run/pipe` is a FIFO, which a build cannot be sent. "
        "Remove it, or list it in `.paasignore`."
    )


def test_a_fifo_does_not_block_the_fingerprint(app: Path) -> None:
    os.mkfifo(app / "pipe")

    with deadline(), pytest.raises(BuildError) as caught:
        source_fingerprint(app, plan())

    assert caught.value.message == "`pipe` is a FIFO, which a build cannot be sent."


def test_an_ignored_fifo_is_not_judged(app: Path) -> None:
    os.mkfifo(app / "pipe")
    (app / ".gitignore").write_text("pipe\n")

    with deadline():
        assert sorted(source_files(app)) == [".gitignore", "app.py"]
        assert source_fingerprint(app, plan()).startswith("src-")


def test_a_symlink_out_of_the_source_is_refused(app: Path) -> None:
    (app / "key").symlink_to(app.parent / "id_rsa")
    (app / ".gitignore").write_text("*.log\n")

    assert str(refusal(app)) == (
        "`key` is a symlink that leads outside the directory that is built, which a build "
        "cannot be sent. Remove it, or list it in `.gitignore`."
    )


@pytest.mark.parametrize("target", ["../id_rsa", "sub/../../id_rsa", "/etc"])
def test_every_way_out_is_refused(app: Path, target: str) -> None:
    (app / "sub").mkdir()
    (app / "out").symlink_to(target)

    assert refusal(app).message == (
        "`out` is a symlink that leads outside the directory that is built, which a build "
        "cannot be sent."
    )


def test_a_symlink_chain_out_is_refused_at_its_first_link(app: Path) -> None:
    (app / "a").symlink_to("b")
    (app / "b").symlink_to("../id_rsa")

    assert refusal(app).message.startswith("`a` is a symlink that leads outside")


def test_a_directory_symlink_out_is_refused(app: Path) -> None:
    (app / "home").symlink_to(app.parent)

    assert refusal(app).message.startswith("`home` is a symlink that leads outside")


def test_relative_symlinks_inside_are_kept_as_symlinks(app: Path, tmp_path: Path) -> None:
    (app / "lib").mkdir()
    (app / "lib" / "x.py").write_text("x = 1\n")
    (app / "x.py").symlink_to("lib/x.py")
    (app / "libs").symlink_to("lib")

    dest = tmp_path / "out"
    assert copy_source(app, dest) == 4
    assert os.readlink(dest / "x.py") == "lib/x.py"
    assert os.readlink(dest / "libs") == "lib"


def test_an_ignore_file_symlinked_out_is_refused(app: Path) -> None:
    (app / ".paasignore").symlink_to(app.parent / "id_rsa")

    with pytest.raises(BuildError) as caught:
        read_ignore_rules(app)

    assert str(caught.value) == (
        "`.paasignore` cannot be read: the file is a symlink that leads outside the app "
        "directory. Replace it with a regular file inside the app directory; paas reads "
        "nothing outside it."
    )


def test_a_pathological_pattern_matches_in_linear_time() -> None:
    rules = IgnoreRules.parse("a" + "*a" * 30 + "\n")
    name = "a" * 5000 + "b"

    started = time.monotonic()
    with deadline():
        assert rules.ignored(name, is_dir=False) is False
        assert rules.ignored("a" * 40, is_dir=False) is True
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("bad", ["!", "[z-a].txt", "\\"])
def test_an_invalid_pattern_names_its_line(bad: str) -> None:
    with pytest.raises(BuildError) as caught:
        IgnoreRules.parse(f"*.log\n\n{bad}\n", ".paasignore")

    assert str(caught.value) == (
        ".paasignore:3: not a valid gitignore pattern. "
        "Fix or remove that line; the syntax is git's (`man gitignore`)."
    )
