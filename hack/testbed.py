#!/usr/bin/env python3
"""The paas testbed: a real single-node Kubernetes cluster built on this machine.

Everything is built from package registries (Debian packages and the Go module
proxy); no container image is pulled. Pins live in hack/pins.env. See
docs/testbed.md for what runs, where, and how long it takes.

Usage: hack/testbed {up|down|status|env|logs COMPONENT}

Stdlib only, run with the system python3, as root.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
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
    print(f"testbed: {msg}", file=sys.stderr, flush=True)


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
    argv = [str(a) for a in argv]
    if logfile is not None:
        logfile.parent.mkdir(parents=True, exist_ok=True)
        with logfile.open("ab") as f:
            f.write(f"\n$ {' '.join(argv)}\n".encode())
            f.flush()
            proc = subprocess.run(
                argv, stdout=f, stderr=subprocess.STDOUT, env=env, cwd=cwd, input=stdin, check=False
            )
    else:
        proc = subprocess.run(
            argv, capture_output=capture, env=env, cwd=cwd, input=stdin, check=False
        )
    if check and proc.returncode != 0:
        detail = ""
        if logfile is not None:
            detail = "\n".join(logfile.read_text(errors="replace").splitlines()[-25:])
        elif capture:
            detail = (proc.stderr or b"").decode(errors="replace")[-3000:]
        raise TestbedError(f"`{' '.join(argv)}` exited {proc.returncode}\n{detail}")
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


# --------------------------------------------------------------------------
# Debian packages
# --------------------------------------------------------------------------


def ensure_packages() -> None:
    missing = []
    for pkg in APT_PACKAGES:
        proc = run(["dpkg-query", "-W", "-f=${Status}", pkg], check=False, capture=True)
        if proc.returncode != 0 or b"install ok installed" not in proc.stdout:
            missing.append(pkg)
    if not missing:
        return
    log(f"installing Debian packages: {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    apt_log = LOGS / "apt.log"
    run(["apt-get", "update"], env=env, logfile=apt_log)
    run(["apt-get", "install", "-y", "--no-install-recommends", *missing], env=env, logfile=apt_log)


# --------------------------------------------------------------------------
# Builds: each component goes to CACHE/<name>-<version>/, written once.
# --------------------------------------------------------------------------


def go_env() -> dict[str, str]:
    if shutil.which("go") is None:
        raise TestbedError("`go` is not on PATH: the testbed builds Kubernetes with Go >= 1.24.")
    return dict(os.environ, GOTOOLCHAIN="local", CGO_ENABLED="0", GOFLAGS="-buildvcs=false")


def go_mod_download(module: str, version: str) -> dict[str, str]:
    # Outside any module, so the download does not touch a go.mod.
    proc = run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        env=go_env(),
        cwd="/",
        capture=True,
    )
    info: dict[str, str] = json.loads(proc.stdout)
    if info.get("Error"):
        raise TestbedError(f"go mod download {module}@{version}: {info['Error']}")
    return info


def cached_build(name: str, version: str, build: Callable[[Path, Path], None]) -> Path:
    """Return CACHE/name-version, building it into a scratch dir first if absent."""
    out = CACHE / f"{name}-{version}"
    if (out / ".complete").exists():
        return out
    partial = CACHE / f"{name}-{version}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    logfile = LOGS / f"build-{name}.log"
    log(f"building {name} {version} (log: {logfile})")
    started = time.monotonic()
    build(partial, logfile)
    (partial / ".complete").write_text(f"built in {time.monotonic() - started:.0f}s\n")
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    log(f"built {name} {version} in {time.monotonic() - started:.0f}s")
    return out


def build_kubernetes(out: Path, logfile: Path) -> None:
    version = PINS["KUBERNETES_VERSION"]
    staging = PINS["KUBERNETES_STAGING_VERSION"]
    env = go_env()
    info = go_mod_download("k8s.io/kubernetes", version)
    # k8s.io/kubernetes points its staging modules at ./staging with replace
    # directives, which only apply in the main module: a consumer module must
    # replace each one with the published v0.X.Y.
    staged = []
    for line in Path(info["GoMod"]).read_text().splitlines():
        parts = line.split()
        if "=>" in parts and parts[parts.index("=>") + 1].startswith("./staging/"):
            staged.append(parts[parts.index("=>") - 1])
    work = CACHE / "work" / f"kubernetes-{version}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    go_line = PINS["KUBERNETES_GO_LINE"]
    minor = go_line.rsplit(".", 1)[0]
    gomod = [
        f"module local/kbuild\n\ngo {go_line}\n\ngodebug default=go{minor}\n\n",
        f"require k8s.io/kubernetes {version}\n\n",
    ]
    gomod += [f"replace {m} => {m} {staging}\n" for m in staged]
    (work / "go.mod").write_text("".join(gomod))
    cmds = [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubelet",
        "kube-proxy",
        "kubectl",
    ]
    imports = "".join(f'\t_ "k8s.io/kubernetes/cmd/{c}"\n' for c in cmds)
    (work / "tools.go").write_text(f"//go:build tools\n\npackage tools\n\nimport (\n{imports})\n")
    run(["go", "mod", "tidy"], env=env, cwd=work, logfile=logfile)
    major, kminor = version.lstrip("v").split(".")[:2]
    # The same -X keys as kubernetes' hack/lib/version.sh; the build date is
    # fixed so that a rebuild is byte-identical.
    ldflags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        ldflags += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={kminor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate=1970-01-01T00:00:00Z",
        ]
    (out / "bin").mkdir()
    run(
        [
            "go",
            "build",
            "-trimpath",
            "-tags",
            "selinux,notest",
            "-ldflags",
            " ".join(ldflags),
            "-o",
            f"{out}/bin/",
            *[f"k8s.io/kubernetes/cmd/{c}" for c in cmds],
        ],
        env=env,
        cwd=work,
        logfile=logfile,
    )
    shutil.rmtree(work, ignore_errors=True)


def copy_module(module: str, version: str, name: str) -> Path:
    """Copy a module's source to a writable work dir (to build it with its replaces)."""
    src = Path(go_mod_download(module, version)["Dir"])
    work = CACHE / "work" / f"{name}-{version}"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(src, work)
    run(["chmod", "-R", "u+w", work])
    return work


