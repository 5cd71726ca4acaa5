"""End to end: a dependency mirror in the cluster settings is where the build gets its packages.

A plain-HTTP PEP 503 index, served by the test from wheels it downloaded
first, stands in for an air-gapped cluster's PyPI mirror. The python-flask
starter builds with `mirrors.pip` pointing at it, and the index saw the
requests for its dependencies.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_build import TEMPLATES

pytestmark = pytest.mark.e2e


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _Index(ThreadingHTTPServer):
    wheels: Path
    seen: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Index

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        body: bytes | None = None
        kind = "application/octet-stream"
        if len(parts) == 2 and parts[0] == "simple":
            files = [
                f
                for f in sorted(self.server.wheels.iterdir())
                if _normalise(f.name.split("-")[0]) == _normalise(parts[1])
            ]
            if files:
                links = "".join(
                    f'<a href="/files/{html.escape(f.name)}">{html.escape(f.name)}</a>\n'
                    for f in files
                )
                body = f"<!doctype html><html><body>{links}</body></html>".encode()
                kind = "text/html"
        elif len(parts) == 2 and parts[0] == "files" and (self.server.wheels / parts[1]).is_file():
            body = (self.server.wheels / parts[1]).read_bytes()
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def pip_mirror(tmp_path: Path) -> Iterator[_Index]:
    wheels = tmp_path / "wheels"
    downloaded = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--platform",
            "manylinux2014_x86_64",
            "-r",
            str(TEMPLATES / "python-flask" / "requirements.txt"),
            "-d",
            str(wheels),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert downloaded.returncode == 0, downloaded.stderr
    server = _Index(("127.0.0.1", 0), _Handler)
    server.wheels, server.seen = wheels, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_a_build_installs_from_the_pip_mirror_of_the_cluster_settings(
    build_testbed, builder, app_copy, pip_mirror: _Index, tmp_path: Path
) -> None:
    del builder
    url = f"http://127.0.0.1:{pip_mirror.server_address[1]}/simple"
    settings = tmp_path / "mirrored.yaml"
    settings.write_text(
        f"registry: {build_testbed.registry}\ninsecure_registry: true\nmirrors:\n  pip: {url}\n"
    )
    app = app_copy(TEMPLATES / "python-flask")

    result = build_testbed.paas("build", app, "--settings", settings, "--json")

    assert result.returncode == 0, result.stderr[-4000:]
    assert f"Looking in indexes: {url}" in result.stderr
    assert "/simple/flask/" in pip_mirror.seen
    assert "/simple/gunicorn/" in pip_mirror.seen
    assert any(path.startswith("/files/flask-") for path in pip_mirror.seen)
