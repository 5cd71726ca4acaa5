"""Ruby apps: ``Gemfile`` (bundler).

Runtime version: ``.ruby-version`` (first line, ``ruby-3.3.0`` gives
``3.3.0``), else the ``ruby "..."`` line of the ``Gemfile`` as written.

Default web command: a Rails app (``config.ru`` and the rails gem) runs
``bundle exec puma -C config/puma.rb`` when that file exists, else
``bundle exec rails server``; any other Rack app (``config.ru``) runs rackup.
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

RAILS_PUMA_COMMAND = "bundle exec puma -C config/puma.rb"
RAILS_COMMAND = "bundle exec rails server -p $PORT -b 0.0.0.0"
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

    command = None
    if app.is_file("config.ru"):
        evidence.append(Evidence("config.ru", "config.ru is present"))
        if framework != "rails":
            command = RACK_COMMAND
        elif app.is_file("config/puma.rb"):
            command = RAILS_PUMA_COMMAND
            evidence.append(Evidence("config/puma.rb", "config/puma.rb is present"))
        else:
            command = RAILS_COMMAND

    version, source = _runtime_version(app, gemfile)
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


def _runtime_version(app: AppDir, gemfile: str) -> tuple[str | None, Evidence | None]:
    line = app.first_line(".ruby-version")
    if line:
        return line.removeprefix("ruby-"), Evidence(
            ".ruby-version", f".ruby-version asks for Ruby {line}"
        )
    match = _RUBY.search(_strip_comments(gemfile))
    if match:
        return match.group(1), Evidence("Gemfile", f"Gemfile asks for ruby {match.group(1)!r}")
    return None, None
