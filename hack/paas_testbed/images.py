"""Images: pause and the Debian base, in podman and in the testbed registry."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from .build import kaniko_dir
from .config import CACHE, HOST_IP, LOGS, PINS, REGISTRY, TestbedError, run

DOCKERFILE_BUILDER = "paas/dockerfile-builder"
# The busybox applets the build pod's shell scripts use (cluster.py's
# receive script and the wait loop, dockerfile_cluster.py's wrapper).
BUSYBOX_APPLETS = (
    "sh", "cat", "head", "tar", "gzip", "sleep", "touch", "mkdir", "printf", "ls", "rm",
    "test", "[", "basename", "echo", "env",
)  # fmt: skip


def registry_has(repo: str, tag: str) -> bool:
    req = urllib.request.Request(f"http://{HOST_IP}:5000/v2/{repo}/manifests/{tag}", method="HEAD")
    req.add_header(
        "Accept",
        "application/vnd.docker.distribution.manifest.v2+json, "
        "application/vnd.oci.image.manifest.v1+json",
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            status: int = resp.status
            return status == 200
    except (urllib.error.URLError, OSError):
        return False


def podman_has(ref: str) -> bool:
    return run(["podman", "image", "exists", ref], check=False).returncode == 0


def ensure_images() -> None:
    img_log = LOGS / "images.log"
    tag = PINS["PAUSE_TAG"]
    suite = PINS["DEBIAN_SUITE"]
    if not podman_has(f"localhost/pause:{tag}"):
        pause = CACHE / f"pause-{tag}" / "pause"
        ctr = run(["buildah", "from", "scratch"], capture=True).stdout.decode().strip()
        try:
            run(["buildah", "copy", ctr, pause, "/pause"], logfile=img_log)
            run(
                ["buildah", "config", "--entrypoint", '["/pause"]', "--user", "65535:65535", ctr],
                logfile=img_log,
            )
            run(
                ["buildah", "commit", "--format", "docker", ctr, f"localhost/pause:{tag}"],
                logfile=img_log,
            )
        finally:
            run(["buildah", "rm", ctr], check=False, capture=True)
    if not registry_has("pause", tag):
        run(
            ["podman", "push", f"localhost/pause:{tag}", f"{REGISTRY}/pause:{tag}"], logfile=img_log
        )
    if not podman_has(f"localhost/debian:{suite}"):
        rootfs = CACHE / f"debian-{suite}" / "rootfs.tar"
        with rootfs.open("rb") as f:
            proc = subprocess.run(
                [
                    "podman",
                    "import",
                    "--change",
                    'CMD ["/bin/bash"]',
                    "-",
                    f"localhost/debian:{suite}",
                ],
                stdin=f,
                capture_output=True,
                check=False,
            )
        if proc.returncode != 0:
            raise TestbedError(f"podman import failed: {proc.stderr.decode()}")
    if not registry_has("debian", suite):
        run(
            ["podman", "push", f"localhost/debian:{suite}", f"{REGISTRY}/debian:{suite}"],
            logfile=img_log,
        )


def _builder_tree(out: Path) -> None:
    """The whole filesystem of the Dockerfile builder image, as a tar owned by root.

    Everything lives under /kaniko, which kaniko keeps when it replaces the
    root with a stage's base image; /tmp (for the pod's source mark) and
    /etc/nsswitch.conf (so Go resolves /etc/hosts first) complete it.
    """
    built = kaniko_dir() / "bin"
    ca = Path("/etc/ssl/certs/ca-certificates.crt")

    def add_dir(t: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode = tarfile.DIRTYPE, mode
        t.addfile(info)

    def add_file(t: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), mode
        t.addfile(info, io.BytesIO(data))

    with tarfile.open(out, "w") as t:
        for d in (
            "kaniko",
            "kaniko/bin",
            "kaniko/ssl",
            "kaniko/ssl/certs",
            "kaniko/.docker",
            "etc",
        ):
            add_dir(t, d)
        add_dir(t, "tmp", 0o1777)
        add_dir(t, "workspace")
        add_file(t, "kaniko/executor", (built / "executor").read_bytes(), 0o755)
        add_file(t, "kaniko/bin/busybox", (built / "busybox").read_bytes(), 0o755)
        for applet in BUSYBOX_APPLETS:
            info = tarfile.TarInfo(f"kaniko/bin/{applet}")
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, "busybox", 0o777
            t.addfile(info)
        add_file(t, "kaniko/ssl/certs/ca-certificates.crt", ca.read_bytes())
        add_file(t, "etc/nsswitch.conf", b"hosts: files dns\n")


def ensure_dockerfile_builder() -> None:
    """The in-cluster Dockerfile builder image, in podman and the registry (VERSION and latest)."""
    img_log = LOGS / "images.log"
    version = PINS["KANIKO_VERSION"]
    local = f"localhost/{DOCKERFILE_BUILDER}:{version}"
    if not podman_has(local):
        ctr = run(["buildah", "from", "scratch"], capture=True).stdout.decode().strip()
        try:
            with tempfile.TemporaryDirectory(prefix="dockerfile-builder-") as tmp:
                tree = Path(tmp) / "tree.tar"
                _builder_tree(tree)
                run(["buildah", "add", ctr, tree, "/"], logfile=img_log)
            run(
                [
                    "buildah",
                    "config",
                    "--user",
                    "0:0",
                    "--env",
                    "PATH=/kaniko/bin:/kaniko:/usr/local/bin:/usr/bin:/bin",
                    "--env",
                    "HOME=/root",
                    "--env",
                    "USER=root",
                    "--env",
                    "SSL_CERT_DIR=/kaniko/ssl/certs",
                    "--env",
                    "DOCKER_CONFIG=/kaniko/.docker",
                    "--workingdir",
                    "/workspace",
                    "--entrypoint",
                    '["/kaniko/executor"]',
                    "--label",
                    f"org.opencontainers.image.version={version}",
                    "--label",
                    "org.opencontainers.image.title=paas dockerfile-builder (kaniko executor)",
                    ctr,
                ],
                logfile=img_log,
            )
            run(["buildah", "commit", "--format", "docker", ctr, local], logfile=img_log)
        finally:
            run(["buildah", "rm", ctr], check=False, capture=True)
    for tag in (version, "latest"):
        if not registry_has(DOCKERFILE_BUILDER, tag) or tag == "latest":
            run(
                ["podman", "push", local, f"{REGISTRY}/{DOCKERFILE_BUILDER}:{tag}"],
                logfile=img_log,
            )
