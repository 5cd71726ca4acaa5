from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from paas.detect import Evidence, detect
from paas.detect.static import detect_static

MakeApp = Callable[[dict[str, str]], Path]
FixtureApp = Callable[[str], Path]


def test_static_site_fixture(fixture_app: FixtureApp) -> None:
    detection = detect(fixture_app("static-site"))

    assert detection.language == "static"
    assert detection.evidence == (Evidence("index.html", "index.html is present"),)
    assert detection.default_web_command == "paas-static-server"
    assert detection.runtime_version is None
    assert detection.runtime_version_source is None
    assert detection.package_manager is None
    assert detection.framework is None


@pytest.mark.parametrize("marker", ["index.html", "public/index.html", "static.json"])
def test_each_marker_makes_a_static_site(make_app: MakeApp, marker: str) -> None:
    detection = detect_static(make_app({marker: ""}))

    assert detection is not None
    assert detection.evidence == (Evidence(marker, f"{marker} is present"),)


def test_all_markers_are_evidence_in_order(make_app: MakeApp) -> None:
    app = make_app({"static.json": "{}", "public/index.html": "", "index.html": ""})

    detection = detect_static(app)

    assert detection is not None
    assert [e.file for e in detection.evidence] == [
        "index.html",
        "public/index.html",
        "static.json",
    ]


def test_html_elsewhere_is_not_a_static_site(make_app: MakeApp) -> None:
    app = make_app({"docs/index.html": "", "about.html": "", "dist/index.html": ""})

    assert detect_static(app) is None
