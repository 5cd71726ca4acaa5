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
    assert detection.default_web_command == (
        "java -Dserver.port=$PORT $JAVA_OPTS -jar target/java-getting-started-1.0.0-SNAPSHOT.jar"
    )
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
    assert detection.default_web_command == (
        "java -Dserver.port=$PORT $JAVA_OPTS -jar build/libs/demo-0.0.1-SNAPSHOT.jar"
    )
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
        (
            "<properties><maven.compiler.source>1.8</maven.compiler.source></properties>",
            "1.8",
            "pom.xml sets <maven.compiler.source> to 1.8",
        ),
        (
            "<properties><java.version>21</java.version>"
            "<maven.compiler.release>17</maven.compiler.release></properties>",
            "17",
            "pom.xml sets <maven.compiler.release> to 17",
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
    assert detection.default_web_command is None


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


BOOT_PLUGIN = (
    "<build><plugins><plugin><groupId>org.springframework.boot</groupId>"
    "<artifactId>spring-boot-maven-plugin</artifactId></plugin></plugins></build>"
)


@pytest.mark.parametrize(
    ("pom", "jar"),
    [
        # The parent's version and artifactId are not the project's own.
        (
            "<project><parent><artifactId>spring-boot-starter-parent</artifactId>"
            "<version>3.5.7</version></parent><artifactId>shop</artifactId>"
            "<dependencies><dependency><artifactId>web</artifactId><version>9</version>"
            f"</dependency></dependencies>{BOOT_PLUGIN}</project>",
            "target/shop-3.5.7.jar",
        ),
        (
            "<project><artifactId>shop</artifactId><version>${revision}</version>"
            "<properties><revision>2.1</revision><app>web</app></properties>"
            "<build><finalName>${app}-${project.version}</finalName>"
            "<plugins><plugin><artifactId>spring-boot-maven-plugin</artifactId></plugin>"
            "</plugins></build></project>",
            "target/web-2.1.jar",
        ),
        (
            "<project><artifactId>shop</artifactId><version>1</version>"
            f"<packaging>war</packaging>{BOOT_PLUGIN}</project>",
            "target/shop-1.war",
        ),
        # A plain jar with a Main-Class, and the assembly plugin's fat jar.
        (
            "<project><artifactId>tool</artifactId><version>1.0</version><build><plugins>"
            "<plugin><artifactId>maven-jar-plugin</artifactId><configuration><archive>"
            "<manifest><mainClass>x.Main</mainClass></manifest></archive></configuration>"
            "</plugin></plugins></build></project>",
            "target/tool-1.0.jar",
        ),
        (
            "<project><artifactId>tool</artifactId><version>1.0</version><build><plugins>"
            "<plugin><artifactId>maven-assembly-plugin</artifactId><configuration>"
            "<archive><manifest><mainClass>x.Main</mainClass></manifest></archive>"
            "<descriptorRefs><descriptorRef>jar-with-dependencies</descriptorRef>"
            "</descriptorRefs></configuration></plugin></plugins></build></project>",
            "target/tool-1.0-jar-with-dependencies.jar",
        ),
        # A name that depends on something outside the pom: the glob, expanded at start.
        (
            f"<project><artifactId>shop</artifactId><version>${{env.V}}</version>{BOOT_PLUGIN}"
            "</project>",
            "target/*.jar",
        ),
        # A name with a space would be split by the shell.
        (
            "<project><artifactId>shop</artifactId><version>1</version><build>"
            "<finalName>my shop</finalName><plugins><plugin>"
            "<artifactId>spring-boot-maven-plugin</artifactId></plugin></plugins></build></project>",
            "target/*.jar",
        ),
    ],
)
def test_maven_web_command_names_the_jar_the_build_makes(
    make_app: MakeApp, pom: str, jar: str
) -> None:
    detection = detect_java(make_app({"pom.xml": pom}))

    assert detection is not None
    assert detection.default_web_command == f"java -Dserver.port=$PORT $JAVA_OPTS -jar {jar}"


@pytest.mark.parametrize(
    ("files", "command"),
    [
        (
            {
                "settings.gradle": "rootProject.name = 'shop'\n",
                "gradle.properties": "version=1.2\n",
            },
            "java -Dserver.port=$PORT $JAVA_OPTS -jar build/libs/shop-1.2.jar",
        ),
        (
            {"settings.gradle": "rootProject.name = 'shop'\n"},
            "java -Dserver.port=$PORT $JAVA_OPTS -jar build/libs/shop.jar",
        ),
        # Without rootProject.name the jar is named after the build directory.
        ({}, None),
    ],
)
def test_gradle_spring_boot_web_command(
    make_app: MakeApp, files: dict[str, str], command: str | None
) -> None:
    build = "plugins { id 'org.springframework.boot' version '3.5.7' }\n"

    detection = detect_java(make_app({"build.gradle": build, **files}))

    assert detection is not None
    assert detection.default_web_command == command
