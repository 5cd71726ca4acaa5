from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from paas.detect import Evidence, detect
from paas.detect.ruby import detect_ruby

MakeApp = Callable[[dict[str, str]], Path]
FixtureApp = Callable[[str], Path]

RAILS_GEMFILE = 'source "https://rubygems.org"\n\ngem "rails", "~> 7.1"\ngem "puma"\n'


def test_getting_started_is_rails_on_puma(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("ruby-getting-started"))

    assert detection.language == "ruby"
    assert detection.package_manager == "bundler"
    assert detection.framework == "rails"
    assert detection.default_web_command == "bundle exec puma -C config/puma.rb"
    assert detection.runtime_version == "3.3.4"
    assert detection.runtime_version_source == Evidence("Gemfile", "Gemfile asks for ruby '3.3.4'")
    assert detection.evidence == (
        Evidence("Gemfile", "Gemfile is present"),
        Evidence("Gemfile", "Gemfile lists the rails gem"),
        Evidence("config.ru", "config.ru is present"),
        Evidence("config/puma.rb", "config/puma.rb is present"),
    )


def test_no_gemfile_is_not_a_ruby_app(make_app: MakeApp) -> None:
    assert detect_ruby(make_app({"config.ru": "", ".ruby-version": "3.3.0\n"})) is None


def test_rails_without_puma_config_runs_rails_server(make_app: MakeApp) -> None:
    detection = detect_ruby(make_app({"Gemfile": RAILS_GEMFILE, "config.ru": ""}))

    assert detection is not None
    assert detection.default_web_command == "bundle exec rails server -b 0.0.0.0 -p $PORT"


def test_rails_with_bin_rails_runs_it(make_app: MakeApp) -> None:
    app = make_app(
        {"Gemfile": RAILS_GEMFILE, "config.ru": "", "bin/rails": "#!/usr/bin/env ruby\n"}
    )

    detection = detect_ruby(app)

    assert detection is not None
    assert detection.default_web_command == "bin/rails server -b 0.0.0.0 -p $PORT"


def test_config_application_rb_makes_a_rails_app(make_app: MakeApp) -> None:
    app = make_app({"Gemfile": "gemspec\n", "config/application.rb": "", "bin/rails": ""})

    detection = detect_ruby(app)

    assert detection is not None
    assert detection.framework == "rails"
    assert Evidence("config/application.rb", "config/application.rb is present") in (
        detection.evidence
    )
    assert detection.default_web_command == "bin/rails server -b 0.0.0.0 -p $PORT"


def test_rails_gem_found_in_gemfile_lock(make_app: MakeApp) -> None:
    app = make_app(
        {
            "Gemfile": "gemspec\n",
            "Gemfile.lock": "GEM\n  specs:\n    rails (7.1.3)\n      railties (= 7.1.3)\n",
            "config.ru": "",
        }
    )

    detection = detect_ruby(app)

    assert detection is not None
    assert detection.framework == "rails"
    assert Evidence("Gemfile.lock", "Gemfile.lock lists the rails gem") in detection.evidence


def test_sinatra_rack_app_runs_rackup(make_app: MakeApp) -> None:
    app = make_app({"Gemfile": "gem 'sinatra'\n", "config.ru": "run Sinatra::Application\n"})

    detection = detect_ruby(app)

    assert detection is not None
    assert detection.framework == "sinatra"
    assert detection.default_web_command == "bundle exec rackup -p $PORT -o 0.0.0.0"


def test_rack_app_with_puma_in_the_lockfile_runs_puma(make_app: MakeApp) -> None:
    app = make_app(
        {
            "Gemfile": "gem 'rack'\ngem 'puma'\n",
            "Gemfile.lock": "GEM\n  specs:\n    puma (6.6.0)\n      nio4r (~> 2.0)\n",
            "config.ru": "",
        }
    )

    detection = detect_ruby(app)

    assert detection is not None
    assert detection.default_web_command == "bundle exec puma -p $PORT"


def test_rack_fixture_runs_puma(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("ruby-rack"))

    assert detection.language == "ruby"
    assert detection.framework is None
    assert detection.default_web_command == "bundle exec puma -p $PORT"
    assert detection.runtime_version == "3.3.8"
    assert detection.runtime_version_source == Evidence("Gemfile", "Gemfile asks for ruby '3.3.8'")


def test_plain_rack_app_runs_rackup(make_app: MakeApp) -> None:
    detection = detect_ruby(make_app({"Gemfile": "gem 'rack'\n", "config.ru": ""}))

    assert detection is not None
    assert detection.framework is None
    assert detection.default_web_command == "bundle exec rackup -p $PORT -o 0.0.0.0"


def test_no_config_ru_means_no_default_web_command(make_app: MakeApp) -> None:
    detection = detect_ruby(make_app({"Gemfile": RAILS_GEMFILE}))

    assert detection is not None
    assert detection.framework == "rails"
    assert detection.default_web_command is None


def test_commented_out_gem_does_not_count(make_app: MakeApp) -> None:
    detection = detect_ruby(make_app({"Gemfile": '# gem "rails"\ngem "rack"\n', "config.ru": ""}))

    assert detection is not None
    assert detection.framework is None


@pytest.mark.parametrize(
    ("files", "version", "source"),
    [
        (
            {".ruby-version": "ruby-3.3.0\n", "Gemfile": 'ruby "3.2.2"\n'},
            "3.2.2",
            Evidence("Gemfile", "Gemfile asks for ruby '3.2.2'"),
        ),
        (
            {
                ".ruby-version": "ruby-3.3.0\n",
                "Gemfile": "gem 'rack'\n",
                "Gemfile.lock": "GEM\n\nRUBY VERSION\n   ruby 3.3.4p94\n\nBUNDLED WITH\n   2.5.11\n",
            },
            "3.3.4",
            Evidence("Gemfile.lock", "Gemfile.lock was locked with Ruby 3.3.4"),
        ),
        (
            {".ruby-version": "ruby-3.3.0\n", "Gemfile": "gem 'rack'\n"},
            "3.3.0",
            Evidence(".ruby-version", ".ruby-version asks for Ruby ruby-3.3.0"),
        ),
        (
            {".ruby-version": "3.2.4\n", "Gemfile": ""},
            "3.2.4",
            Evidence(".ruby-version", ".ruby-version asks for Ruby 3.2.4"),
        ),
        (
            {"Gemfile": "source 'https://rubygems.org'\nruby '~> 3.3'\n"},
            "~> 3.3",
            Evidence("Gemfile", "Gemfile asks for ruby '~> 3.3'"),
        ),
        ({"Gemfile": 'ruby file: ".ruby-version"\n'}, None, None),
        ({"Gemfile": "gem 'rack'\n"}, None, None),
    ],
)
def test_runtime_version(
    make_app: MakeApp, files: dict[str, str], version: str | None, source: Evidence | None
) -> None:
    detection = detect_ruby(make_app(files))

    assert detection is not None
    assert detection.runtime_version == version
    assert detection.runtime_version_source == source
