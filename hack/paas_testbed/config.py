"""Where the testbed lives and what it is made of, and the helpers every module uses.

Paths (cache, state), addresses, the pins from hack/pins.env, the Debian
packages, and `log`, `TestbedError`, `run` and `write_if_changed`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent
# The directory that holds this package: `python3 -m paas_testbed` needs it on sys.path.
HACK = REPO / "hack"
HOME = Path.home()
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or HOME / ".cache") / "paas" / "testbed"
STATE = Path(os.environ.get("XDG_STATE_HOME") or HOME / ".local" / "state") / "paas" / "testbed"
LOGS = STATE / "logs"
RUN = STATE / "run"
PKI = STATE / "pki"
CONF = STATE / "conf"
BIN = STATE / "bin"

# Addresses. HOST_IP is put on the loopback device as a /32 (this kernel has no
# dummy link type). It is local to the host, so the host, containerd and pods
# (through the cni0 gateway) all reach it, and it does not change when the
# machine's own address does. The registry, the node IP, the API server's
# advertise address and cluster DNS all live on it.
NODE_NAME = "paas-testbed"
HOST_IP = "10.245.0.1"
HOST_DEV = "lo"
REGISTRY_HOST = "registry.paas.test"
REGISTRY = f"{REGISTRY_HOST}:5000"
POD_SUBNET = "10.244.0.0/24"
CLUSTER_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/24"
CLUSTER_DOMAIN = "cluster.local"
CNI_NETWORK = "paas-testbed"
CNI_BRIDGE = "cni0"
PODMAN_SOCKET = "/run/podman/podman.sock"
CONTAINERD_SOCKET = "/run/containerd/containerd.sock"
KUBELET_ROOT = Path("/var/lib/kubelet")
HOSTS_MARK = "# paas-testbed"
INGRESS_ADDR = "127.0.0.1:80"
TRAEFIK_PING = "127.0.0.1:18081"
COREDNS_HEALTH = "127.0.0.1:18053"

APT_PACKAGES = [
    "containerd",
    "runc",
    "containernetworking-plugins",
    "etcd-server",
    "etcd-client",
    "conntrack",
    "iptables",
    "iproute2",
    "docker-registry",
    "buildah",
    "podman",
    "gcc",
    "libc6-dev",
    "debootstrap",
    "openssl",
    "curl",
    "ca-certificates",
]

# Files outside STATE that the testbed writes. They are left in place by `down`
# (harmless, and rewritten by `up`) except the /etc/hosts line.
CONTAINERS_CONF = Path("/etc/containers/containers.conf")
REGISTRIES_CONF = Path("/etc/containers/registries.conf.d/50-paas-testbed.conf")


def log(msg: str) -> None:
    # One write per line: the build lanes log from several threads.
    sys.stderr.write(f"testbed: {msg}\n")
    sys.stderr.flush()


class TestbedError(Exception):
    """A failure with a message meant for the person running the testbed."""


def load_pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for raw in (REPO / "hack" / "pins.env").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pins[key.strip()] = value.strip()
    return pins


PINS = load_pins()


def run(
    argv: Sequence[str | os.PathLike[str]],
    *,
    check: bool = True,
    capture: bool = False,
    env: dict[str, str] | None = None,
    cwd: Path | str | None = None,
    logfile: Path | None = None,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a command; on failure raise with the tail of its output or log."""
    cmd = [str(a) for a in argv]
    if logfile is not None:
        logfile.parent.mkdir(parents=True, exist_ok=True)
        with logfile.open("ab") as f:
            f.write(f"\n$ {' '.join(cmd)}\n".encode())
            f.flush()
            proc = subprocess.run(
                cmd, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=cwd, input=stdin, check=False
            )
    else:
        proc = subprocess.run(
            cmd, capture_output=capture, env=env, cwd=cwd, input=stdin, check=False
        )
    if check and proc.returncode != 0:
        detail = ""
        if logfile is not None:
            detail = "\n".join(logfile.read_text(errors="replace").splitlines()[-25:])
        elif capture:
            detail = (proc.stderr or b"").decode(errors="replace")[-3000:]
        raise TestbedError(f"`{' '.join(cmd)}` exited {proc.returncode}\n{detail}")
    return proc


def write_if_changed(path: Path, text: str, mode: int | None = None) -> bool:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text() == text:
        return False
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    if mode is not None:
        tmp.chmod(mode)
    tmp.replace(path)
    return True
