"""PHP apps: ``composer.json`` (composer).

Runtime version: ``require.php`` in ``composer.json`` as written (``^8.2``).

Default web command: PHP's built-in server, ``php -S 0.0.0.0:$PORT -t <root>``,
where the document root is ``public`` (Laravel, Symfony 4+, Slim) when that
directory exists, else ``web`` (Heroku's getting-started app, Symfony 3),
else the app directory itself.
"""

from __future__ import annotations

from pathlib import Path

from paas.detect.appdir import AppDir, dict_value, str_value
from paas.detect.model import Detection, Evidence

MARKERS = ("composer.json",)

#: Composer package -> framework, most specific first.
FRAMEWORKS = (
    ("laravel/framework", "laravel"),
    ("symfony/framework-bundle", "symfony"),
    ("slim/slim", "slim"),
)

DOCUMENT_ROOTS = ("public", "web")


def detect_php(path: Path) -> Detection | None:
    """Recognise a PHP app.

    Args:
        path: The app directory.

    Returns:
        The detection, or None when there is no ``composer.json``.

    Raises:
        DetectError: ``composer.json`` is not a valid JSON object.
    """
    app = AppDir(path)
    composer = app.json_object("composer.json")
    if composer is None:
        return None
    evidence = [Evidence("composer.json", "composer.json is present")]

    framework = None
    require = dict_value(composer, "require")
    for package, candidate in FRAMEWORKS:
        if package in require:
            framework = candidate
            evidence.append(Evidence("composer.json", f"composer.json requires {package}"))
            break

    root = next((d for d in DOCUMENT_ROOTS if app.is_dir(d)), None)
    if root is not None:
        evidence.append(Evidence(root, f"{root}/ is the document root"))

    version = str_value(composer, "require", "php")
    source = None
    if version:
        source = Evidence("composer.json", f"composer.json requires php {version!r}")
    return Detection(
        language="php",
        evidence=tuple(evidence),
        runtime_version=version or None,
        runtime_version_source=source,
        package_manager="composer",
        framework=framework,
        default_web_command=f"php -S 0.0.0.0:$PORT -t {root or '.'}",
    )
