"""The pure parts of the strategies: tool arguments and how failures are explained."""

from __future__ import annotations

from pathlib import Path

from paas.build.builder import BuilderImages, staged_builder_toml
from paas.build.credentials import config_with_credentials
from paas.build.dockerfile import build_arguments, failed_step, push_arguments
from paas.build.pack import build_error, pack_arguments
from paas.build.plan import plan_build
from paas.build.tools import ToolRun
from paas.manifest import read_app
from paas.settings import ClusterSettings

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "templates"


def plan_for(template: str, **settings: object):
    path = TEMPLATES / template
    app, detection = read_app(path)
    return plan_build(app, detection, ClusterSettings(registry="reg:5000", **settings)).with_tag(
        "t1"
    )


def run_with(lines: list[str], code: int = 1) -> ToolRun:
    run = ToolRun(exit_code=code)
    run.tail.extend(lines)
    run.lines.extend(lines)
    return run


def test_pack_arguments_publish_offline_with_a_per_app_cache() -> None:
    args = pack_arguments(plan_for("go-http"), Path("/src"))
    assert args[:2] == ["build", "reg:5000/go-http:t1"]
    pairs = dict(zip(args[2::2], args[3::2], strict=False))
    assert pairs["--builder"] == "reg:5000/paas/builder:latest"
    assert pairs["--path"] == "/src"
    assert "--publish" in args
    assert "--trust-builder" in args
    assert args[args.index("--cache") + 1] == "type=build;format=volume;name=paas-cache-go-http"
    assert args[args.index("--previous-image") + 1] == "reg:5000/go-http:latest"
    assert args[args.index("--tag") + 1] == "reg:5000/go-http:latest"
    assert "--env" not in args  # build variables go in the env file only
    assert "--insecure-registry" not in args


def test_pack_arguments_insecure_registry_only_from_settings() -> None:
    args = pack_arguments(plan_for("go-http", insecure_registry=True), Path("/src"))
    assert args[args.index("--insecure-registry") + 1] == "reg:5000"


def test_pack_failure_in_a_buildpack_step_names_the_step_and_hint() -> None:
    plan = plan_for("python-flask")
    run = run_with(
        [
            "[builder] -----> Python 3.9",
            "[builder]  !     error in step `resolve Python version`: Python `3.9` (from .python-version) "
            "is not available; this builder has 3.11.2, 3.13.5",
            "[builder]  !     hint: ask for one of those versions in .python-version",
            "ERROR: failed to build: exit status 1",
        ]
    )
    error = build_error(plan, run)
    assert error.message == (
        "Building `python-flask` failed in step `resolve Python version`: Python `3.9` "
        "(from .python-version) is not available; this builder has 3.11.2, 3.13.5"
    )
    assert error.hint == "ask for one of those versions in .python-version"


def test_pack_failure_without_a_detecting_buildpack() -> None:
    error = build_error(
        plan_for("go-http"), run_with(["ERROR: No buildpack groups passed detection."])
    )
    assert (
        error.message
        == "No buildpack of `reg:5000/paas/builder:latest` recognised the app `go-http`."
    )


def test_pack_failure_otherwise_shows_the_last_line() -> None:
    error = build_error(plan_for("go-http"), run_with(["something", "ERROR: boom", ""], code=2))
    assert error.message == "`pack build` of `go-http` exited 2: ERROR: boom"


def test_dockerfile_arguments_and_failed_step() -> None:
    plan = plan_for("dockerfile")
    args = build_arguments("podman", plan, Path("/ctx"))
    assert args == ["build", "-f", "/ctx/Dockerfile", "-t", "reg:5000/dockerfile:t1", "/ctx"]
    assert push_arguments("podman", plan, plan.image, Path("/d")) == [
        "push",
        "--digestfile",
        "/d",
        "reg:5000/dockerfile:t1",
    ]
    run = run_with(["STEP 1/3: FROM x", "STEP 2/3: RUN make", 'Error: building at STEP "RUN make"'])
    assert failed_step(run) == "2/3: RUN make"
    run = run_with(["[1/2] STEP 1/4: FROM a AS b", "[1/2] STEP 3/4: RUN false"])
    assert failed_step(run) == "3/4: RUN false"
    assert failed_step(run_with(["Step 2/5 : RUN false"])) == "2/5: RUN false"


def test_credentials_are_merged_into_the_docker_config() -> None:
    merged = config_with_credentials(
        {
            "auths": {"other": {"auth": "x"}},
            "credsStore": "desktop",
            "credHelpers": {"reg:5000": "gcr"},
        },
        "reg:5000",
        "user",
        "pw",
    )
    assert merged["auths"] == {"other": {"auth": "x"}, "reg:5000": {"auth": "dXNlcjpwdw=="}}
    assert "credsStore" not in merged
    assert merged["credHelpers"] == {}


def test_builder_toml_is_staged_with_the_built_images_and_a_local_lifecycle() -> None:
    text = (ROOT / "buildpacks" / "builder.toml").read_text()
    images = BuilderImages.for_registry("reg:5000")
    staged = staged_builder_toml(text, images, "file:///stage/lifecycle.tgz")
    assert '[build]\n  image = "reg:5000/paas/build:bookworm"' in staged
    assert '[[run.images]]\n  image = "reg:5000/paas/run:bookworm"' in staged
    assert '[lifecycle]\n  uri = "file:///stage/lifecycle.tgz"' in staged
    assert images.builder == "reg:5000/paas/builder:latest"