def build_traefik(out: Path, logfile: Path) -> None:
    version = PINS["TRAEFIK_VERSION"]
    # `go install` refuses modules with replace directives (v3.6 has two).
    work = copy_module("github.com/traefik/traefik/v3", version, "traefik")
    (out / "bin").mkdir()
    run(
        [
            "go",
            "build",
            "-trimpath",
            "-ldflags",
            f"-s -w -X github.com/traefik/traefik/v3/pkg/version.Version={version}",
            "-o",
            out / "bin" / "traefik",
            "./cmd/traefik",
        ],
        env=go_env(),
        cwd=work,
        logfile=logfile,
    )
    shutil.rmtree(work, ignore_errors=True)


def build_coredns(out: Path, logfile: Path) -> None:
    version = PINS["COREDNS_VERSION"]
    env = dict(go_env(), GOBIN=str(out / "bin"))
    run(
        [
            "go",
            "install",
            "-trimpath",
            "-ldflags",
            "-s -w",
            f"github.com/coredns/coredns@{version}",
        ],
        env=env,
        cwd="/",
        logfile=logfile,
    )


def build_pack(out: Path, logfile: Path) -> None:
    version = PINS["PACK_VERSION"]
    work = copy_module("github.com/buildpacks/pack", version, "pack")
    (out / "bin").mkdir()
    run(
        [
            "go",
            "build",
            "-trimpath",
            "-ldflags",
            f"-s -w -X github.com/buildpacks/pack/pkg/client.Version={version.lstrip('v')}",
            "-o",
            out / "bin" / "pack",
            ".",
        ],
        env=go_env(),
        cwd=work,
        logfile=logfile,
    )
    shutil.rmtree(work, ignore_errors=True)


LIFECYCLE_TOML = """\
[apis]
[apis.buildpack]
  deprecated = []
  supported = ["0.7", "0.8", "0.9", "0.10", "0.11"]
[apis.platform]
  deprecated = []
  supported = ["0.7", "0.8", "0.9", "0.10", "0.11", "0.12", "0.13", "0.14"]
[api]
  platform = "0.7"
  buildpack = "0.7"
[lifecycle]
  version = "{version}"
"""


def build_lifecycle(out: Path, logfile: Path) -> None:
    version = PINS["LIFECYCLE_VERSION"]
    bare = version.lstrip("v")
    tree = out / "tree"
    lc = tree / "lifecycle"
    lc.mkdir(parents=True)
    # A copy build, not `go install mod@version`: that also asks the proxy for
    # the module's version list (for deprecations), which the proxy here refuses.
    work = copy_module("github.com/buildpacks/lifecycle", version, "lifecycle")
    for cmd in ("lifecycle", "launcher"):
        run(
            [
                "go",
                "build",
                "-trimpath",
                "-ldflags",
                f"-s -w -X github.com/buildpacks/lifecycle/cmd.Version={bare}",
                "-o",
                lc / cmd,
                f"./cmd/{cmd}",
            ],
            env=go_env(),
            cwd=work,
            logfile=logfile,
        )
    shutil.rmtree(work, ignore_errors=True)
    for phase in (
        "detector",
        "analyzer",
        "restorer",
        "builder",
        "exporter",
        "rebaser",
        "creator",
        "extender",
    ):
        (lc / phase).symlink_to("lifecycle")
    (tree / "lifecycle.toml").write_text(LIFECYCLE_TOML.format(version=bare))
    # pack reads a lifecycle tarball laid out like the upstream release asset.
    run(
        [
            "tar",
            "-C",
            tree,
            "--owner=0",
            "--group=0",
            "--mtime=1970-01-01",
            "-czf",
            out / f"lifecycle-{version}+linux.x86-64.tgz",
            "lifecycle.toml",
            "lifecycle",
        ]
    )


def lifecycle_tarball() -> Path:
    version = PINS["LIFECYCLE_VERSION"]
    return CACHE / f"lifecycle-{version}" / f"lifecycle-{version}+linux.x86-64.tgz"


def build_pause(out: Path, logfile: Path) -> None:
    info = go_mod_download("k8s.io/kubernetes", PINS["KUBERNETES_VERSION"])
    src = Path(info["Dir"]) / "build" / "pause" / "linux" / "pause.c"
    run(
        [
            "gcc",
            "-Os",
            "-Wall",
            "-Werror",
            "-static",
            f"-DVERSION=v{PINS['PAUSE_TAG']}-paas",
            "-o",
            out / "pause",
            src,
        ],
        logfile=logfile,
    )


def build_debian_rootfs(out: Path, logfile: Path) -> None:
    # Keyed by suite only: a rebuild weeks later gives newer packages, which
    # is fine for a base image; delete the cache dir to refresh it.
    suite = PINS["DEBIAN_SUITE"]
    root = CACHE / "work" / f"debian-{suite}"
    shutil.rmtree(root, ignore_errors=True)
    run(["debootstrap", "--variant=minbase", suite, root], logfile=logfile)
    run(["tar", "-C", root, "--numeric-owner", "-cf", out / "rootfs.tar", "."], logfile=logfile)
    shutil.rmtree(root, ignore_errors=True)


