"""Ruby apps: ``Gemfile`` (bundler).

Runtime version, first found (the order of the Ruby buildpack): the
``ruby "..."`` line of the ``Gemfile`` as written, the ``RUBY VERSION`` of
``Gemfile.lock`` (``ruby 3.3.4p94`` gives ``3.3.4``), ``.ruby-version``
(first line, ``ruby-3.3.0`` gives ``3.3.0``).

Default web command, the one the Ruby buildpack starts:

- a Rails app (``config/application.rb``, or the rails gem and ``config.ru``):
  ``bundle exec puma -C config/puma.rb`` when that file exists, else
  ``bin/rails server`` (``bundle exec rails server`` without ``bin/rails``)
  bound to ``0.0.0.0:$PORT``;
- any other Rack app (``config.ru``): ``bundle exec puma -p $PORT`` when the
  bundle has puma, else ``bundle exec rackup -p $PORT -o 0.0.0.0``.

Gems are read from the ``Gemfile`` and, when present, ``Gemfile.lock``.
"""

from __future__ import annotations

import re
from pathlib import Path

from paas.detect.appdir import AppDir
from paas.detect.model import Detection, Evidence

MARKERS = ("Gemfile",)

_GEM = re.compile(r"""^\s*gem\s*\(?\s*["']([^"']+)["']""", re.MULTILINE)
_LOCKED_GEM = re.compile(r"^    ([A-Za-z0-9_.-]+) \(", re.MULTILINE)
_RUBY = re.compile(r"""^\s*ruby\s*\(?\s*["']([^"']+)["']""", re.MULTILINE)
_LOCKED_RUBY = re.compile(r"^RUBY VERSION\n\s+ruby (\d+(?:\.\d+)*)", re.MULTILINE)

RAILS_PUMA_COMMAND = "bundle exec puma -C config/puma.rb"
RAILS_BIN_COMMAND = "bin/rails server -b 0.0.0.0 -p $PORT"
RAILS_COMMAND = "bundle exec rails server -b 0.0.0.0 -p $PORT"
PUMA_COMMAND = "bundle exec puma -p $PORT"
RACK_COMMAND = "bundle exec rackup -p $PORT -o 0.0.0.0"


def detect_ruby(path: Path) -> Detection | None:
    """Recognise a Ruby app.

    Args:
        path: The app directory.

    Returns:
        The detection, or None when there is no ``Gemfile``.
    """
    app = AppDir(path)
    gemfile = app.read_text("Gemfile")
    if gemfile is None:
        return None
    evidence = [Evidence("Gemfile", "Gemfile is present")]
    gems = {name: "Gemfile" for name in _GEM.findall(_strip_comments(gemfile))}
    lock = app.read_text("Gemfile.lock")
    if lock is not None:
        for name in _LOCKED_GEM.findall(lock):
            gems.setdefault(name, "Gemfile.lock")

    framework = None
    for gem in ("rails", "sinatra"):
        if gem in gems:
            framework = gem
            evidence.append(Evidence(gems[gem], f"{gems[gem]} lists the {gem} gem"))
            break
    if framework is None and app.is_file("config/application.rb"):
        framework = "rails"
        evidence.append(Evidence("config/application.rb", "config/application.rb is present"))

    has_config_ru = app.is_file("config.ru")
    if has_config_ru:
        evidence.append(Evidence("config.ru", "config.ru is present"))
    command = None
    if framework == "rails" and (has_config_ru or app.is_file("config/application.rb")):
        if app.is_file("config/puma.rb"):
            command = RAILS_PUMA_COMMAND
            evidence.append(Evidence("config/puma.rb", "config/puma.rb is present"))
        elif app.is_file("bin/rails"):
            command = RAILS_BIN_COMMAND
        else:
            command = RAILS_COMMAND
    elif has_config_ru:
        command = PUMA_COMMAND if "puma" in gems else RACK_COMMAND

    version, source = _runtime_version(app, gemfile, lock)
    return Detection(
        language="ruby",
        evidence=tuple(evidence),
        runtime_version=version,
        runtime_version_source=source,
        package_manager="bundler",
        framework=framework,
        default_web_command=command,
    )


def _strip_comments(text: str) -> str:
    return "\n".join(line.split("#", 1)[0] for line in text.splitlines())


def _runtime_version(
    app: AppDir, gemfile: str, lock: str | None
) -> tuple[str | None, Evidence | None]:
    match = _RUBY.search(_strip_comments(gemfile))
    if match:
        return match.group(1), Evidence("Gemfile", f"Gemfile asks for ruby {match.group(1)!r}")
    locked = _LOCKED_RUBY.search(lock or "")
    if locked:
        return locked.group(1), Evidence(
            "Gemfile.lock", f"Gemfile.lock was locked with Ruby {locked.group(1)}"
        )
    line = app.first_line(".ruby-version")
    if line:
        return line.removeprefix("ruby-"), Evidence(
            ".ruby-version", f".ruby-version asks for Ruby {line}"
        )
    return None, None
