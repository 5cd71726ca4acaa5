"""`paas init` never writes through a symbolic link or over a special file, and leaves no half copy."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

import pytest
from unit_helpers import ROOT, run_paas

LINK_REFUSED = (
    "error: `{path}` is a symbolic link, and paas does not write through links\n"
    "hint: Remove the link, then run the command again.\n"
)


# A FIFO opened for writing would block: the short timeout catches it.
paas = partial(run_paas, columns=200, timeout=20)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    app.mkdir()
    (app / "requirements.txt").write_text("flask\n")
    (app / "Procfile").write_text("web: python app.py\n")
    return app


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_a_dangling_paas_yaml_link_is_refused_and_its_target_not_made(
    app: Path, tmp_path: Path, force: bool
) -> None:
    target = tmp_path / "outside" / "paas.yaml"
    target.parent.mkdir()
    (app / "paas.yaml").symlink_to(target)
    result = paas("init", app, *(["--force"] if force else []))
    assert result.returncode == 2
    assert result.stderr == LINK_REFUSED.format(path=app / "paas.yaml")
    assert not os.path.lexists(target)
    assert os.readlink(app / "paas.yaml") == str(target)


def test_a_link_to_a_file_is_refused_even_with_force(app: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.yaml"
    victim.write_text("keep me\n")
    (app / "paas.yaml").symlink_to(victim)
    result = paas("init", app, "--force")
    assert result.returncode == 2
    assert result.stderr == LINK_REFUSED.format(path=app / "paas.yaml")
    assert victim.read_text() == "keep me\n"


@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_a_fifo_named_paas_yaml_is_refused_without_blocking(app: Path, force: bool) -> None:
    os.mkfifo(app / "paas.yaml")
    result = paas("init", app, *(["--force"] if force else []))
    assert result.returncode == 2
    assert result.stderr == (
        f"error: `{app / 'paas.yaml'}` is not a regular file\n"
        "hint: Move it away, then run the command again.\n"
    )


def test_force_replaces_a_regular_paas_yaml(app: Path) -> None:
    (app / "paas.yaml").write_text("name: old\n")
    result = paas("init", app, "--force")
    assert result.returncode == 0, result.stderr
    assert (app / "paas.yaml").read_text().startswith("# paas.yaml: how paas builds")
    assert sorted(p.name for p in app.iterdir()) == ["Procfile", "paas.yaml", "requirements.txt"]


def test_an_existing_paas_yaml_is_kept_without_force(app: Path) -> None:
    (app / "paas.yaml").write_text("name: old\n")
    result = paas("init", app)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: `{app / 'paas.yaml'}` already exists\n"
        "hint: Edit it, or pass `--force` to replace it.\n"
    )
    assert (app / "paas.yaml").read_text() == "name: old\n"


def test_a_template_file_that_is_a_dangling_link_is_refused(tmp_path: Path) -> None:
    dest = tmp_path / "new"
    dest.mkdir()
    outside = tmp_path / "outside.py"
    (dest / "app.py").symlink_to(outside)
    result = paas("init", "--template", "python-flask", dest)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: `{dest}` already has `app.py`\n"
        "hint: Run `paas init --template` in an empty directory.\n"
    )
    assert not os.path.lexists(outside)
    assert [p.name for p in dest.iterdir()] == ["app.py"]


def test_a_template_directory_that_is_a_link_is_refused(tmp_path: Path) -> None:
    dest = tmp_path / "site"
    dest.mkdir()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (dest / "public").symlink_to(outside)
    result = paas("init", "--template", "static-site", dest)
    assert result.returncode == 2
    assert result.stderr == LINK_REFUSED.format(path=dest / "public")
    assert list(outside.iterdir()) == []
    assert [p.name for p in dest.iterdir()] == ["public"]


def test_a_template_copy_that_fails_on_the_way_removes_what_it_wrote(tmp_path: Path) -> None:
    dest = tmp_path / "web"
    dest.mkdir()
    # .gitignore, Procfile and README.md are under 1000 bytes; index.js is not.
    result = paas("init", "--template", "node-express", dest, file_size_limit=1000)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: cannot write `{dest / 'index.js'}`: File too large\n"
        "hint: Check the directory's permissions and free space.\n"
    )
    assert list(dest.iterdir()) == []


def test_a_template_copy_makes_its_directories_and_names_the_app(tmp_path: Path) -> None:
    dest = tmp_path / "site"
    result = paas("init", "--template", "static-site", dest, "--app", "site")
    assert result.returncode == 0, result.stderr
    assert (dest / "public" / "index.html").read_bytes() == (
        ROOT / "templates" / "static-site" / "public" / "index.html"
    ).read_bytes()
    assert "name: site" in (dest / "paas.yaml").read_text().splitlines()
