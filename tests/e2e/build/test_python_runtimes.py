"""End to end: native libraries like Heroku's stack images, for Python's common drivers.

psycopg2-binary 2.9.9 has no wheel for Python 3.13, so pip builds it from
source against libpq's headers in the build image; Django loads it at build
time (collectstatic) and the run image has libpq for it at run time.
"""

from __future__ import annotations

import pytest
from test_build import FIXTURES, built_image

pytestmark = pytest.mark.e2e


def test_a_psycopg2_built_from_source_loads_at_build_and_at_run_time(
    build_testbed, builder, app_copy, run_image
) -> None:
    app = app_copy(FIXTURES / "python-django-psycopg2")
    image, log = built_image(build_testbed, app)
    assert "Python 3.13" in log
    assert "Building wheel for psycopg2-binary" in log  # no wheel: compiled here
    assert "python manage.py collectstatic --noinput" in log
    assert "static file copied" in log or "static files copied" in log
    running = run_image(image, None, {"PAAS_RELEASE": "v4"})
    body = running.get("/")
    assert "psycopg2=2.9.9" in body
    assert "backend=postgresql release=v4" in body
