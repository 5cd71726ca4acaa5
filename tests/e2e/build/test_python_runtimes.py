"""End to end: native libraries like Heroku's stack images, for Python's common drivers.

psycopg2 (not -binary) has no Linux wheel, so pip builds it from source
against libpq's headers and pg_config in the build image; the app's settings
import it, so collectstatic loads it at build time, and the run image has
libpq for it at run time. (psycopg2-binary 2.9.9 on Python 3.13, the case the
issue reported, compiles too but cannot load: `undefined symbol:
_PyInterpreterState_Get`, psycopg2's own incompatibility with 3.13, fixed in
2.9.10; Heroku fails the same way.)
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
    assert "Building wheel for psycopg2" in log  # no wheel: compiled here
    assert "python manage.py collectstatic --noinput" in log
    assert "static file copied" in log or "static files copied" in log
    running = run_image(image, None, {"PAAS_RELEASE": "v4"})
    body = running.get("/")
    assert "psycopg2=2.9.13" in body
    assert "backend=postgresql release=v4" in body
