"""Dependency mirrors: settings to build variables, credentials kept out of command lines (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from paas.build.mirrors import credential_env, mirror_env
from paas.build.pack import pack_arguments, private_env_file
from paas.build.plan import plan_build
from paas.manifest import read_app
from paas.settings import ClusterSettings, MirrorSettings

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
MIRRORS = MirrorSettings(
    pip="https://pypi.internal/simple",
    npm="https://npm.internal/repo/",
    go="https://goproxy.internal,direct",
    maven="https://maven.internal/central",
    gems="https://gems.internal",
    composer="https://composer.internal",
    credentials="mirror-creds",
)


def test_each_mirror_becomes_the_variables_its_tools_read() -> None:
    assert mirror_env(MIRRORS) == {
        "PIP_INDEX_URL": "https://pypi.internal/simple",
        "UV_DEFAULT_INDEX": "https://pypi.internal/simple",
        "PAAS_NODE_INDEX_URL": "https://pypi.internal/simple",
        "npm_config_registry": "https://npm.internal/repo/",
        "YARN_REGISTRY": "https://npm.internal/repo/",
        "YARN_NPM_REGISTRY_SERVER": "https://npm.internal/repo/",
        "GOPROXY": "https://goproxy.internal,direct",
        "PAAS_MAVEN_MIRROR": "https://maven.internal/central",
        "PAAS_GEM_MIRROR": "https://gems.internal",
        "PAAS_COMPOSER_MIRROR": "https://composer.internal",
    }
    assert mirror_env(MirrorSettings()) == {}


def test_credentials_from_the_secret_become_secret_variables() -> None:
    secret = {
        "pip-username": "ci",
        "pip-password": "p@ss:word",
        "npm-username": "ci",
        "npm-password": "tok",
        "maven-username": "deploy",
        "maven-password": "m",
        "go-username": "g",
        "go-password": "h",
    }

    env = credential_env(MIRRORS, secret)

    assert env["PIP_INDEX_URL"] == "https://ci:p%40ss%3Aword@pypi.internal/simple"
    assert env["npm_config_//npm.internal/repo/:_auth"] == "Y2k6dG9r"  # base64 of ci:tok
    assert env["GOPROXY"] == "https://g:h@goproxy.internal,direct"
    assert env["PAAS_MAVEN_MIRROR_USERNAME"] == "deploy"
    assert env["PAAS_MAVEN_MIRROR_PASSWORD"] == "m"
    assert "PAAS_GEM_MIRROR_USERNAME" not in env  # no keys for gems in the Secret


def test_a_mirror_url_with_credentials_in_it_is_refused() -> None:
    with pytest.raises(ValidationError, match="credentials in its URL"):
        MirrorSettings(pip="https://user:pw@pypi.internal/simple")
    with pytest.raises(ValidationError, match="must be an http"):
        MirrorSettings(npm="npm.internal")


def test_a_buildpack_plan_carries_the_mirrors_and_build_env_overrides_them(tmp_path: Path) -> None:
    spec, detection = read_app(TEMPLATES / "python-flask")
    settings = ClusterSettings(mirrors=MIRRORS)

    plan = plan_build(
        spec, detection, settings, extra_env={"PIP_INDEX_URL": "https://other/simple"}
    )

    assert plan.env["GOPROXY"] == "https://goproxy.internal,direct"
    assert plan.env["PIP_INDEX_URL"] == "https://other/simple"
    assert plan.mirrors.credentials == "mirror-creds"
    secret = {"PAAS_MAVEN_MIRROR_PASSWORD": "s3cret"}
    with private_env_file({**plan.env, **secret}) as (path, by_name):
        args = pack_arguments(plan.with_tag("t1"), tmp_path, env_file=path)
        lines = path.read_text().splitlines()
    # Values, secret or not, are in the env file, never on pack's command line.
    assert "PAAS_MAVEN_MIRROR_PASSWORD=s3cret" in lines
    assert "PIP_INDEX_URL=https://other/simple" in lines
    assert by_name == {}
    assert args[args.index("--env-file") + 1] == str(path)
    assert "--env" not in args
    assert not any("s3cret" in a or "other/simple" in a for a in args)


def test_a_dockerfile_plan_gets_no_mirror_variables() -> None:
    spec, detection = read_app(TEMPLATES / "dockerfile")

    plan = plan_build(spec, detection, ClusterSettings(mirrors=MIRRORS))

    assert "PIP_INDEX_URL" not in plan.env
    assert plan.mirrors.credentials is None