def build_all() -> dict[str, Path]:
    dirs = {
        "kubernetes": cached_build("kubernetes", PINS["KUBERNETES_VERSION"], build_kubernetes),
        "traefik": cached_build("traefik", PINS["TRAEFIK_VERSION"], build_traefik),
        "coredns": cached_build("coredns", PINS["COREDNS_VERSION"], build_coredns),
        "pack": cached_build("pack", PINS["PACK_VERSION"], build_pack),
        "lifecycle": cached_build("lifecycle", PINS["LIFECYCLE_VERSION"], build_lifecycle),
        "pause": cached_build("pause", PINS["PAUSE_TAG"], build_pause),
        "debian": cached_build("debian", PINS["DEBIAN_SUITE"], build_debian_rootfs),
    }
    # One directory to put on PATH: kubectl and pack, plus the rest for debugging.
    BIN.mkdir(parents=True, exist_ok=True)
    links = {
        "kubectl": dirs["kubernetes"] / "bin" / "kubectl",
        "pack": dirs["pack"] / "bin" / "pack",
        "traefik": dirs["traefik"] / "bin" / "traefik",
        "coredns": dirs["coredns"] / "bin" / "coredns",
    }
    for name, target in links.items():
        link = BIN / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target)
    return dirs


def kbin(name: str) -> Path:
    return CACHE / f"kubernetes-{PINS['KUBERNETES_VERSION']}" / "bin" / name


# --------------------------------------------------------------------------
# Host setup: address, names, sysctls, config files
# --------------------------------------------------------------------------


def host_ip_present() -> bool:
    out = run(["ip", "-o", "-4", "addr", "show", "dev", HOST_DEV], capture=True).stdout.decode()
    return f" {HOST_IP}/32 " in out


def setup_host() -> None:
    Path(PODMAN_SOCKET).parent.mkdir(parents=True, exist_ok=True)
    if not host_ip_present():
        run(["ip", "addr", "add", f"{HOST_IP}/32", "dev", HOST_DEV])
    hosts = Path("/etc/hosts")
    text = hosts.read_text()
    line = f"{HOST_IP} {REGISTRY_HOST} {HOSTS_MARK}"
    if line not in text.splitlines():
        kept = [ln for ln in text.splitlines() if not ln.endswith(HOSTS_MARK)]
        hosts.write_text("\n".join([*kept, line]) + "\n")
    for key, value in (("net/ipv4/ip_forward", "1"), ("net/bridge/bridge-nf-call-iptables", "1")):
        path = Path("/proc/sys") / key
        if not path.exists() and key.startswith("net/bridge"):
            run(["modprobe", "br_netfilter"], check=False)
        if path.exists() and path.read_text().strip() != value:
            path.write_text(value)


