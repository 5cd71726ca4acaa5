"""PHP apps: ``composer.json`` (composer), or an ``index.php`` without one.

Runtime version: ``require.php`` in ``composer.json`` as written (``^8.2``),
else ``platform.php`` in ``composer.lock``.

Default web command: Apache httpd with mod_php, started by
``paas-php-apache2 <root>`` (paas's PHP buildpack puts it on the PATH, like
Heroku's ``heroku-php-apache2``), where the document root is ``public/``
(Laravel, Symfony 4+, Slim) when that directory exists, else ``web/``
(Heroku's getting-started app, Symfony 3), else the app directory itself.
"""

from __future__ import annotations

from pathlib import Path

from paas.detect.appdir import AppDir, dict_value, str_value
from paas.detect.model import Detection, Evidence

MARKERS = ("composer.json", "index.php")

#: Composer package -> framework, most specific first.
FRAMEWORKS = (
    ("laravel/framework", "laravel"),
    ("symfony/framework-bundle", "symfony"),
    ("slim/slim", "slim"),
)

DOCUMENT_ROOTS = ("public", "web")

SERVER_COMMAND = "paas-php-apache2"


def web_command(root: str | None) -> str:
    """The command that serves the document root `root` (None: the app directory)."""
    return f"{SERVER_COMMAND} {root}/" if root else SERVER_COMMAND


def detect_php(path: Path) -> Detection | None:
    """Recognise a PHP app.

    Args:
        path: The app directory.

    Returns:
        The detection, or None when there is neither ``composer.json`` nor ``index.php``.

    Raises:
        DetectError: ``composer.json`` or ``composer.lock`` is not a valid JSON object.
    """
    app = AppDir(path)
    composer = app.json_object("composer.json")
    if composer is None and not app.is_file("index.php"):
        return None
    evidence: list[Evidence] = []
    framework = None
    version = None
    source = None
    if composer is None:
        evidence.append(Evidence("index.php", "index.php is present"))
    else:
        evidence.append(Evidence("composer.json", "composer.json is present"))
        require = dict_value(composer, "require")
        for package, candidate in FRAMEWORKS:
            if package in require:
                framework = candidate
                evidence.append(Evidence("composer.json", f"composer.json requires {package}"))
                break
        version = str_value(composer, "require", "php") or None
        if version:
            source = Evidence("composer.json", f"composer.json requires php {version!r}")
        else:
            version = str_value(app.json_object("composer.lock"), "platform", "php") or None
            if version:
                source = Evidence("composer.lock", f"composer.lock platform php {version!r}")

    root = next((d for d in DOCUMENT_ROOTS if app.is_dir(d)), None)
    if root is not None:
        evidence.append(Evidence(root, f"{root}/ is the document root"))

    return Detection(
        language="php",
        evidence=tuple(evidence),
        runtime_version=version,
        runtime_version_source=source,
        package_manager="composer" if composer is not None else None,
        framework=framework,
        default_web_command=web_command(root),
    )
