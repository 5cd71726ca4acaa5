"""Fixtures for the end-to-end build tests: registry, podman's API socket, pack, the builder.

They need what `hack/testbed up` starts: a registry, podman's Docker API
socket, pack and the lifecycle tarball. With `CI` set a missing piece fails
the test; elsewhere it skips with one line saying to run `hack/testbed up`.

The session's first build test runs `paas builder create`, so the builder
under test is made from this checkout's `buildpacks/` (podman's layer cache
makes that quick after the first time; the first time compiles CPython).
Set `PAAS_TEST_SKIP_BUILDER_CREATE=1` to use the builder already in the registry.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_apps import copy_app

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "paas" / "testbed"
TESTBED_REGISTRY = "registry.paas.test:5000"
PODMAN_SOCKET = "/run/podman/podman.sock"
HOW_TO_START = 'run `hack/testbed up` (and `eval "$(hack/testbed env)"`)'


def _cache_volumes() -> set[str]:
    listed = subprocess.run(
        ["podman", "volume", "ls", "--format", "{{.Name}}", "--filter", "name=paas-cache-"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return set(listed.stdout.split()) if listed.returncode == 0 else set()


@pytest.fixture(scope="session", autouse=True)
def _build_caches_removed() -> Iterator[None]:
    """Remove the build cache volumes the session's apps made: each test app has its own,
    and left behind they fill the disk run after run (the kubelet then reports disk
    pressure and evicts pods). A volume still in use stays."""
    if shutil.which("podman") is None:
        yield
        return
    before = _cache_volumes()
    yield
    made = sorted(_cache_volumes() - before)
    for name in made:
        subprocess.run(
            ["podman", "volume", "rm", name], capture_output=True, timeout=60, check=False
        )


def _missing(what: str) -> None:
    message = f"no {what} for the build tests: {HOW_TO_START}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)  # only outside CI: in CI the line above fails the test


def _registry_up(registry: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{registry}/v2/", timeout=3) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _pins() -> dict[str, str]:
    pins = {}
    path = REPO / "hack" / "pins.env"
    if path.is_file():
        for line in path.read_text().splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                pins[key.strip()] = value.strip()
    return pins


def _find_pack() -> str | None:
    found = os.environ.get("PAAS_PACK") or shutil.which("pack")
    if found:
        return found
    version = _pins().get("PACK_VERSION", "")
    candidates = sorted(glob.glob(str(CACHE / f"pack-{version}*" / "bin" / "pack")))
    candidates += sorted(glob.glob(str(CACHE / "pack-*" / "bin" / "pack")))
    return candidates[0] if candidates else None


def _find_lifecycle() -> str | None:
    if os.environ.get("PAAS_LIFECYCLE_TGZ"):
        return os.environ["PAAS_LIFECYCLE_TGZ"]
    version = _pins().get("LIFECYCLE_VERSION", "")
    candidates = glob.glob(str(CACHE / f"lifecycle-{version}" / "lifecycle-*.tgz"))
    candidates += sorted(glob.glob(str(CACHE / "lifecycle-*" / "lifecycle-*.tgz")), reverse=True)
    return candidates[0] if candidates else None


@dataclass(frozen=True)
class BuildTestbed:
    """What the build tests run against."""

    registry: str
    env: dict[str, str]  # the environment `paas` runs with
    settings: Path  # cluster settings naming the registry (plain HTTP, so insecure)

    def paas(
        self, *args: str | Path, cwd: Path | None = None, timeout: float = 1500
    ) -> subprocess.CompletedProcess[str]:
        """Run `paas ARGS` as a user does; output captured, never raises on exit code."""
        return subprocess.run(
            [sys.executable, "-m", "paas", *map(str, args)],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@pytest.fixture(scope="session")
def build_testbed(tmp_path_factory: pytest.TempPathFactory) -> BuildTestbed:
    """The registry, podman socket, pack and lifecycle; skips (fails in CI) without them."""
    registry = os.environ.get("PAAS_TEST_REGISTRY", TESTBED_REGISTRY)
    if not _registry_up(registry):
        _missing(f"registry at {registry}")
    docker_host = os.environ.get("DOCKER_HOST") or f"unix://{PODMAN_SOCKET}"
    sock = docker_host.removeprefix("unix://")
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(3)
            s.connect(sock)
    except OSError:
        _missing(f"Docker-compatible API socket at {sock}")
    if shutil.which("podman") is None:
        _missing("podman")
    pack, lifecycle = _find_pack(), _find_lifecycle()
    if pack is None:
        _missing("pack binary")
    if lifecycle is None:
        _missing("CNB lifecycle tarball")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAAS_REGISTRY_")}
    env.update(
        NO_COLOR="1",
        COLUMNS="120",
        DOCKER_HOST=docker_host,
        PAAS_PACK=str(pack),
        PAAS_LIFECYCLE_TGZ=str(lifecycle),
    )
    settings = tmp_path_factory.mktemp("settings") / "settings.yaml"
    settings.write_text(f"registry: {registry}\ninsecure_registry: true\n")
    return BuildTestbed(registry=registry, env=env, settings=settings)


@pytest.fixture(scope="session")
def builder(build_testbed: BuildTestbed) -> str:
    """The paas builder in the test registry, made from this checkout's buildpacks/."""
    ref = f"{build_testbed.registry}/paas/builder:latest"
    if os.environ.get("PAAS_TEST_SKIP_BUILDER_CREATE"):
        return ref
    result = build_testbed.paas(
        "builder", "create", "--registry", build_testbed.registry, timeout=3600
    )
    if result.returncode != 0:
        pytest.fail(
            f"`paas builder create` exited {result.returncode}:\n{result.stderr[-4000:]}",
            pytrace=False,
        )
    assert result.stdout.strip() == ref
    # Shown as a build is: podman's and pack's escape codes and internals are only in the log.
    assert "\x1b[" not in result.stderr, result.stderr[-2000:]
    assert "Copying blob " not in result.stderr, result.stderr[-2000:]
    return ref