def write_configs() -> None:
    """Write every config file from the constants above (idempotent)."""
    for d in (LOGS, RUN, PKI, CONF, STATE / "registry", STATE / "etcd"):
        d.mkdir(parents=True, exist_ok=True)

    # podman 4.3 on this kind of machine: crun fails on hybrid cgroups, and
    # without CAP_SYS_RESOURCE container ulimits must stay within the hard limit.
    write_if_changed(
        CONTAINERS_CONF,
        (
            "# written by paas hack/testbed\n"
            "[containers]\n"
            'default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n'
            "\n[engine]\n"
            'runtime = "runc"\n'
        ),
    )
    write_if_changed(
        REGISTRIES_CONF,
        (
            "# written by paas hack/testbed: the testbed registry speaks plain HTTP\n"
            "[[registry]]\n"
            f'location = "{REGISTRY}"\n'
            "insecure = true\n"
        ),
    )

    write_if_changed(
        CONF / "registry.yml",
        (
            "version: 0.1\n"
            "log:\n  level: info\n"
            "storage:\n"
            f"  filesystem:\n    rootdirectory: {STATE / 'registry'}\n"
            "  delete:\n    enabled: true\n"
            f"http:\n  addr: {HOST_IP}:5000\n"
        ),
    )

    certs = CONF / "containerd-certs.d" / REGISTRY
    write_if_changed(
        certs / "hosts.toml",
        (
            f'server = "http://{REGISTRY}"\n'
            f'[host."http://{REGISTRY}"]\n'
            '  capabilities = ["pull", "resolve"]\n'
        ),
    )
    write_if_changed(
        CONF / "containerd.toml",
        f"""\
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "{CONTAINERD_SOCKET}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{REGISTRY}/pause:{PINS["PAUSE_TAG"]}"
  # No CAP_SYS_RESOURCE: the sandbox's oom_score_adj of -998 cannot be set.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{CONF / "cni"}"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{CONF / "containerd-certs.d"}"
""",
    )
    cni = {
        "cniVersion": "1.0.0",
        "name": CNI_NETWORK,
        "plugins": [
            {
                "type": "bridge",
                "bridge": CNI_BRIDGE,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": POD_SUBNET}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    write_if_changed(CONF / "cni" / "10-paas-testbed.conflist", json.dumps(cni, indent=2) + "\n")

    write_if_changed(
        CONF / "kubelet.yaml",
        f"""\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
containerRuntimeEndpoint: unix://{CONTAINERD_SOCKET}
authentication:
  anonymous: {{enabled: true}}
  webhook: {{enabled: false}}
authorization: {{mode: AlwaysAllow}}
clusterDNS: ["{HOST_IP}"]
clusterDomain: {CLUSTER_DOMAIN}
resolvConf: /etc/resolv.conf
evictionHard: {{memory.available: "100Mi", nodefs.available: "2%", imagefs.available: "2%"}}
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
serializeImagePulls: false
""",
    )
    write_if_changed(
        CONF / "kube-proxy.yaml",
        f"""\
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: {STATE / "kube-proxy.kubeconfig"}
hostnameOverride: {NODE_NAME}
mode: iptables
clusterCIDR: {CLUSTER_CIDR}
oomScoreAdj: 0
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
""",
    )
    # CoreDNS runs on the host and answers pods on HOST_IP:53. The hosts block
    # makes the registry name resolve inside pods the same as on the host.
    write_if_changed(
        CONF / "Corefile",
        f"""\
.:53 {{
    bind {HOST_IP}
    errors
    health {COREDNS_HEALTH}
    hosts {{
        {HOST_IP} {REGISTRY_HOST}
        fallthrough
    }}
    kubernetes {CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {{
        kubeconfig {STATE / "admin.kubeconfig"} {NODE_NAME}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }}
    forward . /etc/resolv.conf
    cache 30
}}
""",
    )


# --------------------------------------------------------------------------
# PKI and kubeconfigs
# --------------------------------------------------------------------------

TOKEN_USERS = {
    # name: (user, uid, groups)
    "admin": ("admin", "admin", "system:masters"),
    "kubelet": (f"system:node:{NODE_NAME}", "kubelet", "system:nodes"),
    "controller-manager": ("system:kube-controller-manager", "kcm", ""),
    "scheduler": ("system:kube-scheduler", "sched", ""),
    "kube-proxy": ("system:kube-proxy", "kube-proxy", ""),
}


def write_pki() -> None:
    PKI.mkdir(parents=True, exist_ok=True)
    ossl_log = LOGS / "pki.log"
    if not (PKI / "ca.crt").exists():
        run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "3650",
                "-subj",
                "/CN=paas-testbed-ca",
                "-keyout",
                PKI / "ca.key",
                "-out",
                PKI / "ca.crt",
            ],
            logfile=ossl_log,
        )
    if not (PKI / "apiserver.crt").exists():
        sans = ",".join(
            [
                "DNS:kubernetes",
                "DNS:kubernetes.default",
                "DNS:kubernetes.default.svc",
                f"DNS:kubernetes.default.svc.{CLUSTER_DOMAIN}",
                "DNS:localhost",
                f"DNS:{NODE_NAME}",
                "IP:127.0.0.1",
                "IP:10.96.0.1",
                f"IP:{HOST_IP}",
            ]
        )
        ext = PKI / "apiserver.ext"
        ext.write_text(f"subjectAltName={sans}\nextendedKeyUsage=serverAuth\n")
        run(
            [
                "openssl",
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=kube-apiserver",
                "-keyout",
                PKI / "apiserver.key",
                "-out",
                PKI / "apiserver.csr",
            ],
            logfile=ossl_log,
        )
        run(
            [
                "openssl",
                "x509",
                "-req",
                "-in",
                PKI / "apiserver.csr",
                "-CA",
                PKI / "ca.crt",
                "-CAkey",
                PKI / "ca.key",
                "-CAcreateserial",
                "-days",
                "3650",
                "-extfile",
                ext,
                "-out",
                PKI / "apiserver.crt",
            ],
            logfile=ossl_log,
        )
    if not (PKI / "sa.key").exists():
        run(["openssl", "genrsa", "-out", PKI / "sa.key", "2048"], logfile=ossl_log)
        run(
            ["openssl", "rsa", "-in", PKI / "sa.key", "-pubout", "-out", PKI / "sa.pub"],
            logfile=ossl_log,
        )
    tokens_file = PKI / "tokens.csv"
    tokens: dict[str, str] = {}
    if tokens_file.exists():
        for line in tokens_file.read_text().splitlines():
            token, user = line.split(",")[:2]
            tokens[user] = token
    lines = []
    for name, (user, uid, groups) in TOKEN_USERS.items():
        token = tokens.get(user) or os.urandom(24).hex()
        lines.append(f'{token},{user},{uid},"{groups}"' if groups else f"{token},{user},{uid}")
        write_kubeconfig(STATE / f"{name}.kubeconfig", token)
    write_if_changed(tokens_file, "\n".join(lines) + "\n", mode=0o600)


def write_kubeconfig(path: Path, token: str) -> None:
    write_if_changed(
        path,
        f"""\
apiVersion: v1
kind: Config
clusters:
- name: {NODE_NAME}
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: {PKI / "ca.crt"}
users:
- name: {NODE_NAME}
  user:
    token: {token}
contexts:
- name: {NODE_NAME}
  context:
    cluster: {NODE_NAME}
    user: {NODE_NAME}
current-context: {NODE_NAME}
""",
        mode=0o600,
    )


def admin_token() -> str:
    for line in (PKI / "tokens.csv").read_text().splitlines():
        token, user = line.split(",")[:2]
        if user == "admin":
            return token
    raise TestbedError("no admin token in tokens.csv")


# --------------------------------------------------------------------------
# Components: started detached, pid files in RUN, logs in LOGS
# --------------------------------------------------------------------------


def proc_state(pid: int) -> tuple[str, str]:
    """(state letter, start time in clock ticks since boot) from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return fields[0], fields[19]


@dataclass
class Component:
    name: str
    argv: Callable[[], list[str]]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 60.0
    why: str = field(default="", init=False, repr=False)

    @property
    def pidfile(self) -> Path:
        return RUN / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        return LOGS / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid from our pid file, if that very process (same start time) still runs.

        The start time, not the command line, identifies it: /proc/PID/cmdline
        was seen empty for a moment on a live process here.
        """
        try:
            pid, started, _ = self.pidfile.read_text().split(maxsplit=2)
            state, now_started = proc_state(int(pid))
        except (OSError, ValueError) as e:
            self.why = repr(e)
            return None
        self.why = f"pid {pid} is in state {state}, started at {now_started} not {started}"
        return int(pid) if state not in "ZX" and now_started == started else None

    def start(self) -> None:
        if self.pid() is not None:
            return
        argv = self.argv()
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        with self.logfile.open("ab") as logf:
            logf.write(f"\n==== {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(argv)}\n".encode())
            logf.flush()
            proc = subprocess.Popen(
                argv,
                stdout=logf,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(os.environ, **self.env),
                start_new_session=True,
                cwd=STATE,
            )
        self.pidfile.write_text(f"{proc.pid} {proc_state(proc.pid)[1]} {argv[0]}\n")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.pid() is None:
                tail = "\n".join(self.logfile.read_text(errors="replace").splitlines()[-20:])
                raise TestbedError(
                    f"{self.name} exited ({self.why}); last lines of {self.logfile}:\n{tail}"
                )
            with contextlib.suppress(Exception):
                if self.ready():
                    return
            time.sleep(0.25)
        raise TestbedError(f"{self.name} not ready after {self.timeout:.0f}s; see {self.logfile}")

    def stop(self, timeout: float = 15.0) -> None:
        pid = self.pid()
        if pid is not None:
            # Each component leads its own session, so its group is exactly it
            # and its children.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.pid() is not None:
                time.sleep(0.1)
            if self.pid() is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
        self.pidfile.unlink(missing_ok=True)


def http_ok(url: str, *, token: str | None = None, timeout: float = 2.0) -> bool:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    ctx = (
        ssl.create_default_context(cafile=str(PKI / "ca.crt")) if url.startswith("https") else None
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError):
        return False


def api(method: str, path: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(
        f"https://127.0.0.1:6443{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
    )
    req.add_header("Authorization", f"Bearer {admin_token()}")
    req.add_header("Content-Type", "application/json")
    ctx = ssl.create_default_context(cafile=str(PKI / "ca.crt"))
    with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:
        return json.loads(resp.read() or b"{}")


def unix_http_ok(sock_path: str, path: str) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect(sock_path)
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: d\r\n\r\n".encode())
        return s.recv(64).split(b" ")[1] == b"200"


def node_ready() -> bool:
    node = api("GET", f"/api/v1/nodes/{NODE_NAME}")
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in node.get("status", {}).get("conditions", [])
    )


def components() -> list[Component]:
    kube = lambda n: str(kbin(n))  # noqa: E731
    traefik = CACHE / f"traefik-{PINS['TRAEFIK_VERSION']}" / "bin" / "traefik"
    coredns = CACHE / f"coredns-{PINS['COREDNS_VERSION']}" / "bin" / "coredns"
    s = str(STATE)
    p = str(PKI)
    return [
        Component(
            "registry",
            lambda: [
                shutil.which("docker-registry") or "docker-registry",
                "serve",
                f"{CONF}/registry.yml",
            ],
            lambda: http_ok(f"http://{HOST_IP}:5000/v2/"),
        ),
        Component(
            "etcd",
            lambda: [
                shutil.which("etcd") or "etcd",
                "--name",
                "paas-testbed",
                "--data-dir",
                f"{s}/etcd",
                "--listen-client-urls",
                "http://127.0.0.1:2379",
                "--advertise-client-urls",
                "http://127.0.0.1:2379",
                "--listen-peer-urls",
                "http://127.0.0.1:2380",
                "--initial-advertise-peer-urls",
                "http://127.0.0.1:2380",
                "--initial-cluster",
                "paas-testbed=http://127.0.0.1:2380",
                "--listen-metrics-urls",
                "http://127.0.0.1:2381",
            ],
            lambda: http_ok("http://127.0.0.1:2379/health"),
        ),
        Component(
            "containerd",
            lambda: [
                shutil.which("containerd") or "containerd",
                "--config",
                f"{CONF}/containerd.toml",
            ],
            lambda: (
                run(
                    ["ctr", "--address", CONTAINERD_SOCKET, "version"], capture=True, check=False
                ).returncode
                == 0
            ),
        ),
        Component(
            "podman",
            lambda: [
                shutil.which("podman") or "podman",
                "system",
                "service",
                "--time=0",
                f"unix://{PODMAN_SOCKET}",
            ],
            lambda: unix_http_ok(PODMAN_SOCKET, "/_ping"),
        ),
        Component(
            "kube-apiserver",
            lambda: [
                kube("kube-apiserver"),
                "--etcd-servers=http://127.0.0.1:2379",
                "--secure-port=6443",
                f"--advertise-address={HOST_IP}",
                f"--tls-cert-file={p}/apiserver.crt",
                f"--tls-private-key-file={p}/apiserver.key",
                f"--client-ca-file={p}/ca.crt",
                f"--token-auth-file={p}/tokens.csv",
                "--authorization-mode=Node,RBAC",
                "--allow-privileged=true",
                f"--service-account-issuer=https://kubernetes.default.svc.{CLUSTER_DOMAIN}",
                f"--service-account-key-file={p}/sa.pub",
                f"--service-account-signing-key-file={p}/sa.key",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--kubelet-preferred-address-types=InternalIP,Hostname",
                "--profiling=false",
                "--v=1",
            ],
            lambda: http_ok("https://127.0.0.1:6443/readyz", token=admin_token()),
            timeout=90,
        ),
        Component(
            "kube-controller-manager",
            lambda: [
                kube("kube-controller-manager"),
                f"--kubeconfig={s}/controller-manager.kubeconfig",
                f"--authentication-kubeconfig={s}/controller-manager.kubeconfig",
                f"--authorization-kubeconfig={s}/controller-manager.kubeconfig",
                f"--service-account-private-key-file={p}/sa.key",
                f"--root-ca-file={p}/ca.crt",
                f"--cluster-signing-cert-file={p}/ca.crt",
                f"--cluster-signing-key-file={p}/ca.key",
                "--use-service-account-credentials",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--cluster-cidr={CLUSTER_CIDR}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--v=1",
            ],
            lambda: (
                http_ok("https://127.0.0.1:10257/healthz", token=admin_token())
                or _insecure_ok("https://127.0.0.1:10257/healthz")
            ),
        ),
        Component(
            "kube-scheduler",
            lambda: [
                kube("kube-scheduler"),
                f"--kubeconfig={s}/scheduler.kubeconfig",
                f"--authentication-kubeconfig={s}/scheduler.kubeconfig",
                f"--authorization-kubeconfig={s}/scheduler.kubeconfig",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--v=1",
            ],
            lambda: _insecure_ok("https://127.0.0.1:10259/healthz"),
        ),
        Component(
            "kubelet",
            lambda: [
                kube("kubelet"),
                f"--config={CONF}/kubelet.yaml",
                f"--kubeconfig={s}/kubelet.kubeconfig",
                f"--hostname-override={NODE_NAME}",
                f"--node-ip={HOST_IP}",
                f"--root-dir={KUBELET_ROOT}",
                "--v=1",
            ],
            node_ready,
            timeout=90,
        ),
        Component(
            "kube-proxy",
            lambda: [kube("kube-proxy"), f"--config={CONF}/kube-proxy.yaml", "--v=1"],
            lambda: http_ok("http://127.0.0.1:10256/healthz"),
        ),
        Component(
            "coredns",
            lambda: [str(coredns), "-conf", f"{CONF}/Corefile"],
            lambda: http_ok(f"http://{COREDNS_HEALTH}/health"),
        ),
        Component(
            "traefik",
            lambda: [
                str(traefik),
                f"--entryPoints.web.address={INGRESS_ADDR}",
                f"--entryPoints.traefik.address={TRAEFIK_PING}",
                "--ping=true",
                "--providers.kubernetesingress=true",
                "--providers.kubernetesingress.ingressendpoint.ip=127.0.0.1",
                "--log.level=INFO",
                "--log.nocolor=true",
                "--accesslog=true",
            ],
            lambda: http_ok(f"http://{TRAEFIK_PING}/ping"),
            env={"KUBECONFIG": f"{s}/admin.kubeconfig"},
        ),
        Component(
            "volumes",
            lambda: [sys.executable, str(Path(__file__).resolve()), "provision-volumes"],
            (RUN / "volumes.ready").exists,
        ),
    ]


def _insecure_ok(url: str) -> bool:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=2, context=ctx) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def component(name: str) -> Component:
    for c in components():
        if c.name == name:
            return c
    raise TestbedError(f"no component `{name}`: one of {', '.join(c.name for c in components())}")


