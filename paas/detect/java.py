"""Java apps: ``pom.xml`` (maven) or ``build.gradle`` / ``build.gradle.kts`` (gradle).

Runtime version, first found: ``java.runtime.version`` in
``system.properties`` (what Heroku's Java buildpack reads), the
``<maven.compiler.release>``, ``<maven.compiler.source>`` or ``<java.version>``
property of ``pom.xml``, a Gradle toolchain's ``JavaLanguageVersion.of(N)``.

Default web command: ``java -Dserver.port=$PORT $JAVA_OPTS -jar JAR``, where
JAR is the runnable jar the build makes, by its real name, as the Java
buildpack (buildpacks/java) starts it:

- Maven: ``target/FINALNAME.jar`` (``<build><finalName>``, else
  ``ARTIFACTID-VERSION``; ``.war`` for war packaging) when the pom makes a
  runnable jar: it uses ``spring-boot-maven-plugin`` or names a
  ``<mainClass>``.
- Gradle with Spring Boot: ``build/libs/NAME-VERSION.jar`` (the ``bootJar``,
  not the ``-plain.jar``), NAME being ``rootProject.name`` of the settings file.

When the name cannot be worked out from the files (a ``${...}`` that is not
a pom property, a Gradle build without ``rootProject.name``), a Maven app
falls back to ``target/*.jar`` and a Gradle app gets no default: the
Procfile gives it.

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

#: The web command of a runnable jar; ``{jar}`` is its path in the app.
JAR_COMMAND = "java -Dserver.port=$PORT $JAVA_OPTS -jar {jar}"
MAVEN_FALLBACK_JAR = "target/*.jar"

_XML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# Only whole-line comments: "//" and "/*" also occur inside strings ("https://", "**/*.java").
_GRADLE_COMMENT = re.compile(r"^\s*//[^\n]*", re.MULTILINE)
_TOOLCHAIN = re.compile(r"JavaLanguageVersion\.of\(\s*['\"]?(\d+)['\"]?\s*\)")
_SYSTEM_PROPERTY = re.compile(r"^\s*java\.runtime\.version\s*[=:\s]\s*(\S+)", re.MULTILINE)
# An element's start or end tag; `<?xml` and `<!DOCTYPE` do not match.
_TAG = re.compile(r"<(/?)([A-Za-z_][\w.:-]*)[^<>]*?(/?)>")
_REFERENCE = re.compile(r"\$\{([^}]+)\}")
_SAFE_NAME = re.compile(r"[A-Za-z0-9_.+-]+")
_ROOT_PROJECT_NAME = re.compile(r"""^\s*rootProject\.name\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_GRADLE_VERSION = re.compile(r"""^\s*version\s*=?\s*["']([^"'$]+)["']""", re.MULTILINE)
_PROPERTIES_VERSION = re.compile(r"^\s*version\s*[=:]\s*(\S+)", re.MULTILINE)


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
        build_file, manager = "pom.xml", "maven"
        build = _XML_COMMENT.sub("", pom)
    else:
        gradle_file = next((f for f in MARKERS[1:] if app.is_file(f)), None)
        if gradle_file is None:
            return None
        build_file, manager = gradle_file, "gradle"
        build = _GRADLE_COMMENT.sub("", app.read_text(gradle_file) or "")
    evidence = [Evidence(build_file, f"{build_file} is present")]

    framework = None
    if "org.springframework.boot" in build:
        framework = "spring-boot"
        evidence.append(Evidence(build_file, f"{build_file} uses org.springframework.boot"))

    if manager == "maven":
        jar = _maven_jar(build)
    else:
        jar = _gradle_jar(app, build) if framework == "spring-boot" else None
    command = JAR_COMMAND.format(jar=jar) if jar else None

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
        for name in ("maven.compiler.release", "maven.compiler.source", "java.version"):
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


def _pom_values(pom: str) -> dict[str, str]:
    """The text of the pom's elements by dotted path, e.g. ``project.parent.version``.

    A repeated path keeps its first value; an element with children has no
    meaningful text.
    """
    values: dict[str, str] = {}
    path: list[str] = []
    text_from = 0
    for tag in _TAG.finditer(pom):
        closing, name, empty = tag.groups()
        if closing:
            if path and path[-1] == name:
                values.setdefault(".".join(path), pom[text_from : tag.start()].strip())
                path.pop()
        elif not empty:
            path.append(name)
        text_from = tag.end()
    return values


def _maven_jar(pom: str) -> str | None:
    """The runnable jar `mvn package` leaves in target/, or None when it makes none."""
    if "spring-boot-maven-plugin" not in pom and "<mainClass>" not in pom:
        return None
    values = _pom_values(pom)
    known = {
        key.removeprefix("project.properties."): value
        for key, value in values.items()
        if key.startswith("project.properties.")
    }
    artifact = values.get("project.artifactId", "")
    version = values.get("project.version") or values.get("project.parent.version", "")
    for prefix in ("project.", "pom.", ""):
        known[f"{prefix}artifactId"] = artifact
        known[f"{prefix}version"] = version
        known[f"{prefix}groupId"] = values.get("project.groupId") or values.get(
            "project.parent.groupId", ""
        )
    name = values.get("project.build.finalName") or "${project.artifactId}-${project.version}"
    for _ in range(5):  # properties may refer to properties
        name = _REFERENCE.sub(lambda ref: known.get(ref.group(1), ref.group(0)), name)
    # A name the shell would split or expand is left to the glob too.
    if not artifact or not _SAFE_NAME.fullmatch(name):
        return MAVEN_FALLBACK_JAR
    if "<descriptorRef>jar-with-dependencies</descriptorRef>" in pom:
        name += "-jar-with-dependencies"
    extension = "war" if values.get("project.packaging") == "war" else "jar"
    return f"target/{name}.{extension}"


def _gradle_jar(app: AppDir, build: str) -> str | None:
    """Spring Boot's bootJar in build/libs, or None when its name is not in the files."""
    settings = app.read_text("settings.gradle.kts") or app.read_text("settings.gradle") or ""
    name = _ROOT_PROJECT_NAME.search(_GRADLE_COMMENT.sub("", settings))
    if name is None:
        return None
    version = _GRADLE_VERSION.search(build)
    if version is None:
        version = _PROPERTIES_VERSION.search(app.read_text("gradle.properties") or "")
    suffix = f"-{version.group(1)}" if version else ""
    return f"build/libs/{name.group(1)}{suffix}.jar"