@pytest.fixture
def app_copy(tmp_path: Path) -> Callable[..., Path]:
    """Copy a starter or fixture app into a fresh directory with a unique app name."""
    return lambda source, name=None: copy_app(source, tmp_path, name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningImage:
    """A built image running in podman the way a paas pod runs it."""

    container: str
    port: int

    def get(self, path: str = "/", timeout: float = 60) -> str:
        """GET a path, retrying until the server answers; return the body."""
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.port}{path}", timeout=5
                ) as response:
                    return str(response.read().decode())
            except OSError as exc:
                last = exc
                time.sleep(0.5)
        raise AssertionError(f"no answer on {path}: {last}\n{self.logs()}")

    def logs(self) -> str:
        out = subprocess.run(
            ["podman", "logs", self.container], capture_output=True, text=True, check=False
        )
        return out.stdout + out.stderr

    def stop(self) -> int:
        """Stop it as Kubernetes does (SIGTERM, then 10 s); return the process's exit code."""
        stopped = subprocess.run(
            ["podman", "stop", "-t", "10", self.container], capture_output=True, check=False
        )
        assert stopped.returncode == 0, stopped.stderr
        state = subprocess.run(
            ["podman", "inspect", "-f", "{{.State.ExitCode}}", self.container],
            capture_output=True,
            text=True,
            check=True,
        )
        return int(state.stdout.strip())


@pytest.fixture
def run_image() -> Iterator[Callable[..., RunningImage]]:
    """Run an image like the rendered pod: launcher + command, read-only root, /tmp, uid 1000."""
    started: list[str] = []

    def run(image: str, command: str | None, env: dict[str, str] | None = None) -> RunningImage:
        port = free_port()
        name = f"paas-e2e-{uuid.uuid4().hex[:8]}"
        argv = [
            "podman",
            "run",
            "-d",
            "--name",
            name,
            "--read-only",
            "--tmpfs",
            "/tmp",
            "--user",
            "1000:1000",
            "-p",
            f"127.0.0.1:{port}:8080",
            "-e",
            "PORT=8080",
        ]
        for key, value in (env or {}).items():
            argv += ["-e", f"{key}={value}"]
        argv.append(image)
        if command is not None:
            argv += ["/cnb/lifecycle/launcher", command]
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        started.append(name)
        return RunningImage(name, port)

    yield run
    for name in started:
        subprocess.run(["podman", "rm", "-f", "-t", "5", name], capture_output=True, check=False)
