"""End to end: the Ruby buildpack builds a Rack app offline, the way Heroku's does.

The `ruby-rack` fixture commits its gems in vendor/cache (rubygems.org is not
reachable here), so `bundle install` runs offline and compiles puma's C
extension. One app is built three times (cold, code-only change, no change)
and the image is run the way a paas pod runs it; the failing cases name the
step and the fix.
"""

from __future__ import annotations

import base64
import http.server
import json
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_apps import full_build_log

pytestmark = pytest.mark.e2e

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "apps"
RACK_APP = FIXTURES / "ruby-rack"
DIGEST_REF = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")


# Writes the gem server's "full index" (what `gem generate_index` wrote before
# RubyGems 3.5 moved it out): specs.4.8.gz and one quick/Marshal.4.8 spec per gem.
MAKE_INDEX = """
require "rubygems/package"
require "zlib"
Dir.chdir(ARGV[0])
specs = Dir["gems/*.gem"].sort.map { |f| Gem::Package.new(f).spec }
gzip = ->(path, data) { Zlib::GzipWriter.open(path) { |gz| gz.write(data) } }
gzip.("specs.4.8.gz", Marshal.dump(specs.map { |s| [s.name, s.version, s.platform.to_s] }))
gzip.("prerelease_specs.4.8.gz", Marshal.dump([]))
Dir.mkdir("quick") && Dir.mkdir("quick/Marshal.4.8")
specs.each do |s|
  File.binwrite("quick/Marshal.4.8/#{s.full_name}.gemspec.rz", Zlib::Deflate.deflate(Marshal.dump(s)))
end
"""


