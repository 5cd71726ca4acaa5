"""Components: started detached, pid files in RUN, logs in LOGS.

`Component` starts, identifies (pid and start time), health-checks and stops
one process; `components()` is the list of everything `up` runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .build import kbin
from .config import (
    CACHE,
    CLUSTER_CIDR,
    CLUSTER_DOMAIN,
    CONF,
    CONTAINERD_SOCKET,
    COREDNS_HEALTH,
    HACK,
    HOST_IP,
    INGRESS_ADDR,
    KUBELET_ROOT,
    LOGS,
    NODE_NAME,
    PINS,
    PKI,
    PODMAN_SOCKET,
    RUN,
    SERVICE_CIDR,
    STATE,
    TRAEFIK_PING,
    TestbedError,
    run,
)
from .kube import api
from .metrics_server import aggregation_flags, metrics_server_argv
from .pki import admin_token


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
            status: int = resp.status
            return 200 <= status < 300
    except (urllib.error.URLError, OSError):
        return False


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
    def kube(n: str) -> str:
        return str(kbin(n))

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
                *aggregation_flags(),
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
                "--providers.kubernetesgateway=true",
                # Apply endpoint changes within 0.5 s (default 2 s); `paas cluster init
                # --router-settle` is told the same, so "Released" means routed.
                "--providers.providersThrottleDuration=500ms",
                "--providers.kubernetesingress.ingressendpoint.ip=127.0.0.1",
                "--log.level=INFO",
                "--log.nocolor=true",
                "--accesslog=true",
            ],
            lambda: http_ok(f"http://{TRAEFIK_PING}/ping"),
            env={"KUBECONFIG": f"{s}/admin.kubeconfig"},
        ),
        Component(
            "metrics-server",
            metrics_server_argv,
            # Ready once it has scraped the kubelet (its readyz waits for that).
            lambda: http_ok(f"https://{HOST_IP}:4443/readyz"),
        ),
        Component(
            "volumes",
            lambda: [sys.executable, "-P", "-m", "paas_testbed", "provision-volumes"],
            (RUN / "volumes.ready").exists,
            env={"PYTHONPATH": str(HACK)},
        ),
    ]


def _insecure_ok(url: str) -> bool:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=2, context=ctx) as resp:
            status: int = resp.status
            return status == 200
    except (urllib.error.URLError, OSError):
        return False


def component(name: str) -> Component:
    for c in components():
        if c.name == name:
            return c
    raise TestbedError(f"no component `{name}`: one of {', '.join(c.name for c in components())}")
