"""End to end: PHP apps build offline with the paas builder and serve through Apache httpd.

The fixture `php-composer` requires a local package through a Composer path
repository and commits `vendor/`; nothing is downloaded (Packagist is not
reachable from the testbed). The image runs as the rendered pod runs it:
read-only root, /tmp, uid 1000.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest
from e2e_apps import full_build_log
from test_build import FIXTURES, build, built_image

pytestmark = pytest.mark.e2e

PHP_APP = FIXTURES / "php-composer"


def test_php_composer_app_builds_offline_and_serves_through_apache(
    build_testbed, builder, app_copy, run_image
) -> None:
    app = app_copy(PHP_APP)
    image, log = built_image(build_testbed, app)
    assert re.search(r"PHP 8\.2\.\d+ \(asked: \^8\.1, from composer\.json require\.php\)", log)
    assert "required by the app: mbstring" in log
    assert "vendor/ is part of the app" in log
    assert "Nothing to install, update or remove" in log
    assert "web: paas-php-apache2 public/" in log

    # No command: the image's default process, the one `paas detect` names.
    running = run_image(image, None, {"PAAS_RELEASE": "v7", "GREETING": "Howdy"})
    body = running.get("/")
    assert "<h1>Howdy from php-composer</h1>" in body  # the path-repository package
    assert "release=v7" in body
    assert "greeting=Howdy" in body
    assert re.search(r"php=8\.2\.\d+ apache2handler", body)  # mod_php, not `php -S`
    # /healthz is no file: public/.htaccess rewrites it to index.php.
    assert running.get("/healthz").strip() == "ok"
    assert running.stop() == 0
    logs = running.logs()
    assert '"GET /healthz HTTP/1.1" 200' in logs
    assert "caught SIGWINCH, shutting down gracefully" in logs


def test_code_only_change_installs_nothing(build_testbed, builder, app_copy, run_image) -> None:
    # Without the committed vendor/, Composer installs the path-repository
    # package on the first build; a code change restores vendor/ from the cache.
    app = app_copy(PHP_APP)
    shutil.rmtree(app / "vendor")
    times = []
    start = time.monotonic()
    first, first_log = built_image(build_testbed, app)
    times.append(time.monotonic() - start)
    assert "- Installing paas/greeting (1.0.0)" in first_log
    assert "reusing the cached vendor/" not in first_log

    index = app / "public" / "index.php"
    index.write_text(
        index.read_text().replace('id="greeting">greeting=', 'id="greeting">greeting2=')
    )
    start = time.monotonic()
    second, second_log = built_image(build_testbed, app)
    times.append(time.monotonic() - start)
    assert second != first
    assert "reusing the cached PHP" in second_log
    assert (
        "reusing the cached vendor/: composer.json and composer.lock did not change" in second_log
    )
    assert "Nothing to install, update or remove" in second_log
    assert "- Installing" not in second_log
    assert "Reusing layer 'paas/php:php'" in full_build_log(app)
    assert "greeting2=Hello" in run_image(second, None, {}).get("/")

    start = time.monotonic()
    built_image(build_testbed, app)
    times.append(time.monotonic() - start)
    seconds = dict(zip(("cold", "code-only", "no-change"), times, strict=True))
    print(json.dumps({"php_build_seconds": seconds}))


@pytest.mark.parametrize(
    ("change", "message", "hint"),
    [
        (
            {"php": "^8.3"},
            r"failed in step `resolve PHP version`: PHP `\^8\.3` \(from composer\.json "
            r"require\.php\) is not available; this builder has PHP 8\.2\.\d+ only",
            "hint: allow PHP 8.2 in composer.json require.php (for example `^8.2` or `>=8.1`)",
        ),
        (
            {"ext-imagick": "*"},
            r"failed in step `PHP extensions`: the PHP extension `imagick` \(from composer\.json "
            r"require\.ext-imagick\) is not available; this builder has bcmath, .*intl, ",
            "hint: remove the requirement from composer.json (`composer remove ext-NAME`)",
        ),
    ],
    ids=["php-8.3", "ext-imagick"],
)
def test_unavailable_platform_requirement_names_the_step_and_the_fix(
    change: dict[str, str], message: str, hint: str, build_testbed, builder, app_copy
) -> None:
    app = app_copy(PHP_APP)
    manifest: Path = app / "composer.json"
    data = json.loads(manifest.read_text())
    data["require"].update(change)
    manifest.write_text(json.dumps(data, indent=4))
    result = build(build_testbed, app)
    assert result.returncode == 7, result.stderr[-3000:]
    found = re.search(rf"error: Building `{app.name}` {message}", result.stderr)
    assert found, result.stderr[-3000:]
    assert hint in result.stderr
