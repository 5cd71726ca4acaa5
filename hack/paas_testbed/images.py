"""Images: pause and the Debian base, in podman and in the testbed registry."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request

from .config import CACHE, HOST_IP, LOGS, PINS, REGISTRY, TestbedError, run


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
