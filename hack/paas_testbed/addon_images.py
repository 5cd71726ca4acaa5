"""The add-on images: Postgres and Redis from Debian's packages, in podman and the registry.

The testbed cannot pull upstream's `postgres`/`redis`, so it builds its own on
the Debian base image: the packages installed with apt-get in a buildah
container, the server's user at uid 999 as upstream's images have it, and an
entrypoint (addon-entrypoints/) that honours upstream's env names. Each is
pushed as `paas/TYPE:MAJOR` (what `paas cluster init --addon-image` names) and
`paas/TYPE:DEBIAN_VERSION`; a local image is kept, so a warm `up` builds nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

from .config import LOGS, PINS, REGISTRY, log, run
from .images import podman_has, registry_has

HERE = Path(__file__).resolve().parent / "addon-entrypoints"

#: type -> (the Debian package, its major version as the tag, the data directory)
ADDON_IMAGES = {
    "postgres": ("postgresql-15", "15", "/var/lib/postgresql/data"),
    "redis": ("redis-server", "7", "/data"),
}


def addon_image(type_name: str) -> str:
    """The image `paas cluster init --addon-image TYPE=...` names on the testbed."""
    return f"{REGISTRY}/paas/{type_name}:{ADDON_IMAGES[type_name][1]}"


def _build(type_name: str, local: str, logfile: Path) -> None:
    package, _, data = ADDON_IMAGES[type_name]
    user = "postgres" if type_name == "postgres" else "redis"
    base = f"localhost/debian:{PINS['DEBIAN_SUITE']}"
    ctr = run(["buildah", "from", base], capture=True).stdout.decode().strip()
    try:
        script = (
            "set -e; "
            f"groupadd -g 999 {user}; useradd -u 999 -g 999 -M -d {data} -s /bin/sh {user}; "
            "mkdir -p /etc/postgresql-common; "
            "echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf; "
            "apt-get update -q; "
            "DEBIAN_FRONTEND=noninteractive "
            f"apt-get install -y -q --no-install-recommends {package}; "
            "apt-get clean; rm -rf /var/lib/apt/lists/*; "
            f"mkdir -p {data}; chown 999:999 {data}; "
            f"dpkg-query -W -f='${{Version}}' {package} > /paas-version"
        )
        run(["buildah", "run", "--network", "host", ctr, "sh", "-c", script], logfile=logfile)
        version = run(["buildah", "run", ctr, "cat", "/paas-version"], capture=True).stdout
        entrypoint = f"/usr/local/bin/paas-{type_name}-entrypoint"
        env = ["--env", f"PGDATA={data}"] if type_name == "postgres" else []
        run(
            [
                "buildah",
                "copy",
                "--chmod",
                "0755",
                ctr,
                HERE / f"{type_name}-entrypoint.sh",
                entrypoint,
            ],
            logfile=logfile,
        )
        run(
            [
                "buildah", "config", "--user", "999:999", "--entrypoint", f'["{entrypoint}"]',
                "--cmd", "", "--volume", data, *env,
                "--label", f"org.opencontainers.image.version={version.decode().strip()}",
                "--label", f"org.opencontainers.image.title=paas {type_name} (Debian {package})",
                ctr,
            ],
            logfile=logfile,
        )  # fmt: skip
        run(["buildah", "commit", "--format", "docker", ctr, local], logfile=logfile)
    finally:
        run(["buildah", "rm", ctr], check=False, capture=True)


def ensure_addon_images() -> None:
    """Build (once) and push the add-on images."""
    logfile = LOGS / "images.log"
    for type_name, (_package, major, _data) in ADDON_IMAGES.items():
        local = f"localhost/paas/{type_name}:{major}"
        if not podman_has(local):
            began = time.monotonic()
            _build(type_name, local, logfile)
            log(f"built {local} in {time.monotonic() - began:.0f}s")
        if registry_has(f"paas/{type_name}", major):
            continue
        version = (
            run(
                [
                    "podman", "image", "inspect", "--format",
                    '{{index .Labels "org.opencontainers.image.version"}}', local,
                ],
                capture=True,
            )
            .stdout.decode()
            .strip()
        )  # fmt: skip
        for tag in (major, version.replace("~", "_").replace(":", "_").replace("+", "_")):
            run(["podman", "push", local, f"{REGISTRY}/paas/{type_name}:{tag}"], logfile=logfile)