# --------------------------------------------------------------------------
# Images: pause and the Debian base, in podman and in the registry
# --------------------------------------------------------------------------


def registry_has(repo: str, tag: str) -> bool:
    req = urllib.request.Request(f"http://{HOST_IP}:5000/v2/{repo}/manifests/{tag}", method="HEAD")
    req.add_header(
        "Accept",
        "application/vnd.docker.distribution.manifest.v2+json, "
        "application/vnd.oci.image.manifest.v1+json",
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status == 200
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


# --------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------

BOOTSTRAP_OBJECTS = """\
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: traefik
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: traefik.io/ingress-controller
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: paas-local
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: paas.test/host-directory
reclaimPolicy: Delete
volumeBindingMode: Immediate
"""

# The default StorageClass's provisioner: `provision-volumes` (a component).
STORAGE_CLASS = "paas-local"
PROVISIONER = "paas.test/host-directory"
VOLUMES = STATE / "volumes"


def provision_once() -> None:
    """Give each pending claim of the default class a directory, and remove released ones.

    Like the local-path provisioners of single-node distributions: a hostPath
    PersistentVolume per claim, under the testbed's state, writable by any
    uid (fsGroup does not apply to hostPath volumes).
    """
    for claim in api("GET", "/api/v1/persistentvolumeclaims")["items"]:
        meta, spec = claim["metadata"], claim["spec"]
        if (
            claim.get("status", {}).get("phase") != "Pending"
            or spec.get("volumeName")
            or spec.get("storageClassName") != STORAGE_CLASS
        ):
            continue
        name = f"pvc-{meta['uid']}"
        path = VOLUMES / name
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o777)
        volume = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": name,
                "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
            },
            "spec": {
                "capacity": {"storage": spec["resources"]["requests"]["storage"]},
                "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": STORAGE_CLASS,
                "hostPath": {"path": str(path), "type": "Directory"},
                "claimRef": {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "namespace": meta["namespace"],
                    "name": meta["name"],
                    "uid": meta["uid"],
                },
            },
        }
        try:
            api("POST", "/api/v1/persistentvolumes", volume)
            log(f"volumes: {name} for {meta['namespace']}/{meta['name']}")
        except urllib.error.HTTPError as e:
            if e.code != 409:
                raise
    for volume in api("GET", "/api/v1/persistentvolumes")["items"]:
        meta = volume["metadata"]
        provisioned_by = meta.get("annotations", {}).get("pv.kubernetes.io/provisioned-by")
        if provisioned_by != PROVISIONER or volume.get("status", {}).get("phase") not in (
            "Released",
            "Failed",
        ):
            continue
        path = Path(volume["spec"]["hostPath"]["path"])
        if path.parent == VOLUMES:
            shutil.rmtree(path, ignore_errors=True)
        with contextlib.suppress(urllib.error.HTTPError):
            api("DELETE", f"/api/v1/persistentvolumes/{meta['name']}")
        log(f"volumes: deleted {meta['name']}")


