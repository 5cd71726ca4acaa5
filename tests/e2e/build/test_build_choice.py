"""End to end: like Heroku, a Dockerfile beside a language's files is not what builds the app.

The Go fixture has a go.mod, a Procfile, a heroku.yml naming the Go buildpack
and a Dockerfile whose base images cannot be pulled here. `paas build` with no
strategy picks the Go buildpack and the image serves.
"""

from __future__ import annotations

import json

import pytest
from test_build import FIXTURES, built_image

pytestmark = pytest.mark.e2e


def test_a_go_app_with_a_dockerfile_and_heroku_yml_languages_builds_with_the_go_buildpack(
    build_testbed, builder, app_copy, run_image
) -> None:
    app = app_copy(FIXTURES / "go-heroku-yml")
    detected = build_testbed.paas("detect", app, "--json")
    assert json.loads(detected.stdout)["build_choice"].startswith("buildpacks, not the Dockerfile")

    image, log = built_image(build_testbed, app)

    assert "-----> Go 1.24." in log
    assert "FROM golang" not in log  # the Dockerfile was not used
    running = run_image(image, None, {"PAAS_RELEASE": "v5"})
    assert "built with the Go buildpack release=v5" in running.get("/")
