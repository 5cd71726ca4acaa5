from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from paas.detect import Evidence, detect
from paas.detect.node import detect_node
from paas.errors import DetectError

MakeApp = Callable[[dict[str, str]], Path]
FixtureApp = Callable[[str], Path]


def package(**fields: object) -> str:
    return json.dumps({"name": "app", **fields}, indent=2)


def test_getting_started_is_express_started_by_npm(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("node-js-getting-started"))

    assert detection.language == "node"
    assert detection.package_manager == "npm"
    assert detection.framework == "express"
    assert detection.default_web_command == "npm start"
    assert detection.runtime_version == "20.x"
    assert detection.runtime_version_source == Evidence(
        "package.json", "package.json has engines.node '20.x'"
    )
    assert detection.evidence == (
        Evidence("package.json", "package.json is present"),
        Evidence("package-lock.json", "package-lock.json is present"),
        Evidence("package.json", "package.json depends on express"),
        Evidence("package.json", "package.json has a start script"),
    )


def test_no_package_json_is_not_a_node_app(make_app: MakeApp) -> None:
    app = make_app({"index.js": "", "package-lock.json": "{}", ".nvmrc": "20\n"})

    assert detect_node(app) is None


def test_minimal_package_json_defaults_to_npm(make_app: MakeApp) -> None:
    detection = detect_node(make_app({"package.json": "{}"}))

    assert detection is not None
    assert detection.package_manager == "npm"
    assert Evidence("package.json", "there is no lockfile, so npm is used") in detection.evidence
    assert detection.runtime_version is None
    assert detection.framework is None
    assert detection.default_web_command is None


@pytest.mark.parametrize(
    ("name", "manager", "command"),
    [
        ("node-js-getting-started", "npm", "npm start"),
        ("node-yarn", "yarn", "yarn start"),
        ("node-pnpm", "pnpm", "node server.js"),
        ("node-nvmrc", "npm", "node src/app.js"),
    ],
)
def test_package_manager_and_command_of_fixture_apps(
    fixture_app: FixtureApp, name: str, manager: str, command: str
) -> None:
    detection = detect(fixture_app(name))

    assert detection.language == "node"
    assert detection.package_manager == manager
    assert detection.default_web_command == command


@pytest.mark.parametrize(
    ("lockfile", "manager"),
    [
        ("package-lock.json", "npm"),
        ("npm-shrinkwrap.json", "npm"),
        ("yarn.lock", "yarn"),
        ("pnpm-lock.yaml", "pnpm"),
    ],
)
def test_lockfile_decides_package_manager(make_app: MakeApp, lockfile: str, manager: str) -> None:
    app = make_app({"package.json": package(scripts={"start": "node ."}), lockfile: ""})

    detection = detect_node(app)

    assert detection is not None
    assert detection.package_manager == manager
    assert detection.default_web_command == f"{manager} start"
    assert Evidence(lockfile, f"{lockfile} is present") in detection.evidence


@pytest.mark.parametrize(("field", "manager"), [("pnpm@9.1.0", "pnpm"), ("yarn@4.3.1", "yarn")])
def test_package_manager_field_without_lockfile(
    make_app: MakeApp, field: str, manager: str
) -> None:
    detection = detect_node(make_app({"package.json": package(packageManager=field)}))

    assert detection is not None
    assert detection.package_manager == manager
    assert (
        Evidence("package.json", f"package.json has packageManager {field!r}") in detection.evidence
    )


def test_lockfile_wins_over_package_manager_field(make_app: MakeApp) -> None:
    app = make_app({"package.json": package(packageManager="pnpm@9.1.0"), "yarn.lock": ""})

    detection = detect_node(app)

    assert detection is not None
    assert detection.package_manager == "yarn"


def test_unknown_package_manager_field_falls_back_to_npm(make_app: MakeApp) -> None:
    detection = detect_node(make_app({"package.json": package(packageManager="bun@1.1.0")}))

    assert detection is not None
    assert detection.package_manager == "npm"


# --- runtime version -------------------------------------------------------------------


def test_nvmrc_fixture_version(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("node-nvmrc"))

    assert detection.runtime_version == "v20.14.0"
    assert detection.runtime_version_source == Evidence(
        ".nvmrc", ".nvmrc asks for Node.js v20.14.0"
    )


def test_engines_wins_over_nvmrc_and_node_version(make_app: MakeApp) -> None:
    app = make_app(
        {
            "package.json": package(engines={"node": ">=18 <23"}),
            ".nvmrc": "20\n",
            ".node-version": "22.3.0\n",
        }
    )

    detection = detect_node(app)

    assert detection is not None
    assert detection.runtime_version == ">=18 <23"


