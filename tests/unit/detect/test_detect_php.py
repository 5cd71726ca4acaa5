from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from paas.detect import Evidence, detect
from paas.detect.php import detect_php
from paas.errors import DetectError

MakeApp = Callable[[dict[str, str]], Path]
FixtureApp = Callable[[str], Path]


def composer(require: dict[str, str]) -> str:
    return json.dumps({"require": require})


def test_getting_started_serves_web_directory(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("php-getting-started"))

    assert detection.language == "php"
    assert detection.package_manager == "composer"
    assert detection.framework == "slim"
    assert detection.default_web_command == "paas-php-apache2 web/"
    assert detection.runtime_version == "^8.1"
    assert detection.runtime_version_source == Evidence(
        "composer.json", "composer.json requires php '^8.1'"
    )
    assert detection.evidence == (
        Evidence("composer.json", "composer.json is present"),
        Evidence("composer.json", "composer.json requires slim/slim"),
        Evidence("web", "web/ is the document root"),
    )


def test_neither_composer_json_nor_index_php_is_not_a_php_app(make_app: MakeApp) -> None:
    assert detect_php(make_app({"composer.lock": "{}", "web/index.php": ""})) is None


def test_index_php_alone_is_a_php_app_without_composer(make_app: MakeApp) -> None:
    detection = detect(make_app({"index.php": "<?php echo 1;", "index.html": ""}))

    assert detection.language == "php"
    assert detection.package_manager is None
    assert detection.default_web_command == "paas-php-apache2"
    assert detection.evidence == (Evidence("index.php", "index.php is present"),)


def test_version_from_composer_lock_platform(make_app: MakeApp) -> None:
    app = make_app(
        {
            "composer.json": composer({"vendor/lib": "^1.0"}),
            "composer.lock": json.dumps({"packages": [], "platform": {"php": ">=8.1"}}),
        }
    )

    detection = detect_php(app)

    assert detection is not None
    assert detection.runtime_version == ">=8.1"
    assert detection.runtime_version_source == Evidence(
        "composer.lock", "composer.lock platform php '>=8.1'"
    )


def test_fixture_with_vendor_and_path_repository(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("php-composer"))

    assert detection.language == "php"
    assert detection.package_manager == "composer"
    assert detection.framework is None
    assert detection.default_web_command == "paas-php-apache2 public/"
    assert detection.runtime_version == "^8.1"


def test_laravel_serves_public(make_app: MakeApp) -> None:
    app = make_app(
        {
            "composer.json": composer({"php": "^8.2", "laravel/framework": "^11.0"}),
            "public/index.php": "",
            "web/README": "",
        }
    )

    detection = detect_php(app)

    assert detection is not None
    assert detection.framework == "laravel"
    assert detection.default_web_command == "paas-php-apache2 public/"
    assert detection.runtime_version == "^8.2"


def test_without_public_or_web_the_app_directory_is_served(make_app: MakeApp) -> None:
    detection = detect_php(make_app({"composer.json": "{}", "index.php": ""}))

    assert detection is not None
    assert detection.default_web_command == "paas-php-apache2"
    assert detection.runtime_version is None
    assert detection.runtime_version_source is None
    assert detection.framework is None


@pytest.mark.parametrize(
    ("package", "framework"),
    [
        ("symfony/framework-bundle", "symfony"),
        ("laravel/framework", "laravel"),
        ("slim/slim", "slim"),
    ],
)
def test_framework_from_require(make_app: MakeApp, package: str, framework: str) -> None:
    detection = detect_php(make_app({"composer.json": composer({package: "*"})}))

    assert detection is not None
    assert detection.framework == framework


def test_malformed_composer_json(make_app: MakeApp) -> None:
    with pytest.raises(DetectError) as caught:
        detect(make_app({"composer.json": '{\n  "require": {"php": "^8.2",}\n}\n'}))

    assert caught.value.message == (
        "composer.json:2: invalid JSON: expecting property name enclosed in double quotes "
        "at column 29."
    )