class GemMirror(http.server.SimpleHTTPRequestHandler):
    """A gem server on loopback that wants Basic credentials and records what it served."""

    credentials = ""
    served: list[str] = []  # noqa: RUF012 (set per server in the fixture)

    def do_GET(self) -> None:
        expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="gems"')
            self.end_headers()
            return
        self.served.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def gem_mirror(build_testbed, builder, tmp_path: Path) -> Iterator[tuple[str, type[GemMirror]]]:
    """Serve the fixture's gems like rubygems.org's full index, on 127.0.0.1 (pack uses host network)."""
    root = tmp_path / "mirror"
    (root / "gems").mkdir(parents=True)
    for gem in (RACK_APP / "vendor" / "cache").glob("*.gem"):
        shutil.copy(gem, root / "gems")
    made = subprocess.run(
        [
            "podman",
            "run",
            "--rm",
            "--user",
            "0",
            "-v",
            f"{root}:/mirror",
            "-i",
            f"{build_testbed.registry}/paas/build:bookworm",
            "/opt/paas/ruby/3.3.8/bin/ruby",
            "-e",
            MAKE_INDEX,
            "/mirror",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    handler = type("Mirror", (GemMirror,), {"credentials": "paas-e2e:mirror-s3cret", "served": []})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), lambda *a: handler(*a, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    server.shutdown()
    server.server_close()


def build(testbed, path: Path, *args: str, timeout: float = 1500):
    return testbed.paas(
        "build", path, "--settings", testbed.settings, "--json", *args, timeout=timeout
    )


def built_image(testbed, path: Path) -> tuple[str, str, float]:
    started = time.monotonic()
    result = build(testbed, path)
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-6000:]
    image = json.loads(result.stdout)["image"]
    assert DIGEST_REF.match(image), image
    return image, result.stderr, seconds


def test_rack_app_builds_offline_and_a_code_change_installs_no_gem(
    build_testbed, builder, app_copy, run_image
) -> None:
    app = app_copy(RACK_APP)

    cold, log, cold_seconds = built_image(build_testbed, app)
    assert "-----> Ruby 3.3.8 (asked: 3.3.8, from the Gemfile)" in log
    assert "Gems with Bundler 2.5.22 (Gemfile.lock, from vendor/cache (offline))" in log
    assert "Installing puma 6.6.0 with native extensions" in log
    assert "Installing rack 3.2.7" in log
    assert "web: bundle exec puma -p $PORT" in log
    running = run_image(cold, None, {"PAAS_RELEASE": "v7", "GREETING": "Howdy"})
    body = running.get("/")
    assert "<h1>Howdy from ruby-rack</h1>" in body
    assert "release=v7" in body
    assert "greeting=Howdy" in body
    assert running.get("/healthz") == "ok\n"

    config_ru = app / "config.ru"
    config_ru.write_text(config_ru.read_text().replace("from ruby-rack", "from ruby-rack, again"))
    second, log, code_seconds = built_image(build_testbed, app)
    assert second != cold
    assert "reusing the Ruby 3.3.8 layer of the previous image" in log
    assert "reusing the cached gems: Gemfile and Gemfile.lock did not change" in log
    assert "Installing" not in log
    assert "Reusing layer 'paas/ruby:gems'" in full_build_log(app)
    assert "Reusing layer 'paas/ruby:ruby'" in full_build_log(app)
    assert "<h1>Hello from ruby-rack, again</h1>" in run_image(second, None, {}).get("/")

    _, log, same_seconds = built_image(build_testbed, app)
    assert "Installing" not in log
    print(
        f"\nruby-rack build seconds: cold {cold_seconds:.1f}, code-only {code_seconds:.1f} "
        f"({code_seconds / cold_seconds:.2f} of cold), no change {same_seconds:.1f}"
    )


def test_ruby_version_not_offered_names_the_step_and_the_fix(
    build_testbed, builder, app_copy
) -> None:
    app = app_copy(RACK_APP)
    gemfile = app / "Gemfile"
    gemfile.write_text(gemfile.read_text().replace('ruby "3.3.8"', 'ruby "2.7.8"'))

    result = build(build_testbed, app)

    assert result.returncode == 7, result.stderr[-3000:]
    assert (
        "failed in step `resolve Ruby version`: Ruby `2.7.8` (from the Gemfile) is not "
        "available; this builder has 3.3.8 (compiled from Debian trixie's ruby3.3 source; "
        "no Debian suite serves a newer Ruby's source)"
    ) in result.stderr, result.stderr[-3000:]
    assert (
        "hint: ask for Ruby 3.3.8 in the Gemfile, or remove the version to build with the newest"
    ) in result.stderr


def test_gem_missing_from_vendor_cache_fails_fast_naming_the_gem_and_the_fix(
    build_testbed, builder, app_copy
) -> None:
    app = app_copy(RACK_APP)
    (app / "vendor" / "cache" / "rack-3.2.7.gem").unlink()
    # A lockfile from a newer Bundler: the shipped one is used, nothing is downloaded.
    lock = app / "Gemfile.lock"
    lock.write_text(lock.read_text().replace("   2.5.22", "   2.6.9"))

    started = time.monotonic()
    result = build(build_testbed, app, timeout=600)
    seconds = time.monotonic() - started

    assert result.returncode == 7, result.stderr[-3000:]
    assert (
        "warning: Gemfile.lock was written by Bundler 2.6.9; using Bundler 2.5.22, the one "
        "that ships with Ruby 3.3.8 (this builder does not download Bundler)"
    ) in result.stderr
    assert "Installing Bundler" not in result.stderr
    assert (
        "failed in step `bundle install`: Gemfile.lock needs `rack (3.2.7)`, which is not in "
        "vendor/cache (with vendor/cache and no gem mirror, gems are installed offline)"
    ) in result.stderr, result.stderr[-3000:]
    assert (
        "hint: add it to vendor/cache with `bundle cache` and commit it, or set a gem mirror "
        "(`mirrors.gems`) in the cluster settings"
    ) in result.stderr
    # Offline means no network wait: the failure comes as fast as the build starts.
    assert seconds < 120, seconds


def test_gems_come_from_the_gem_mirror_of_the_settings_and_its_password_is_never_printed(
    build_testbed, builder, app_copy, run_image, gem_mirror, tmp_path: Path
) -> None:
    url, mirror = gem_mirror
    app = app_copy(RACK_APP)
    shutil.rmtree(app / "vendor")

    settings = tmp_path / "mirrored.yaml"
    settings.write_text(
        f"registry: {build_testbed.registry}\ninsecure_registry: true\nmirrors:\n  gems: {url}\n"
    )

    result = build_testbed.paas(
        "build",
        app,
        "--settings",
        settings,
        "--json",
        "-e",
        "PAAS_GEM_MIRROR_USERNAME=paas-e2e",
        "-e",
        "PAAS_GEM_MIRROR_PASSWORD=mirror-s3cret",
    )

    assert result.returncode == 0, result.stderr[-6000:]
    host = url.removeprefix("http://").rstrip("/")
    assert f"(Gemfile.lock, from the mirror {host})" in result.stderr
    assert "Installing puma 6.6.0 with native extensions" in result.stderr
    assert "mirror-s3cret" not in result.stderr + result.stdout
    assert {"/gems/puma-6.6.0.gem", "/gems/rack-3.2.7.gem", "/gems/nio4r-2.7.3.gem"} <= set(
        mirror.served
    )
    image = json.loads(result.stdout)["image"]
    assert "release=v9" in run_image(image, None, {"PAAS_RELEASE": "v9"}).get("/")
