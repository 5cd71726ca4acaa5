"""Which pushes take the code-only fast path, and the layer it makes from the source."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest

from paas.build.applayer import KIND_FILE, KIND_LINK, Entry, LayerRefused, read_layer, write_layer
from paas.build.codeonly import (
    CodeOnly,
    changed_paths,
    declared,
    new_layer_entries,
    refusal,
    source_entries,
)
from paas.build.fastpath import enabled, lineage_key, lineage_tag
from paas.build.plan import BuildPlan

FIXTURE = Path(__file__).parent / "fixtures" / "lifecycle-app-layer.tar"
PYTHON = {"deps": ["requirements.txt", "requirements/", ".python-version"], "generated": []}
NODE = {"deps": ["package.json", "node_modules"], "generated": ["node_modules"]}


def _labels(*buildpacks: str, **declared_: dict[str, list[str]]) -> dict[str, str]:
    group = [{"id": b, "version": "0.1.0"} for b in buildpacks]
    labels = {"io.buildpacks.build.metadata": json.dumps({"buildpacks": group})}
    for name, value in declared_.items():
        labels[f"io.paas.code-only.{name}"] = json.dumps(value)
    return labels


def test_every_buildpack_of_the_group_must_declare_it() -> None:
    both = declared(
        _labels("paas/python", "paas/procfile", python=PYTHON, procfile={"deps": ["Procfile"]})
    )
    assert isinstance(both, CodeOnly)
    assert "requirements.txt" in both.deps
    assert "Procfile" in both.deps
    missing = declared(_labels("paas/python", "paas/procfile", python=PYTHON))
    assert (
        missing
        == "the buildpack `paas/procfile` did not declare its output independent of the app code"
    )
    assert "not readable" in str(
        declared({**_labels("paas/python"), "io.paas.code-only.python": "{"})
    )
    assert "no readable" in str(declared({}))
    # A buildpack of another builder never qualifies, whatever labels the image has.
    assert "heroku/python" in str(declared(_labels("heroku/python", python=PYTHON)))


def test_a_code_change_qualifies_and_a_dependency_or_platform_file_does_not() -> None:
    code = declared(_labels("paas/python", python=PYTHON))
    assert isinstance(code, CodeOnly)
    assert refusal(code, {"app.py", "templates/index.html"}) is None
    assert refusal(code, set()) is None
    assert "`requirements.txt` changed" in str(refusal(code, {"app.py", "requirements.txt"}))
    assert refusal(code, {"requirements/dev.txt"}) is not None
    for always in (
        "Procfile",
        "paas.yaml",
        "app.json",
        "project.toml",
        ".paasignore",
        "Dockerfile",
        "heroku.yml",
    ):
        assert refusal(code, {always}) is not None, always
    # Root-anchored: a Procfile deeper in the tree is app code.
    assert refusal(code, {"docs/Procfile"}) is None


def _entry(path: str, data: bytes = b"", mode: int = 0o644) -> Entry:
    return Entry(path, KIND_FILE, mode, data)


def test_changed_paths_are_additions_deletions_contents_and_modes() -> None:
    code = CodeOnly(("package.json",), ("node_modules",))
    old = [
        Entry("", "5", 0o755),
        _entry("a.js", b"1"),
        _entry("b.js", b"1"),
        _entry("run.sh", b"x"),
        Entry("node_modules", KIND_LINK, 0o777, target="/layers/paas_nodejs/modules/node_modules"),
    ]
    new = {
        "a.js": _entry("a.js", b"2"),
        "c.js": _entry("c.js", b"1"),
        "run.sh": _entry("run.sh", b"x", 0o755),
    }
    assert changed_paths(old, new, code) == {"a.js", "b.js", "c.js", "run.sh"}
    own = {**new, "node_modules/x/index.js": _entry("node_modules/x/index.js")}
    assert "where a buildpack writes" in str(changed_paths(old, own, code))


def _extract(tmp_path: Path) -> Path:
    app = tmp_path / "app"
    with tarfile.open(FIXTURE) as archive:
        for member in archive.getmembers()[1:]:
            target = app / member.name.removeprefix("/workspace/")
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            assert source is not None
            target.write_bytes(source.read())
            os.chmod(target, member.mode)
    return app


def test_the_source_of_a_layer_makes_that_layer_again(tmp_path: Path) -> None:
    app = _extract(tmp_path)
    old = read_layer(FIXTURE.read_bytes())
    code = CodeOnly(("requirements.txt",), ())
    new = source_entries(app, "local")
    assert changed_paths(old, new, code) == set()
    assert write_layer(new_layer_entries(old, new, code, "local")) == FIXTURE.read_bytes()


def test_a_code_change_changes_only_that_file_and_keeps_generated_entries(tmp_path: Path) -> None:
    app = _extract(tmp_path)
    (app / "app.py").write_text("print('v2')\n")
    (app / "pages").mkdir()
    (app / "pages" / "about.html").write_text("<p>about</p>\n")
    link = Entry(
        "node_modules", KIND_LINK, 0o777, target="/layers/paas_nodejs/modules/node_modules"
    )
    old = [*read_layer(FIXTURE.read_bytes()), link]
    code = CodeOnly(("requirements.txt",), ("node_modules",))
    new = source_entries(app, "local")
    assert changed_paths(old, new, code) == {"app.py", "pages/about.html"}
    entries = {e.path: e for e in new_layer_entries(old, new, code, "local")}
    assert entries["node_modules"] == link
    assert entries["app.py"].data == b"print('v2')\n"
    assert entries["pages"].mode == entries[""].mode == 0o777  # as `local` creates directories
    assert new_layer_entries(old, new, code, "cluster")[-1].mode in (0o644, 0o755, 0o777)
    assert {e.path: e for e in new_layer_entries(old, new, code, "cluster")}["pages"].mode == 0o755


def test_modes_follow_the_strategy_and_hard_links_are_refused(tmp_path: Path) -> None:
    (tmp_path / "tool").write_text("x")
    os.chmod(tmp_path / "tool", 0o775)
    assert source_entries(tmp_path, "local")["tool"].mode == 0o775
    assert source_entries(tmp_path, "cluster")["tool"].mode == 0o755  # tar -x under umask 022
    os.link(tmp_path / "tool", tmp_path / "tool2")
    with pytest.raises(LayerRefused, match="hard link"):
        source_entries(tmp_path, "local")


def _plan(env: dict[str, str]) -> BuildPlan:
    return BuildPlan(
        app="web",
        strategy="local",
        source_path=".",
        repository="r/web",
        builder="r/paas/builder:latest",
        buildpacks=(),
        dockerfile=None,
        env=env,
    )


def test_the_lineage_tag_names_builder_plan_and_image() -> None:
    plan = _plan({"A": "1"})
    key = lineage_key("sha256:" + "b" * 64, plan)
    tag = lineage_tag(key, "sha256:" + "c" * 64)
    assert tag == f"bld-{key}-{'c' * 40}"
    assert len(tag) <= 128
    assert lineage_key("sha256:" + "d" * 64, plan) != key  # a rebuilt builder
    other = _plan({"A": "2"})
    assert lineage_key("sha256:" + "b" * 64, other) != key  # another build env (web command)


def test_the_fast_path_switch() -> None:
    assert enabled({})
    assert enabled({"PAAS_FAST_PATH": "1"})
    assert not any(enabled({"PAAS_FAST_PATH": v}) for v in ("0", "false", "no", "off"))
