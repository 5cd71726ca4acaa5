"""Static sites: ``index.html`` at the root or in ``public/``, or a ``static.json``.

``static.json`` is the configuration file of Heroku's static buildpack (root
directory, clean URLs, headers); its presence alone marks a static site.

Default web command: ``paas-static-server``. The command is provided by paas's
static buildpack (``buildpacks/``), which installs a small file server on the
PATH that serves the site on ``$PORT`` and reads ``static.json``; detection
only names it.
"""

from __future__ import annotations

from pathlib import Path

from paas.detect.appdir import AppDir
from paas.detect.model import Detection, Evidence

MARKERS = ("index.html", "public/index.html", "static.json")

STATIC_SERVER_COMMAND = "paas-static-server"


def detect_static(path: Path) -> Detection | None:
    """Recognise a static site.

    Args:
        path: The app directory.

    Returns:
        The detection, or None when none of the marker files is present.
    """
    app = AppDir(path)
    present = [marker for marker in MARKERS if app.is_file(marker)]
    if not present:
        return None
    return Detection(
        language="static",
        evidence=tuple(Evidence(marker, f"{marker} is present") for marker in present),
        default_web_command=STATIC_SERVER_COMMAND,
    )
