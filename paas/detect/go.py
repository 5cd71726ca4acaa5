"""Go apps: ``go.mod``.

Runtime version: the ``toolchain`` line (``toolchain go1.22.3`` gives
``1.22.3``), else the ``go`` line as written (``1.22``).

Default web command: the name of the binary ``go build`` makes for the main
module, which is the last element of the module path (``.../v2`` suffixes
skipped, as ``go build`` does); the Go buildpack installs it on the PATH.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from paas.detect.appdir import AppDir
from paas.detect.model import Detection, Evidence

MARKERS = ("go.mod",)

#: Module path -> framework; a module matches itself and its major versions (``/v4``).
FRAMEWORKS = (
    ("github.com/gin-gonic/gin", "gin"),
    ("github.com/labstack/echo", "echo"),
    ("github.com/gofiber/fiber", "fiber"),
    ("github.com/go-chi/chi", "chi"),
    ("github.com/gorilla/mux", "gorilla"),
)

_MAJOR_VERSION = re.compile(r"^v\d+$")


@dataclass
class GoMod:
    """The parts of a ``go.mod`` file that detection uses."""

    module: str | None = None
    go: str | None = None
    toolchain: str | None = None
    requires: list[str] = field(default_factory=list)


def parse_go_mod(text: str) -> GoMod:
    """Read the module, go, toolchain and require directives of a ``go.mod``.

    Args:
        text: The file's content.

    Returns:
        What was found; unknown directives are ignored.
    """
    mod = GoMod()
    in_require = False
    for raw in text.splitlines():
        line = raw.split("//", 1)[0].strip()
        if not line:
            continue
        if in_require:
            if line == ")":
                in_require = False
            else:
                mod.requires.append(_unquote(line.split()[0]))
            continue
        words = line.split()
        directive, args = words[0], words[1:]
        if directive == "require":
            if args == ["("]:
                in_require = True
            elif args:
                mod.requires.append(_unquote(args[0]))
        elif directive == "module" and args:
            mod.module = _unquote(args[0])
        elif directive == "go" and args:
            mod.go = args[0]
        elif directive == "toolchain" and args:
            mod.toolchain = args[0]
    return mod


def _unquote(word: str) -> str:
    return word.strip('"`')


def binary_name(module: str) -> str:
    """Return the name ``go build`` gives the binary of a main module at `module`."""
    parts = [part for part in module.split("/") if part]
    if len(parts) > 1 and _MAJOR_VERSION.match(parts[-1]):
        return parts[-2]
    return parts[-1] if parts else module


def detect_go(path: Path) -> Detection | None:
    """Recognise a Go app.

    Args:
        path: The app directory.

    Returns:
        The detection, or None when there is no ``go.mod``.
    """
    app = AppDir(path)
    text = app.read_text("go.mod")
    if text is None:
        return None
    mod = parse_go_mod(text)
    evidence = [Evidence("go.mod", "go.mod is present")]

    framework = None
    for prefix, candidate in FRAMEWORKS:
        if any(req == prefix or req.startswith(prefix + "/") for req in mod.requires):
            framework = candidate
            evidence.append(Evidence("go.mod", f"go.mod requires {prefix}"))
            break

    command = None
    if mod.module:
        command = shlex.quote(binary_name(mod.module))
        evidence.append(Evidence("go.mod", f"go.mod declares module {mod.module}"))

    version: str | None = None
    source: Evidence | None = None
    if mod.toolchain and mod.toolchain.startswith("go"):
        version = mod.toolchain.removeprefix("go")
        source = Evidence("go.mod", f"go.mod has toolchain {mod.toolchain}")
    elif mod.go:
        version = mod.go
        source = Evidence("go.mod", f"go.mod has go {mod.go}")
    return Detection(
        language="go",
        evidence=tuple(evidence),
        runtime_version=version,
        runtime_version_source=source,
        package_manager="go",
        framework=framework,
        default_web_command=command,
    )