def test_nvmrc_wins_over_node_version(make_app: MakeApp) -> None:
    app = make_app({"package.json": "{}", ".nvmrc": "lts/iron\n", ".node-version": "22.3.0\n"})

    detection = detect_node(app)

    assert detection is not None
    assert detection.runtime_version == "lts/iron"


def test_node_version_file(make_app: MakeApp) -> None:
    detection = detect_node(make_app({"package.json": "{}", ".node-version": "22.3.0\n"}))

    assert detection is not None
    assert detection.runtime_version == "22.3.0"
    assert detection.runtime_version_source == Evidence(
        ".node-version", ".node-version asks for Node.js 22.3.0"
    )


def test_engines_that_is_not_a_string_is_ignored(make_app: MakeApp) -> None:
    app = make_app({"package.json": package(engines={"node": 20}), ".nvmrc": "20\n"})

    detection = detect_node(app)

    assert detection is not None
    assert detection.runtime_version == "20"


# --- default web command and framework -------------------------------------------------


def test_main_field_is_run_when_there_is_no_start_script(make_app: MakeApp) -> None:
    app = make_app({"package.json": package(main="lib/web.js"), "lib/web.js": "", "index.js": ""})

    detection = detect_node(app)

    assert detection is not None
    assert detection.default_web_command == "node lib/web.js"
    assert Evidence("lib/web.js", "lib/web.js is present and there is no start script") in (
        detection.evidence
    )


def test_missing_main_file_falls_back_to_server_js_then_index_js(make_app: MakeApp) -> None:
    both = detect_node(
        make_app({"package.json": package(main="gone.js"), "server.js": "", "index.js": ""})
    )
    index_only = detect_node(make_app({"package.json": "{}", "index.js": ""}))

    assert both is not None
    assert both.default_web_command == "node server.js"
    assert index_only is not None
    assert index_only.default_web_command == "node index.js"


def test_main_outside_the_app_directory_is_not_run(make_app: MakeApp) -> None:
    app = make_app({"package.json": package(main="../outside.js")})
    (app.parent / "outside.js").write_text("", encoding="utf-8")

    detection = detect_node(app)

    assert detection is not None
    assert detection.default_web_command is None


def test_main_with_shell_characters_is_quoted(make_app: MakeApp) -> None:
    app = make_app({"package.json": package(main="my app.js"), "my app.js": ""})

    detection = detect_node(app)

    assert detection is not None
    assert detection.default_web_command == "node 'my app.js'"


@pytest.mark.parametrize(
    ("dependencies", "framework"),
    [
        ({"express": "^4"}, "express"),
        ({"express": "^4", "next": "14"}, "next"),
        ({"@nestjs/core": "10", "express": "^4"}, "nestjs"),
        ({"fastify": "4"}, "fastify"),
        ({"left-pad": "1"}, None),
    ],
)
def test_framework_from_dependencies(
    make_app: MakeApp, dependencies: dict[str, str], framework: str | None
) -> None:
    detection = detect_node(make_app({"package.json": package(dependencies=dependencies)}))

    assert detection is not None
    assert detection.framework == framework


def test_next_fixture_app(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("node-yarn"))

    assert detection.framework == "next"
    assert detection.runtime_version == ">=18.17"


# --- malformed package.json ------------------------------------------------------------


def test_malformed_package_json_names_file_line_and_column(make_app: MakeApp) -> None:
    app = make_app(
        {"package.json": '{\n  "name": "app",\n  "version": "1.0.0"\n  "main": "x.js"\n}\n'}
    )

    with pytest.raises(DetectError) as caught:
        detect(app)

    assert caught.value.message == (
        "package.json:4: invalid JSON: expecting ',' delimiter at column 3."
    )
    assert caught.value.hint == (
        "fix the syntax of `package.json`; paas reads it to detect the app's language, "
        "runtime version and start command"
    )


def test_empty_package_json_is_malformed(make_app: MakeApp) -> None:
    with pytest.raises(DetectError, match=r"^package\.json:1: invalid JSON: expecting value"):
        detect(make_app({"package.json": ""}))


def test_package_json_that_is_not_an_object(make_app: MakeApp) -> None:
    with pytest.raises(DetectError) as caught:
        detect(make_app({"package.json": "[1, 2]"}))

    assert caught.value.message == "`package.json` must hold a JSON object, not an array."


def test_package_json_with_byte_order_mark_is_read(make_app: MakeApp) -> None:
    detection = detect(make_app({"package.json": "\ufeff" + package(engines={"node": "20.x"})}))

    assert detection.runtime_version == "20.x"
