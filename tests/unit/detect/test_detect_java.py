from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from paas.detect import Evidence, detect
from paas.detect.java import detect_java

MakeApp = Callable[[dict[str, str]], Path]
FixtureApp = Callable[[str], Path]

PLAIN_POM = "<project><artifactId>x</artifactId>{}</project>\n"


def test_getting_started_is_spring_boot_with_maven(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("java-getting-started"))

    assert detection.language == "java"
    assert detection.package_manager == "maven"
    assert detection.framework == "spring-boot"
    assert detection.default_web_command == "java -Dserver.port=$PORT -jar target/*.jar"
    assert detection.runtime_version == "17"
    assert detection.runtime_version_source == Evidence(
        "system.properties", "system.properties has java.runtime.version=17"
    )
    assert detection.evidence == (
        Evidence("pom.xml", "pom.xml is present"),
        Evidence("pom.xml", "pom.xml uses org.springframework.boot"),
    )


def test_gradle_kotlin_fixture(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("java-gradle"))

    assert detection.package_manager == "gradle"
    assert detection.framework == "spring-boot"
    assert detection.default_web_command == "java -Dserver.port=$PORT -jar build/libs/*.jar"
    assert detection.runtime_version == "21"
    assert detection.runtime_version_source == Evidence(
        "build.gradle.kts", "build.gradle.kts has a Java 21 toolchain"
    )


def test_groovy_gradle_build(make_app: MakeApp) -> None:
    detection = detect_java(make_app({"build.gradle": "plugins { id 'java' }\n"}))

    assert detection is not None
    assert detection.package_manager == "gradle"
    assert detection.framework is None
    assert detection.evidence == (Evidence("build.gradle", "build.gradle is present"),)


def test_no_build_file_is_not_a_java_app(make_app: MakeApp) -> None:
    app = make_app({"system.properties": "java.runtime.version=17\n", "Main.java": ""})

    assert detect_java(app) is None


def test_pom_wins_over_gradle(make_app: MakeApp) -> None:
    detection = detect_java(make_app({"pom.xml": PLAIN_POM.format(""), "build.gradle": ""}))

    assert detection is not None
    assert detection.package_manager == "maven"


@pytest.mark.parametrize(
    ("properties", "version", "rule"),
    [
        (
            "<properties><java.version>21</java.version></properties>",
            "21",
            "pom.xml sets <java.version> to 21",
        ),
        (
            "<properties><maven.compiler.release> 17 </maven.compiler.release></properties>",
            "17",
            "pom.xml sets <maven.compiler.release> to 17",
        ),
        (
            "<properties><java.version>21</java.version>"
            "<maven.compiler.release>${java.version}</maven.compiler.release></properties>",
            "21",
            "pom.xml sets <java.version> to 21",
        ),
        ("<!-- <java.version>11</java.version> -->", None, None),
    ],
)
def test_pom_version(
    make_app: MakeApp, properties: str, version: str | None, rule: str | None
) -> None:
    detection = detect_java(make_app({"pom.xml": PLAIN_POM.format(properties)}))

    assert detection is not None
    assert detection.runtime_version == version
    expected = Evidence("pom.xml", rule) if rule else None
    assert detection.runtime_version_source == expected


def test_system_properties_wins_over_pom(make_app: MakeApp) -> None:
    app = make_app(
        {
            "pom.xml": PLAIN_POM.format("<properties><java.version>17</java.version></properties>"),
            "system.properties": "# Heroku\njava.runtime.version = 21.0.3\n",
        }
    )

    detection = detect_java(app)

    assert detection is not None
    assert detection.runtime_version == "21.0.3"


def test_spring_boot_only_in_a_comment_does_not_count(make_app: MakeApp) -> None:
    pom = PLAIN_POM.format("<!-- <groupId>org.springframework.boot</groupId> -->")

    detection = detect_java(make_app({"pom.xml": pom}))

    assert detection is not None
    assert detection.framework is None
    assert detection.default_web_command == "java -Dserver.port=$PORT -jar target/*.jar"


def test_gradle_line_comment_is_ignored_but_urls_are_kept(make_app: MakeApp) -> None:
    build = (
        "// id 'org.springframework.boot'\n"
        "repositories { maven { url 'https://repo.example.com/**/*' } }\n"
        "java { toolchain { languageVersion = JavaLanguageVersion.of(17) } }\n"
    )

    detection = detect_java(make_app({"build.gradle": build}))

    assert detection is not None
    assert detection.framework is None
    assert detection.runtime_version == "17"