def cmd_provision_volumes(_: argparse.Namespace) -> None:
    VOLUMES.mkdir(parents=True, exist_ok=True)
    (RUN / "volumes.ready").write_text("")
    while True:
        try:
            provision_once()
        except (OSError, KeyError, ValueError) as e:
            log(f"volumes: {e!r}")
        time.sleep(1)


def kubectl(
    *args: str, stdin: bytes | None = None, check: bool = True, capture: bool = True
) -> subprocess.CompletedProcess[bytes]:
    return run(
        [kbin("kubectl"), f"--kubeconfig={STATE}/admin.kubeconfig", *args],
        stdin=stdin,
        check=check,
        capture=capture,
    )


def smoke_test_pod() -> None:
    """Run a pod from the registry's pause image to prove pulls and sandboxes work."""
    name = "testbed-smoke"
    kubectl("delete", "pod", name, "-n", "default", "--ignore-not-found", "--wait=false")
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "containers": [{"name": "pause", "image": f"{REGISTRY}/pause:{PINS['PAUSE_TAG']}"}],
            "terminationGracePeriodSeconds": 0,
        },
    }
    deadline = time.monotonic() + 60
    while True:
        try:
            api("POST", "/api/v1/namespaces/default/pods", manifest)
            break
        except urllib.error.HTTPError as e:
            # The default ServiceAccount appears a moment after the namespace.
            if time.monotonic() > deadline:
                raise TestbedError(f"creating the smoke-test pod: {e.read().decode()}") from e
            time.sleep(0.5)
    while time.monotonic() < deadline:
        pod = api("GET", f"/api/v1/namespaces/default/pods/{name}")
        if pod.get("status", {}).get("phase") == "Running":
            kubectl("delete", "pod", name, "-n", "default", "--wait=false")
            return
        time.sleep(0.5)
    raise TestbedError(f"smoke-test pod did not run in 60s: {json.dumps(pod.get('status'))}")


