"""Python apps: ``requirements.txt``, ``pyproject.toml``, ``Pipfile`` or ``setup.py``.

Package manager, first rule that applies (the order of Heroku's Python
buildpack where the two overlap: an exported ``requirements.txt`` wins):

1. ``requirements.txt`` -> pip
2. ``pyproject.toml`` with ``uv.lock`` -> uv, ``poetry.lock`` -> poetry,
   ``pdm.lock`` -> pdm; else with a ``[tool.poetry]`` table -> poetry, a
   ``[tool.pdm]`` table -> pdm; otherwise -> pip (``pip install .``)
3. ``Pipfile`` -> pipenv
4. ``setup.py`` -> setuptools

Runtime version, first found: ``.python-version`` (first line), ``runtime.txt``
(``python-3.12.1`` gives ``3.12.1``), ``requires-python`` in ``pyproject.toml``
(as written, e.g. ``>=3.11``), Poetry's ``python`` dependency, then the
``Pipfile``'s ``[requires] python_version``.

Default web command: Django (``manage.py`` and a project package holding
``wsgi.py``) runs gunicorn on ``<project>.wsgi``; a Flask or FastAPI instance
assigned at the top of ``app.py``, ``main.py``, ``wsgi.py``, ``asgi.py`` or
``app/main.py`` runs under gunicorn or uvicorn; otherwise ``python app.py`` or
``python main.py`` when that file exists.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from paas.detect.appdir import AppDir, dict_value, str_list, str_value
from paas.detect.model import Detection, Evidence

MARKERS = ("requirements.txt", "pyproject.toml", "Pipfile", "setup.py")

#: (package manager, lockfile) checked in this order for a ``pyproject.toml`` app.
PYPROJECT_LOCKFILES = (("uv", "uv.lock"), ("poetry", "poetry.lock"), ("pdm", "pdm.lock"))

#: Files searched, in this order, for a Flask or FastAPI instance.
APP_MODULE_FILES = ("app.py", "main.py", "wsgi.py", "asgi.py", "app/main.py")

_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s+|=)(\S+)")
_INSTALL_REQUIRES = re.compile(r"install_requires\s*=\s*\[(.*?)\]", re.DOTALL)
_QUOTED = re.compile(r"""["']([^"']+)["']""")
_SETTINGS_MODULE = re.compile(r"""DJANGO_SETTINGS_MODULE["']\s*,\s*["']([A-Za-z_][\w.]*)["']""")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


def _instance_pattern(cls: str, module: str) -> re.Pattern[str]:
    """Match ``name = Cls(`` or ``name: Cls = module.Cls(`` at the start of a line."""
    return re.compile(
        rf"^(?P<var>[A-Za-z_]\w*)\s*(?::\s*[\w.]+\s*)?=\s*(?:{module}\.)?{cls}\(",
        re.MULTILINE,
    )


_FLASK_INSTANCE = _instance_pattern("Flask", "flask")
_FASTAPI_INSTANCE = _instance_pattern("FastAPI", "fastapi")


def normalize_name(name: str) -> str:
    """Normalise a distribution name the way PyPI does (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def detect_python(path: Path) -> Detection | None:
    """Recognise a Python app.

    Args:
        path: The app directory.

    Returns:
        The detection, or None when no Python marker file is present.

    Raises:
        DetectError: ``pyproject.toml`` or ``Pipfile`` is not valid TOML.
    """
    app = AppDir(path)
    present = [marker for marker in MARKERS if app.is_file(marker)]
    if not present:
        return None
    pyproject = app.toml_table("pyproject.toml") or {}
    pipfile = app.toml_table("Pipfile") or {}

    evidence = [Evidence(marker, f"{marker} is present") for marker in present]
    manager, manager_evidence = _package_manager(app, present, pyproject)
    if manager_evidence is not None:
        evidence.append(manager_evidence)

    version, version_source = _runtime_version(app, pyproject, pipfile)
    deps = _dependencies(app, pyproject, pipfile)
    framework, command, command_evidence = _web(app, deps)
    evidence.extend(command_evidence)
    return Detection(
        language="python",
        evidence=tuple(evidence),
        runtime_version=version,
        runtime_version_source=version_source,
        package_manager=manager,
        framework=framework,
        default_web_command=command,
    )


def _package_manager(
    app: AppDir, present: list[str], pyproject: dict[str, object]
) -> tuple[str, Evidence | None]:
    """Pick the package manager; the evidence is None when the marker itself says it."""
    if "requirements.txt" in present:
        return "pip", None
    if "pyproject.toml" in present:
        # A lockfile is what the tool last wrote, so it beats a leftover [tool.*] table.
        for manager, lockfile in PYPROJECT_LOCKFILES:
            if app.is_file(lockfile):
                return manager, Evidence(
                    lockfile, f"{lockfile} is present, so {manager} installs the dependencies"
                )
        tool = dict_value(pyproject, "tool")
        for manager in ("poetry", "pdm"):
            if manager in tool:
                return manager, Evidence(
                    "pyproject.toml", f"pyproject.toml has a [tool.{manager}] table"
                )
        return "pip", None
    if "Pipfile" in present:
        return "pipenv", None
    return "setuptools", None


def _runtime_version(
    app: AppDir, pyproject: dict[str, object], pipfile: dict[str, object]
) -> tuple[str | None, Evidence | None]:
    line = app.first_line(".python-version")
    if line:
        return line, Evidence(".python-version", f".python-version asks for Python {line}")
    line = app.first_line("runtime.txt")
    if line:
        version = line.removeprefix("python-")
        return version, Evidence("runtime.txt", f"runtime.txt asks for {line}")
    requires = str_value(pyproject, "project", "requires-python")
    if requires:
        return requires, Evidence(
            "pyproject.toml", f"pyproject.toml has requires-python = {requires!r}"
        )
    requires = str_value(pyproject, "tool", "poetry", "dependencies", "python")
    if requires:
        return requires, Evidence(
            "pyproject.toml", f"pyproject.toml has a poetry python dependency {requires!r}"
        )
    for key in ("python_version", "python_full_version"):
        requires = str_value(pipfile, "requires", key)
        if requires:
            return requires, Evidence("Pipfile", f"Pipfile has [requires] {key} = {requires!r}")
    return None, None


def _dependencies(
    app: AppDir, pyproject: dict[str, object], pipfile: dict[str, object]
) -> dict[str, str]:
    """Return the normalised names of the declared dependencies, each with its file."""
    deps: dict[str, str] = {}

    def add(names: list[str], file: str) -> None:
        for name in names:
            deps.setdefault(normalize_name(name), file)

    add(_requirements(app, "requirements.txt", set()), "requirements.txt")
    add(_names(str_list(pyproject, "project", "dependencies")), "pyproject.toml")
    add(list(dict_value(pyproject, "tool", "poetry", "dependencies")), "pyproject.toml")
    add(list(dict_value(pipfile, "packages")), "Pipfile")
    setup = app.read_text("setup.py")
    if setup is not None:
        block = _INSTALL_REQUIRES.search(setup)
        if block:
            add(_names(_QUOTED.findall(block.group(1))), "setup.py")
    return deps


def _names(requirements: list[str]) -> list[str]:
    """Return the project names of PEP 508 requirement strings."""
    names = []
    for requirement in requirements:
        match = _REQUIREMENT_NAME.match(requirement)
        if match:
            names.append(match.group(1))
    return names


def _requirements(app: AppDir, rel: str, seen: set[str]) -> list[str]:
    """Return the names required by a requirements file and the files it includes."""
    text = app.read_text(rel)
    if text is None or rel in seen:
        return []
    seen.add(rel)
    names: list[str] = []
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        include = _INCLUDE.match(line)
        if include:
            parent = rel.rpartition("/")[0]
            target = f"{parent}/{include.group(1)}" if parent else include.group(1)
            names.extend(_requirements(app, target, seen))
        elif line and not line.startswith(("#", "-")):
            names.extend(_names([line]))
    return names


@dataclass(frozen=True)
class _Instance:
    file: str
    module: str
    var: str


def _find_instance(app: AppDir, pattern: re.Pattern[str]) -> _Instance | None:
    for file in APP_MODULE_FILES:
        text = app.read_text(file)
        if text is None:
            continue
        match = pattern.search(text)
        if match:
            module = file.removesuffix(".py").replace("/", ".")
            return _Instance(file, module, match.group("var"))
    return None


def _django_project(app: AppDir) -> str | None:
    """Return the Django project package, the one holding ``wsgi.py``.

    The package of the settings module named in ``manage.py`` comes first, then
    the first top-level package with both ``wsgi.py`` and settings, then the
    first with ``wsgi.py`` alone.
    """
    manage = app.read_text("manage.py") or ""
    named = _SETTINGS_MODULE.search(manage)
    if named:
        package = named.group(1).split(".")[0]
        if app.is_file(f"{package}/wsgi.py"):
            return package
    candidates = [d for d in app.subdirs() if _IDENTIFIER.match(d) and app.is_file(f"{d}/wsgi.py")]
    for directory in candidates:
        if app.is_file(f"{directory}/settings.py") or app.is_dir(f"{directory}/settings"):
            return directory
    return candidates[0] if candidates else None


def _web(app: AppDir, deps: dict[str, str]) -> tuple[str | None, str | None, list[Evidence]]:
    """Return the framework, the default web command and the evidence for them."""
    evidence: list[Evidence] = []
    framework = None
    for name in ("django", "fastapi", "flask"):
        if name in deps:
            framework = name
            evidence.append(Evidence(deps[name], f"{deps[name]} lists {name}"))
            break

    if app.is_file("manage.py"):
        project = _django_project(app)
        if project is not None and (framework == "django" or framework is None):
            evidence.append(Evidence("manage.py", "manage.py is present"))
            evidence.append(
                Evidence(f"{project}/wsgi.py", f"{project}/wsgi.py is the Django WSGI module")
            )
            return "django", f"gunicorn {project}.wsgi --bind 0.0.0.0:$PORT", evidence

    if framework == "fastapi":
        instance = _find_instance(app, _FASTAPI_INSTANCE)
        if instance is not None:
            evidence.append(_instance_evidence(instance, "FastAPI"))
            target = f"{instance.module}:{instance.var}"
            return framework, f"uvicorn {target} --host 0.0.0.0 --port $PORT", evidence
    if framework == "flask":
        instance = _find_instance(app, _FLASK_INSTANCE)
        if instance is not None:
            evidence.append(_instance_evidence(instance, "Flask"))
            target = f"{instance.module}:{instance.var}"
            return framework, f"gunicorn {target} --bind 0.0.0.0:$PORT", evidence

    for file in ("app.py", "main.py"):
        if app.is_file(file):
            evidence.append(Evidence(file, f"{file} is present"))
            return framework, f"python {shlex.quote(file)}", evidence
    return framework, None, evidence


def _instance_evidence(instance: _Instance, cls: str) -> Evidence:
    return Evidence(instance.file, f"{instance.file} creates the {cls} app `{instance.var}`")
