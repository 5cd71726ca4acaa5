"""Java apps: ``pom.xml`` (maven) or ``build.gradle`` / ``build.gradle.kts`` (gradle).

Runtime version, first found: ``java.runtime.version`` in
``system.properties`` (what Heroku's Java buildpack reads), the
``<java.version>`` or ``<maven.compiler.release>`` property of ``pom.xml``,
a Gradle toolchain's ``JavaLanguageVersion.of(N)``.

Default web command: ``java -Dserver.port=$PORT -jar target/*.jar`` (maven) or
``build/libs/*.jar`` (gradle). The glob expects the build to leave one
runnable jar there; Spring Boot's Gradle plugin also writes ``*-plain.jar``
unless the ``jar`` task is disabled, so a Procfile is the safer choice there.

The build files are scanned with regular expressions rather than parsed: the
values wanted are simple properties, and no XML parser has to be trusted with
a file someone else pushed.
"""

from __future__ import annotations

import re
from pathlib import Path

from paas.detect.appdir import AppDir
from paas.detect.model import Detection, Evidence

MARKERS = ("pom.xml", "build.gradle", "build.gradle.kts")

MAVEN_COMMAND = "java -Dserver.port=$PORT -jar target/*.jar"
GRADLE_COMMAND = "java -Dserver.port=$PORT -jar build/libs/*.jar"

_XML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# Only whole-line comments: "//" and "/*" also occur inside strings ("https://", "**/*.java").
_GRADLE_COMMENT = re.compile(r"^\s*//[^\n]*", re.MULTILINE)
_TOOLCHAIN = re.compile(r"JavaLanguageVersion\.of\(\s*['\"]?(\d+)['\"]?\s*\)")
_SYSTEM_PROPERTY = re.compile(r"^\s*java\.runtime\.version\s*[=:\s]\s*(\S+)", re.MULTILINE)


def _pom_property(pom: str, name: str) -> str | None:
    match = re.search(rf"<{re.escape(name)}>\s*([^<]*?)\s*</{re.escape(name)}>", pom)
    if match and match.group(1) and "${" not in match.group(1):
        return match.group(1)
    return None


def detect_java(path: Path) -> Detection | None:
    """Recognise a Java app built with Maven or Gradle.

    Args:
        path: The app directory.

    Returns:
        The detection, or None when there is no Maven or Gradle build file.
    """
    app = AppDir(path)
    pom = app.read_text("pom.xml")
    if pom is not None:
        build_file, manager, command = "pom.xml", "maven", MAVEN_COMMAND
        build = _XML_COMMENT.sub("", pom)
    else:
        gradle_file = next((f for f in MARKERS[1:] if app.is_file(f)), None)
        if gradle_file is None:
            return None
        build_file, manager, command = gradle_file, "gradle", GRADLE_COMMAND
        build = _GRADLE_COMMENT.sub("", app.read_text(gradle_file) or "")
    evidence = [Evidence(build_file, f"{build_file} is present")]

    framework = None
    if "org.springframework.boot" in build:
        framework = "spring-boot"
        evidence.append(Evidence(build_file, f"{build_file} uses org.springframework.boot"))

    version, source = _runtime_version(app, build_file, build)
    return Detection(
        language="java",
        evidence=tuple(evidence),
        runtime_version=version,
        runtime_version_source=source,
        package_manager=manager,
        framework=framework,
        default_web_command=command,
    )


def _runtime_version(
    app: AppDir, build_file: str, build: str
) -> tuple[str | None, Evidence | None]:
    properties = app.read_text("system.properties")
    if properties is not None:
        match = _SYSTEM_PROPERTY.search(properties)
        if match:
            return match.group(1), Evidence(
                "system.properties", f"system.properties has java.runtime.version={match.group(1)}"
            )
    if build_file == "pom.xml":
        for name in ("java.version", "maven.compiler.release"):
            value = _pom_property(build, name)
            if value:
                return value, Evidence("pom.xml", f"pom.xml sets <{name}> to {value}")
        return None, None
    match = _TOOLCHAIN.search(build)
    if match:
        return match.group(1), Evidence(
            build_file, f"{build_file} has a Java {match.group(1)} toolchain"
        )
    return None, None