def cmd_up(_: argparse.Namespace) -> None:
    started = time.monotonic()
    for d in (LOGS, RUN):
        d.mkdir(parents=True, exist_ok=True)
    ensure_packages()
    build_all()
    setup_host()
    write_configs()
    write_pki()
    comps = {c.name: c for c in components()}

    def start(*names: str) -> None:
        for n in names:
            comps[n].start()
        for n in names:
            comps[n].wait_ready()

    start("registry", "etcd", "containerd", "podman")
    ensure_images()
    start("kube-apiserver")
    kubectl(
        "apply",
        "--server-side",
        "--field-manager=paas-testbed",
        "-f",
        "-",
        stdin=BOOTSTRAP_OBJECTS.encode(),
    )
    if comps["volumes"].pid() is None:
        (RUN / "volumes.ready").unlink(missing_ok=True)
    start("kube-controller-manager", "kube-scheduler", "coredns", "traefik", "volumes")
    # kube-proxy reports healthy only once it has seen its Node.
    start("kubelet", "kube-proxy")
    smoke_test_pod()
    log(
        f"up in {time.monotonic() - started:.1f}s; node {NODE_NAME} Ready. "
        f'Use: eval "$(hack/testbed env)"'
    )


def cmd_down(args: argparse.Namespace) -> None:
    started = time.monotonic()
    comps = {c.name: c for c in components()}
    up = {n for n, c in comps.items() if c.pid() is not None}
    # Let the kubelet tear pods down through CRI (which also runs CNI DEL), with
    # nothing left to recreate them.
    for n in ("kube-controller-manager", "kube-scheduler", "traefik", "coredns", "volumes"):
        comps[n].stop()
    if {"kube-apiserver", "kubelet", "containerd"} <= up:
        kubectl(
            "delete",
            "pods",
            "--all",
            "--all-namespaces",
            "--force",
            "--grace-period=0",
            "--wait=false",
            check=False,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and running_pod_sandboxes():
            time.sleep(0.5)
    comps["kubelet"].stop()
    comps["kube-proxy"].stop()
    if kbin("kube-proxy").exists():
        run([kbin("kube-proxy"), "--cleanup"], check=False, logfile=LOGS / "kube-proxy.log")
    if comps["containerd"].pid() is not None:
        kill_leftover_tasks()
    comps["containerd"].stop()
    for n in ("kube-apiserver", "etcd", "registry", "podman"):
        comps[n].stop()
    clean_host()
    if args.purge:
        shutil.rmtree(STATE, ignore_errors=True)
    log(f"down in {time.monotonic() - started:.1f}s")


def ctr(*args: str) -> subprocess.CompletedProcess[bytes]:
    return run(
        ["ctr", "--address", CONTAINERD_SOCKET, "--namespace", "k8s.io", *args],
        check=False,
        capture=True,
    )


def running_pod_sandboxes() -> list[str]:
    return [line for line in ctr("tasks", "ls", "-q").stdout.decode().split() if line]


def kill_leftover_tasks() -> None:
    """Kill what the kubelet left (e.g. after a failed up); their shims then exit."""
    for task in running_pod_sandboxes():
        ctr("tasks", "kill", "--signal", "SIGKILL", task)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for task in running_pod_sandboxes():
            ctr("tasks", "delete", "--force", task)
        if not running_pod_sandboxes():
            break
        time.sleep(0.3)


def clean_host() -> None:
    # Unmount pod volumes, sandbox netns and shm mounts, deepest first.
    prefixes = (f"{KUBELET_ROOT}/", "/run/netns/cni-", "/run/containerd/io.containerd.")
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mnt in sorted({m for m in mounts if m.startswith(prefixes)}, key=len, reverse=True):
        run(["umount", "-l", mnt], check=False, capture=True)
    for ns in Path("/run/netns").glob("cni-*") if Path("/run/netns").exists() else []:
        run(["ip", "netns", "delete", ns.name], check=False, capture=True)
    if Path(f"/sys/class/net/{CNI_BRIDGE}").exists():
        run(["ip", "link", "delete", CNI_BRIDGE], check=False, capture=True)
    shutil.rmtree(f"/var/lib/cni/networks/{CNI_NETWORK}", ignore_errors=True)
    # The kubelet bind-mounts its root dir onto itself (to make it shared).
    if f" {KUBELET_ROOT} " in Path("/proc/mounts").read_text():
        run(["umount", "-l", KUBELET_ROOT], check=False, capture=True)
    for tool in ("iptables", "ip6tables"):
        clean_kube_chains(tool)
    if host_ip_present():
        run(["ip", "addr", "del", f"{HOST_IP}/32", "dev", HOST_DEV], check=False)
    hosts = Path("/etc/hosts")
    lines = hosts.read_text().splitlines()
    if any(ln.endswith(HOSTS_MARK) for ln in lines):
        hosts.write_text("\n".join(ln for ln in lines if not ln.endswith(HOSTS_MARK)) + "\n")


def clean_kube_chains(tool: str) -> None:
    """Remove the KUBE-* chains that the kubelet and kube-proxy leave behind."""
    for table in ("filter", "nat", "mangle"):
        proc = run([tool, "-t", table, "-S"], check=False, capture=True)
        if proc.returncode != 0:
            continue
        rules = proc.stdout.decode().splitlines()
        chains = [r.split()[1] for r in rules if r.startswith("-N KUBE-")]
        for rule in rules:
            args = shlex.split(rule)
            if args[0] == "-A" and not args[1].startswith("KUBE-") and "KUBE-" in rule:
                run([tool, "-t", table, "-D", *args[1:]], check=False, capture=True)
        for chain in chains:
            run([tool, "-t", table, "-F", chain], check=False, capture=True)
        for chain in chains:
            run([tool, "-t", table, "-X", chain], check=False, capture=True)


def cmd_status(_: argparse.Namespace) -> int:
    down = 0
    for c in components():
        pid = c.pid()
        ok = False
        if pid is not None:
            with contextlib.suppress(Exception):
                ok = bool(c.ready())
        state = "up" if ok else ("starting" if pid is not None else "down")
        down += state != "up"
        print(f"{c.name:<24} {state:<9} {f'pid {pid}' if pid else '':<10} {c.logfile}")
    return 0 if down == 0 else 1


def env_lines() -> list[str]:
    return [
        f"export KUBECONFIG={STATE / 'admin.kubeconfig'}",
        f"export PAAS_REGISTRY={REGISTRY}",
        f"export DOCKER_HOST=unix://{PODMAN_SOCKET}",
        f"export PAAS_LIFECYCLE_TGZ={lifecycle_tarball()}",
        f'export PATH="{BIN}:$PATH"',
    ]


def cmd_env(_: argparse.Namespace) -> None:
    print("\n".join(env_lines()))


def cmd_logs(args: argparse.Namespace) -> None:
    c = component(args.component)
    if not c.logfile.exists():
        raise TestbedError(f"no log yet for `{c.name}` ({c.logfile})")
    argv = ["tail", "-n", str(args.lines)]
    if args.follow:
        argv.append("-F")
    os.execvp("tail", [*argv, str(c.logfile)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hack/testbed", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="build what is missing, start everything, wait for a Ready node")
    down = sub.add_parser("down", help="stop what `up` started and undo its host changes")
    down.add_argument(
        "--purge",
        action="store_true",
        help="also delete cluster state (etcd, PKI, registry data); keeps builds",
    )
    sub.add_parser("status", help="each component up or down (exit 1 if any is down)")
    sub.add_parser("env", help='print export lines: eval "$(hack/testbed env)"')
    sub.add_parser("provision-volumes", help="(a component `up` starts) the volume provisioner")
    logs = sub.add_parser("logs", help="print a component's log")
    logs.add_argument("component")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-n", "--lines", type=int, default=200)
    args = parser.parse_args(argv)
    if args.command in ("up", "down") and os.geteuid() != 0:
        log("must run as root (it starts containerd, the kubelet and iptables rules)")
        return 2
    if args.command in ("up", "down"):
        # One up or down at a time: a concurrent down would stop what up starts.
        STATE.mkdir(parents=True, exist_ok=True)
        lock = (STATE / "lock").open("w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another `hack/testbed up` or `down` is running; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        handler = {
            "up": cmd_up,
            "down": cmd_down,
            "status": cmd_status,
            "env": cmd_env,
            "logs": cmd_logs,
            "provision-volumes": cmd_provision_volumes,
        }[args.command]
        return int(handler(args) or 0)
    except TestbedError as e:
        log(f"error: {e}")
        return 1
    except BrokenPipeError:  # `hack/testbed status | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
