"""End to end: the Java buildpack builds a Spring Boot app with Maven, and says why when it cannot.

The app is `tests/fixtures/apps/java-getting-started` (Spring Boot 3.5.7,
Java 17, the Maven wrapper). A cold Maven build downloads a few hundred
artifacts from Maven Central, so the successful builds, the rebuilds and the
compile error share one app (one build cache) in one test.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from e2e_apps import full_build_log

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO / "tests" / "fixtures" / "apps"
DIGEST_REF = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")
CONTROLLER = "src/main/java/com/heroku/java/GreetingController.java"
JAR = "target/java-getting-started-1.0.0-SNAPSHOT.jar"
WEB = f"java -Dserver.port=$PORT $JAVA_OPTS -jar {JAR}"
DOWNLOAD = re.compile(r"Download(?:ing|ed) from")


def build(testbed, path: Path, *args: str):
    """Run `paas build` (local strategy); return the result and its duration in seconds."""
    start = time.monotonic()
    result = testbed.paas("build", path, "--settings", testbed.settings, "--json", *args)
    return result, time.monotonic() - start


def built_image(testbed, path: Path) -> tuple[str, str, float]:
    result, seconds = build(testbed, path)
    assert result.returncode == 0, result.stderr[-6000:]
    image = json.loads(result.stdout)["image"]
    assert DIGEST_REF.match(image), image
    return image, result.stderr, seconds


def test_spring_boot_app_builds_serves_and_rebuilds_from_cache(
    build_testbed, builder, app_copy, run_image
) -> None:
    app = app_copy(FIXTURES / "java-getting-started")
    detected = build_testbed.paas("detect", app, "--json")
    assert json.loads(detected.stdout)["default_web_command"] == WEB

    # Cold: the JDK layer, Maven by the wrapper, every dependency downloaded.
    first, log, cold = built_image(build_testbed, app)
    assert "OpenJDK 17.0." in log
    assert "asked: 17, from system.properties java.runtime.version" in log
    assert "Apache Maven 3.9.11" in log
    assert DOWNLOAD.search(log)
    assert f"web: {WEB}" in log
    # As the rendered pod runs it (the detected command) and as the image's default process.
    running = run_image(first, WEB, {"PAAS_RELEASE": "v7", "GREETING": "Howdy"})
    body = running.get("/", timeout=120)
    assert "release=v7" in body
    assert "greeting=Howdy" in body
    assert running.get("/healthz").strip() == "ok"
    assert "-XX:MaxRAMPercentage=75.0" in running.logs()  # JAVA_TOOL_OPTIONS, as the JVM reports it
    assert "greeting=Hello" in run_image(first, None, {}).get("/", timeout=120)

    # Code only: nothing is downloaded, the JDK layer of the previous image is reused.
    controller = app / CONTROLLER
    controller.write_text(controller.read_text().replace("greeting=%s", "greeting2=%s"))
    second, log, code_only = built_image(build_testbed, app)
    assert second != first
    assert not DOWNLOAD.search(log), [line for line in log.splitlines() if DOWNLOAD.search(line)]
    assert "reusing the Java runtime layer" in log
    assert "Reusing layer 'paas/java:jdk'" in full_build_log(app)
    assert "greeting2=Hi" in run_image(second, None, {"GREETING": "Hi"}).get("/", timeout=120)

    # No change at all.
    _, log, no_change = built_image(build_testbed, app)
    assert not DOWNLOAD.search(log)
    print(
        f"\njava build seconds: cold {cold:.0f}, code-only {code_only:.0f}, no-change {no_change:.0f}"
    )

    # A compile error names the step, shows Maven's last lines (with the error) and a hint.
    controller.write_text(controller.read_text().replace('return "ok";', 'return "ok"'))
    result, _ = build(build_testbed, app)
    assert result.returncode != 0
    assert " !     error in step `mvn package`: `mvn clean package` exited 1" in result.stderr
    assert " !     the last 30 lines of Maven's output:" in result.stderr
    assert re.search(
        r" !     \| \[ERROR\] .*GreetingController\.java:\[\d+,\d+\] ';' expected", result.stderr
    )
    assert " !     hint: fix what the [ERROR] lines above report" in result.stderr


def test_java_version_not_offered_names_the_step_the_reason_and_the_fix(
    build_testbed, builder, app_copy
) -> None:
    app = app_copy(FIXTURES / "java-getting-started")
    (app / "system.properties").write_text("java.runtime.version=21\n")
    result, _ = build(build_testbed, app)
    assert result.returncode != 0
    assert (
        " !     error in step `resolve Java version`: Java 21 (from system.properties "
        "java.runtime.version) is not offered: this builder has OpenJDK 17 (17.0."
    ) in result.stderr
    assert "Debian serves OpenJDK 21 and 25 only for trixie and newer" in result.stderr
    assert (
        " !     hint: set `java.runtime.version=17` in system.properties, or build the app "
        "with a Dockerfile (`paas build --strategy dockerfile`)"
    ) in result.stderr
    assert "Downloading from" not in result.stderr


def test_gradle_wrapper_whose_distribution_is_unreachable_says_so(
    build_testbed, builder, app_copy
) -> None:
    # The check comes before gradlew runs, so the wrapper's script and jar are placeholders.
    app = app_copy(FIXTURES / "java-gradle")
    (app / "system.properties").write_text("java.runtime.version=17\n")
    wrapper = app / "gradle" / "wrapper"
    wrapper.mkdir(parents=True)
    url = "https://services.gradle.org/distributions/gradle-8.14.3-bin.zip"
    (wrapper / "gradle-wrapper.properties").write_text(
        f"distributionUrl={url.replace(':', chr(92) + ':', 1)}\n"
    )
    (wrapper / "gradle-wrapper.jar").write_bytes(b"")
    (app / "gradlew").write_text("#!/bin/sh\nexit 99\n")
    result, _ = build(build_testbed, app)
    assert result.returncode != 0
    assert (
        f" !     error in step `gradle wrapper`: the Gradle distribution at {url} "
        "cannot be downloaded from this build"
    ) in result.stderr
    assert "point `distributionUrl` in gradle/wrapper/gradle-wrapper.properties" in result.stderr
