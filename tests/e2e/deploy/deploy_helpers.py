"""Helpers for the deploy end-to-end tests: the CLI on the test cluster, HTTP.

Each test gets its own app (namespace) and destroys it after. Images are built
once per machine from the testbed's Debian base (podman's cache keeps them) and
pushed to the testbed registry; the tests then drive `paas` exactly as a user
does, and check what the Ingress serves.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

Cluster = Any  # tests/conftest.py's Cluster: kubeconfig, registry


REPO = Path(__file__).resolve().parents[3]
DOMAIN = "localhost"
INGRESS = "http://127.0.0.1"
PYTHON_BASE = "localhost/paas-e2e/python-base:bookworm"


@dataclass
class Paas:
    """The paas CLI bound to the test cluster."""

    env: dict[str, str]

    def __call__(
        self, *args: str, timeout: float = 600, check: bool = False, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "paas", *args],
            env=self.env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"paas {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n"
                f"{result.stderr}",
                pytrace=False,
            )
        if "--json" in args:
            check_json(args, result)
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "paas", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def get(app: str, path: str = "/", timeout: float = 5) -> httpx.Response:
    """A request through the Ingress (Traefik on port 80) with the app's Host header."""
    return httpx.get(f"{INGRESS}{path}", headers={"Host": f"{app}.{DOMAIN}"}, timeout=timeout)


def wait_for_body(app: str, needle: str, timeout: float = 60) -> str:
    """Poll the app through the Ingress until its page contains `needle`."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            response = get(app)
            last = f"{response.status_code} {response.text[:200]}"
            if response.status_code == 200 and needle in response.text:
                return response.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.5)
    pytest.fail(f"`{app}` never served `{needle}`; last: {last}", pytrace=False)


@dataclass(frozen=True)
class Images:
    """Two builds of the dockerfile starter that serve different pages."""

    v1: str
    v2: str


def check_json(args: tuple[str, ...], result: subprocess.CompletedProcess[str]) -> None:
    """Every `--json` document a reporting command prints holds to its schema (docs/json.md).

    Change commands (push, promote, rollback) print theirs also when they fail.
    """
    import jsonschema

    from paas.schemas import SCHEMAS

    words = [a for a in args if not a.startswith("-")]
    command = " ".join(words[:2]) if " ".join(words[:2]) in SCHEMAS else (words or [""])[0]
    if command not in SCHEMAS or not (
        result.returncode == 0 or SCHEMAS[command].get("properties", {}).get("failure")
    ):
        return
    if not result.stdout.strip() and result.returncode != 0:
        return  # refused before the command began (a usage error): nothing to print
    try:
        document = json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"paas {' '.join(args)} --json printed more than one JSON document:\n{result.stdout}",
            pytrace=False,
        )
    try:
        jsonschema.validate(document, SCHEMAS[command])
    except jsonschema.ValidationError as error:
        pytest.fail(
            f"paas {' '.join(args)}: its JSON breaks schema `{command}`: {error.message}",
            pytrace=False,
        )
