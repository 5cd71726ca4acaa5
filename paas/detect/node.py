"""Node.js apps: ``package.json``.

Package manager: the lockfile (``package-lock.json`` or ``npm-shrinkwrap.json``
npm, ``yarn.lock`` yarn, ``pnpm-lock.yaml`` pnpm, checked in that order), else
the ``packageManager`` field (``pnpm@9.1.0``), else npm, which ships with Node.js.

Runtime version, first found: ``engines.node`` in ``package.json``, ``.nvmrc``,
``.node-version``; as written (``20.x``, ``>=18``, ``lts/iron``).

Default web command: ``<manager> start`` when ``scripts.start`` exists, else
``node <file>`` for the first of the ``main`` field, ``server.js`` and
``index.js`` that exists.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from paas.detect.appdir import AppDir, dict_value, str_value
from paas.detect.model import Detection, Evidence

MARKERS = ("package.json",)

LOCKFILES = (
    ("package-lock.json", "npm"),
    ("npm-shrinkwrap.json", "npm"),
    ("yarn.lock", "yarn"),
    ("pnpm-lock.yaml", "pnpm"),
)

#: Dependency name -> framework, most specific first: a Next.js app may also
#: depend on express for a custom server, and is still a Next.js app.
FRAMEWORKS = (
    ("next", "next"),
    ("nuxt", "nuxt"),
    ("@remix-run/node", "remix"),
    ("@sveltejs/kit", "sveltekit"),
    ("astro", "astro"),
    ("@nestjs/core", "nestjs"),
    ("fastify", "fastify"),
    ("koa", "koa"),
    ("@hapi/hapi", "hapi"),
    ("express", "express"),
)


def detect_node(path: Path) -> Detection | None:
    """Recognise a Node.js app.

    Args:
        path: The app directory.

    Returns:
        The detection, or None when there is no ``package.json``.

    Raises:
        DetectError: ``package.json`` is not a valid JSON object.
    """
    app = AppDir(path)
    package = app.json_object("package.json")
    if package is None:
        return None
    evidence = [Evidence("package.json", "package.json is present")]

    manager, manager_evidence = _package_manager(app, package)
    evidence.append(manager_evidence)

    framework = None
    dependencies = {**dict_value(package, "devDependencies"), **dict_value(package, "dependencies")}
    for name, candidate in FRAMEWORKS:
        if name in dependencies:
            framework = candidate
            evidence.append(Evidence("package.json", f"package.json depends on {name}"))
            break

    command = None
    if str_value(package, "scripts", "start"):
        command = f"{manager} start"
        evidence.append(Evidence("package.json", "package.json has a start script"))
    else:
        main = str_value(package, "main")
        for file in (main, "server.js", "index.js"):
            if file and app.is_file(file):
                command = f"node {shlex.quote(file)}"
                evidence.append(Evidence(file, f"{file} is present and there is no start script"))
                break

    version, version_source = _runtime_version(app, package)
    return Detection(
        language="node",
        evidence=tuple(evidence),
        runtime_version=version,
        runtime_version_source=version_source,
        package_manager=manager,
        framework=framework,
        default_web_command=command,
    )


def _package_manager(app: AppDir, package: dict[str, object]) -> tuple[str, Evidence]:
    for lockfile, manager in LOCKFILES:
        if app.is_file(lockfile):
            return manager, Evidence(lockfile, f"{lockfile} is present")
    field = str_value(package, "packageManager")
    if field:
        name = field.split("@", 1)[0]
        if name in ("npm", "yarn", "pnpm"):
            return name, Evidence("package.json", f"package.json has packageManager {field!r}")
    return "npm", Evidence("package.json", "there is no lockfile, so npm is used")


def _runtime_version(app: AppDir, package: dict[str, object]) -> tuple[str | None, Evidence | None]:
    engine = str_value(package, "engines", "node")
    if engine and engine.strip():
        version = engine.strip()
        return version, Evidence("package.json", f"package.json has engines.node {version!r}")
    for file in (".nvmrc", ".node-version"):
        line = app.first_line(file)
        if line:
            return line, Evidence(file, f"{file} asks for Node.js {line}")
    return None, None
