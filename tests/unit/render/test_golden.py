"""Render output against golden YAML files in tests/golden/.

Regenerate with `PAAS_UPDATE_GOLDEN=1 pytest tests/unit/render`, then read the diff: a
file that changed is rewritten and its test fails, saying so, so an update never
passes silently. Under CI the flag is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from paas.manifest import load_app
from paas.releases import Release
from paas.render import render
from paas.render.output import to_yaml
from paas.settings import ClusterSettings, parse_settings

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden"
CASES = Path(__file__).parent / "cases"
TEMPLATES = ROOT / "templates"
DIGEST = "sha256:" + "ab12" * 16


def _render_dir(app_dir: Path, settings: ClusterSettings) -> str:
    app = load_app(app_dir)
    release = Release(
        version=3,
        image=f"{settings.registry}/{app.name}@{DIGEST}",
        config={"GREETING": "Hello from config"},
        commit="3f2a1c9",
        image_kind="dockerfile" if app.dockerfile else "cnb",
    )
    return to_yaml(render(app, release, settings))


def _check(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.yaml"
    before = path.read_text() if path.exists() else None
    if os.environ.get("PAAS_UPDATE_GOLDEN"):
        if os.environ.get("CI"):
            pytest.fail("PAAS_UPDATE_GOLDEN is set under CI: golden files are updated by hand")
        if text != before:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            pytest.fail(f"rewrote {path.name}: read its diff, then run the tests again")
    assert before is not None, f"no golden file {path}; run with PAAS_UPDATE_GOLDEN=1"
    assert text == before


STARTERS = sorted(p.name for p in TEMPLATES.iterdir() if (p / "paas.yaml").is_file())
OPTION_CASES = sorted(p.name for p in CASES.iterdir() if p.is_dir())


def test_every_starter_and_option_case_has_a_golden_file() -> None:
    assert (
        sorted(
            ["dockerfile", "go-http", "node-express", "python-flask", "static-site", "web-worker"]
        )
        == STARTERS
    )
    expected = {f"starter-{s}.yaml" for s in STARTERS} | {f"option-{c}.yaml" for c in OPTION_CASES}
    assert {p.name for p in GOLDEN.glob("*.yaml")} == expected


@pytest.mark.parametrize("starter", STARTERS)
def test_starter_renders_as_golden(starter: str) -> None:
    settings = ClusterSettings(domain="apps.example.net", registry="registry.example.net")
    _check(f"starter-{starter}", _render_dir(TEMPLATES / starter, settings))


@pytest.mark.parametrize("case", OPTION_CASES)
def test_option_case_renders_as_golden(case: str) -> None:
    settings_file = CASES / case / "settings.yaml"
    settings = (
        parse_settings(settings_file.read_text(), "settings.yaml")
        if settings_file.exists()
        else ClusterSettings(domain="apps.example.net", registry="registry.example.net")
    )
    _check(f"option-{case}", _render_dir(CASES / case, settings))
