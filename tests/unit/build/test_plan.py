"""Build planning: strategy, builder, tags and build env from the app, detection and settings."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from paas.build.plan import is_paas_builder, plan_build, resolve_builder
from paas.detect import DETECTORS
from paas.errors import BuildError, ExitCode, UsageError
from paas.manifest import read_app
from paas.settings import ClusterSettings

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "templates"
FIXTURES = ROOT / "tests" / "fixtures" / "apps"
SETTINGS = ClusterSettings(registry="registry.example.com:5000")


def plan_for(path: Path, settings: ClusterSettings = SETTINGS, **kwargs):
    app, detection = read_app(path)
    tag = kwargs.pop("tag", "abc123")
    return plan_build(app, detection, settings, **kwargs).with_tag(tag)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.parametrize(
    ("template", "language"),
    [
        ("python-flask", "python"),
        ("node-express", "node"),
        ("go-http", "go"),
        ("static-site", "static"),
        ("web-worker", "python"),
    ],
)
def test_buildpack_starters_plan_a_local_pack_build_with_the_paas_builder(
    template: str, language: str
) -> None:
    plan = plan_for(TEMPLATES / template)
    assert plan.strategy == "local"
    assert plan.language == language
    assert plan.builder == "registry.example.com:5000/paas/builder:latest"
    assert plan.image == f"registry.example.com:5000/{template}:abc123"
    assert plan.image_tags == (
        f"registry.example.com:5000/{template}:abc123",
        f"registry.example.com:5000/{template}:latest",
    )
    assert plan.previous_image == f"registry.example.com:5000/{template}:latest"
    assert plan.dockerfile is None
    assert plan.cache_name == f"paas-cache-{template}"


def test_dockerfile_starter_plans_a_dockerfile_build_without_a_builder() -> None:
    plan = plan_for(TEMPLATES / "dockerfile")
    assert plan.strategy == "dockerfile"
    assert plan.dockerfile == "Dockerfile"
    assert plan.builder is None
    assert plan.image == "registry.example.com:5000/dockerfile:abc123"


def test_the_detected_web_command_is_passed_to_the_paas_builder() -> None:
    plan = plan_for(FIXTURES / "go-getting-started")
    assert plan.env["PAAS_WEB_COMMAND"] == "go-getting-started"
    plan = plan_for(TEMPLATES / "static-site")
    assert plan.env["PAAS_WEB_COMMAND"] == "paas-static-server"


def test_other_builders_get_no_paas_specific_env(tmp_path: Path) -> None:
    plan = plan_for(TEMPLATES / "go-http", builder="heroku/builder:24")
    assert plan.builder == "heroku/builder:24"
    assert "PAAS_WEB_COMMAND" not in plan.env


def test_build_env_from_paas_yaml_and_the_command_line(tmp_path: Path) -> None:
    app = write(
        tmp_path / "app",
        {
            "requirements.txt": "flask\n",
            "app.py": "from flask import Flask\napp = Flask(__name__)\n",
            "paas.yaml": "name: envy\nbuild:\n  env:\n    A: from-yaml\n    B: kept\n",
        },
    )
    plan = plan_for(app, extra_env={"A": "from-cli"})
    assert plan.env["A"] == "from-cli"
    assert plan.env["B"] == "kept"


def test_builder_precedence_cli_then_paas_yaml_then_settings(tmp_path: Path) -> None:
    app = write(
        tmp_path / "app",
        {
            "go.mod": "module example.com/x\n\ngo 1.22\n",
            "paas.yaml": "name: x\nbuild:\n  builder: paketobuildpacks/builder-jammy-base\n",
        },
    )
    assert plan_for(app).builder == "paketobuildpacks/builder-jammy-base"
    assert (
        plan_for(app, builder="paas/builder:v2").builder
        == "registry.example.com:5000/paas/builder:v2"
    )
    settings = ClusterSettings(registry="r:5000", builder="heroku/builder:24")
    assert plan_for(TEMPLATES / "go-http", settings).builder == "heroku/builder:24"


def test_buildpacks_order_and_build_path_come_from_paas_yaml(tmp_path: Path) -> None:
    app = write(
        tmp_path / "mono",
        {
            "services/api/go.mod": "module example.com/api\n\ngo 1.22\n",
            "paas.yaml": "name: api\nbuild:\n  path: services/api\n  buildpacks: [paas/go]\n",
        },
    )
    plan = plan_for(app)
    assert plan.source_path == "services/api"
    assert plan.buildpacks == ("paas/go",)
    assert plan.language == "go"


@pytest.mark.parametrize(
    ("name", "ref"),
    [
        ("paas/builder", "reg:5000/paas/builder:latest"),
        ("paas/builder:v3", "reg:5000/paas/builder:v3"),
        ("paas/builder@sha256:" + "a" * 64, "reg:5000/paas/builder@sha256:" + "a" * 64),
        ("heroku/builder:24", "heroku/builder:24"),
        ("other.example.com/paas/builder", "other.example.com/paas/builder"),
    ],
)
def test_resolve_builder(name: str, ref: str) -> None:
    assert resolve_builder(name, "reg:5000") == ref
    assert is_paas_builder(ref, "reg:5000") == name.startswith("paas/")


def test_insecure_registry_is_only_used_when_the_settings_say_so() -> None:
    assert plan_for(TEMPLATES / "go-http").insecure_registry is False
    insecure = ClusterSettings(registry="reg:5000", insecure_registry=True)
    plan = plan_for(TEMPLATES / "go-http", insecure)
    assert plan.insecure_registry is True
    assert plan.registry == "reg:5000"


def test_dockerfile_strategy_without_a_dockerfile_is_a_build_error() -> None:
    with pytest.raises(BuildError) as caught:
        plan_for(TEMPLATES / "python-flask", strategy="dockerfile")
    assert caught.value.message == "App `python-flask` has no Dockerfile to build with."
    assert "--strategy local" in caught.value.hint
    assert caught.value.exit_code == ExitCode.BUILD


def test_buildpacks_for_a_dockerfile_app_is_a_build_error() -> None:
    with pytest.raises(BuildError) as caught:
        plan_for(TEMPLATES / "dockerfile", strategy="local")
    assert caught.value.message == (
        "App `dockerfile` builds from `Dockerfile`, which buildpacks do not use."
    )
    assert "--strategy dockerfile" in caught.value.hint


def test_the_paas_builder_has_a_buildpack_group_for_every_detected_language() -> None:
    order = tomllib.loads((ROOT / "buildpacks" / "builder.toml").read_text())["order"]
    first = [group["group"][0]["id"].removeprefix("paas/") for group in order]
    names = {"node": "nodejs"}
    languages = [d.language for d in DETECTORS if d.language != "dockerfile"]
    # The same order as `paas detect`, then the Procfile-only group.
    assert first == [names.get(lang, lang) for lang in languages] + ["procfile"]
    assert all(group["group"][-1]["id"] == "paas/procfile" for group in order)


@pytest.mark.parametrize(
    "fixture", ["ruby-getting-started", "java-getting-started", "php-getting-started"]
)
def test_ruby_java_and_php_apps_plan_with_the_paas_builder(fixture: str) -> None:
    plan = plan_for(FIXTURES / fixture)
    assert plan.builder is not None
    assert plan.builder.endswith("/paas/builder:latest")


def test_unknown_strategy_and_bad_tag_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="Unknown build strategy `docker`"):
        plan_for(TEMPLATES / "go-http", strategy="docker")
    with pytest.raises(UsageError, match="is not a valid image tag"):
        plan_for(TEMPLATES / "go-http", tag="-bad")


def test_latest_tag_is_not_doubled() -> None:
    plan = plan_for(TEMPLATES / "go-http", tag="latest")
    assert plan.image_tags == ("registry.example.com:5000/go-http:latest",)


def test_cluster_strategy_is_planned_with_the_builder() -> None:
    plan = plan_for(TEMPLATES / "go-http", strategy="cluster")
    assert plan.strategy == "cluster"
    assert plan.builder == "registry.example.com:5000/paas/builder:latest"


def test_plan_to_dict_is_json_friendly() -> None:
    import json

    data = plan_for(TEMPLATES / "node-express").to_dict()
    assert json.loads(json.dumps(data))["strategy"] == "local"
