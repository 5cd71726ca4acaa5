from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from paas.detect import Evidence, detect
from paas.detect.go import binary_name, detect_go, parse_go_mod

MakeApp = Callable[[dict[str, str]], Path]
FixtureApp = Callable[[str], Path]


def test_getting_started_is_gin_run_as_its_binary(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("go-getting-started"))

    assert detection.language == "go"
    assert detection.package_manager == "go"
    assert detection.framework == "gin"
    assert detection.default_web_command == "go-getting-started"
    assert detection.runtime_version == "1.22"
    assert detection.runtime_version_source == Evidence("go.mod", "go.mod has go 1.22")
    assert detection.evidence == (
        Evidence("go.mod", "go.mod is present"),
        Evidence("go.mod", "go.mod requires github.com/gin-gonic/gin"),
        Evidence("go.mod", "go.mod declares module github.com/heroku/go-getting-started"),
    )


def test_toolchain_line_wins_over_go_line(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("go-toolchain"))

    assert detection.runtime_version == "1.22.3"
    assert detection.runtime_version_source == Evidence("go.mod", "go.mod has toolchain go1.22.3")
    assert detection.framework == "echo"
    assert detection.default_web_command == "hello"  # module example.com/hello/v2


def test_no_go_mod_is_not_a_go_app(make_app: MakeApp) -> None:
    assert detect_go(make_app({"main.go": "package main\n", "go.sum": ""})) is None


def test_go_mod_without_module_line_has_no_command(make_app: MakeApp) -> None:
    detection = detect_go(make_app({"go.mod": "go 1.21\n"}))

    assert detection is not None
    assert detection.default_web_command is None
    assert detection.runtime_version == "1.21"


def test_go_mod_without_version(make_app: MakeApp) -> None:
    detection = detect_go(make_app({"go.mod": "module hello\n"}))

    assert detection is not None
    assert detection.runtime_version is None
    assert detection.runtime_version_source is None
    assert detection.default_web_command == "hello"
    assert detection.framework is None


@pytest.mark.parametrize(
    ("require", "framework"),
    [
        ("require github.com/gofiber/fiber/v2 v2.52.4", "fiber"),
        ("require (\n\tgithub.com/go-chi/chi/v5 v5.0.12\n)", "chi"),
        ("require github.com/gin-gonic/gin-extra v1.0.0", None),  # a prefix is not a match
        ("// require github.com/gin-gonic/gin v1.10.0", None),
    ],
)
def test_framework_from_require_lines(
    make_app: MakeApp, require: str, framework: str | None
) -> None:
    detection = detect_go(make_app({"go.mod": f"module example.com/web\n\ngo 1.22\n\n{require}\n"}))

    assert detection is not None
    assert detection.framework == framework


def test_parse_go_mod_reads_directives_and_ignores_comments() -> None:
    mod = parse_go_mod(
        '// header comment\nmodule "example.com/m" // trailing\n\ngo 1.22.1\n'
        "toolchain go1.23.0\n\nrequire (\n\t// a comment\n\texample.com/a v1.0.0\n"
        "\texample.com/b v0.1.0 // indirect\n)\nrequire example.com/c v1.2.3\n"
        "replace example.com/a => ../a\n"
    )

    assert mod.module == "example.com/m"
    assert mod.go == "1.22.1"
    assert mod.toolchain == "go1.23.0"
    assert mod.requires == ["example.com/a", "example.com/b", "example.com/c"]


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("github.com/heroku/go-getting-started", "go-getting-started"),
        ("example.com/hello/v2", "hello"),
        ("hello", "hello"),
        ("v2", "v2"),
    ],
)
def test_binary_name(module: str, name: str) -> None:
    assert binary_name(module) == name
