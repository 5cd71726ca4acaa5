"""Which files a build gets: .paasignore, else .gitignore, in gitignore syntax."""

from __future__ import annotations

from pathlib import Path

import pytest

from paas.build.source import IgnoreRules, copy_source, read_ignore_rules, source_files


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize(
    ("rules", "path", "is_dir", "ignored"),
    [
        ("*.log", "debug.log", False, True),
        ("*.log", "logs/app/debug.log", False, True),
        ("*.log", "debug.log.txt", False, False),
        ("node_modules/", "node_modules", True, True),
        ("node_modules/", "web/node_modules", True, True),
        ("node_modules/", "node_modules", False, False),  # a file of that name stays
        ("/build", "build", True, True),
        ("/build", "src/build", True, False),
        ("docs/*.md", "docs/a.md", False, True),
        ("docs/*.md", "docs/sub/a.md", False, False),
        ("docs/*.md", "x/docs/a.md", False, False),
        ("**/cache", "a/b/cache", True, True),
        ("**/cache", "cache", True, True),
        ("a/**/z", "a/z", False, True),
        ("a/**/z", "a/b/c/z", False, True),
        ("secret/**", "secret/x/y", False, True),
        ("file?.txt", "file1.txt", False, True),
        ("file?.txt", "file10.txt", False, False),
        ("[abc].py", "b.py", False, True),
        ("[!abc].py", "b.py", False, False),
        ("\\#notes", "#notes", False, True),
        ("# a comment", "# a comment", False, False),
        ("*.log\n!keep.log", "keep.log", False, False),
        ("*.log\n!keep.log", "other.log", False, True),
        ("!keep.log\n*.log", "keep.log", False, True),  # the last match wins
        ("", ".git", True, True),  # .git is never sent
        ("", "src/app.py", False, False),
    ],
)
def test_ignore_rules(rules: str, path: str, is_dir: bool, ignored: bool) -> None:
    assert IgnoreRules.parse(rules).ignored(path, is_dir=is_dir) is ignored


def test_paasignore_wins_over_gitignore(tmp_path: Path) -> None:
    app = write(
        tmp_path,
        {
            ".gitignore": "*.txt\n",
            ".paasignore": "*.md\n",
            "a.txt": "",
            "b.md": "",
            "app.py": "",
        },
    )
    rules = read_ignore_rules(app)
    assert rules.source == ".paasignore"
    assert sorted(source_files(app, rules)) == [".gitignore", ".paasignore", "a.txt", "app.py"]


def test_gitignore_is_the_default(tmp_path: Path) -> None:
    app = write(tmp_path, {".gitignore": "*.txt\n", "a.txt": "", "app.py": ""})
    assert read_ignore_rules(app).source == ".gitignore"
    assert sorted(source_files(app)) == [".gitignore", "app.py"]


def test_an_ignored_directory_is_not_entered(tmp_path: Path) -> None:
    app = write(
        tmp_path,
        {
            ".paasignore": "node_modules/\n!node_modules/keep.js\n",
            "node_modules/keep.js": "",
            "index.js": "",
        },
    )
    assert sorted(source_files(app)) == [".paasignore", "index.js"]


def test_git_directory_is_never_sent(tmp_path: Path) -> None:
    app = write(tmp_path, {".git/HEAD": "ref: refs/heads/main\n", "main.go": ""})
    assert list(source_files(app)) == ["main.go"]


def test_copy_source_keeps_modes_and_symlinks(tmp_path: Path) -> None:
    app = write(
        tmp_path / "app",
        {".gitignore": "venv/\n", "run.sh": "#!/bin/sh\n", "venv/x": "", "a/b.txt": "b"},
    )
    (app / "run.sh").chmod(0o755)
    (app / "link").symlink_to("a/b.txt")
    dest = tmp_path / "out"
    assert copy_source(app, dest) == 4
    assert (dest / "run.sh").stat().st_mode & 0o111
    assert (dest / "link").is_symlink()
    assert (dest / "link").read_text() == "b"
    assert not (dest / "venv").exists()


def test_starter_gitignores_keep_build_output_out(tmp_path: Path) -> None:
    templates = Path(__file__).resolve().parents[3] / "templates"
    app = write(tmp_path / "node", {"node_modules/express/index.js": "", "index.js": ""})
    (app / ".gitignore").write_text((templates / "node-express" / ".gitignore").read_text())
    assert sorted(source_files(app)) == [".gitignore", "index.js"]
