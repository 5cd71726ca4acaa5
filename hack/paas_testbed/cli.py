"""The commands (`up`, `down`, `status`, `env`, `logs`, `provision-volumes`) and `main`."""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import time
import urllib.error
from collections.abc import Callable

from .addon_images import ensure_addon_images
from .build import (
    build_all,
    build_kaniko,
    cached_build,
    gateway_api_crds,
    kbin,
    lifecycle_tarball,
)
from .components import component, components
from .config import (
    BIN,
    CONF,
    LOGS,
    NODE_NAME,
    PINS,
    PODMAN_SOCKET,
    REGISTRY,
    RUN,
    STATE,
    TestbedError,
    log,
    run,
)
from .host import (
    clean_host,
    ensure_packages,
    kill_leftover_tasks,
    running_pod_sandboxes,
    setup_host,
    write_configs,
)
from .images import ensure_dockerfile_builder, ensure_images
from .kube import api, kubectl
from .metrics_server import (
    apiservice_available,
    metrics_objects,
    restart_if_stale,
    write_metrics_pki,
)
from .pki import write_pki
from .volumes import VOLUMES, provision_once

# The first line of the package's docstring, for --help.
DESCRIPTION = "The paas testbed: a real single-node Kubernetes cluster built on this machine."

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

# Traefik's Gateway API provider serves this Gateway on its `web` entry point
# (port 80); apps in any namespace attach HTTPRoutes to it.
GATEWAY_OBJECTS = """\
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: traefik
spec:
  controllerName: traefik.io/gateway-controller
---
apiVersion: v1
kind: Namespace
metadata:
  name: gateway
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: paas
  namespace: gateway
spec:
  gatewayClassName: traefik
  listeners:
    - name: http
      protocol: HTTP
      port: 80
      allowedRoutes:
        namespaces:
          from: All
"""


def cmd_provision_volumes(_: argparse.Namespace) -> None:
    VOLUMES.mkdir(parents=True, exist_ok=True)
    (RUN / "volumes.ready").write_text("")
    while True:
        try:
            provision_once()
        except (OSError, KeyError, ValueError) as e:
            log(f"volumes: {e!r}")
        time.sleep(1)


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


def apply(objects: str) -> None:
    """Server-side apply of YAML `objects` as the testbed's field manager."""
    kubectl(
        "apply", "--server-side", "--field-manager=paas-testbed", "-f", "-", stdin=objects.encode()
    )


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(urllib.error.URLError, OSError):
            if check():
                return
        time.sleep(0.5)
    raise TestbedError(f"timed out after {timeout:.0f}s waiting for {what}")


def cmd_up(_: argparse.Namespace) -> None:
    started = time.monotonic()
    for d in (LOGS, RUN):
        d.mkdir(parents=True, exist_ok=True)
    ensure_packages()
    build_all()
    setup_host()
    write_configs()
    write_pki()
    write_metrics_pki()
    comps = {c.name: c for c in components()}

    def start(*names: str) -> None:
        for n in names:
            comps[n].start()
        for n in names:
            comps[n].wait_ready()

    start("registry", "etcd", "containerd", "podman")
    ensure_images()
    ensure_dockerfile_builder()
    ensure_addon_images()
    restart_if_stale(comps["kube-apiserver"])
    start("kube-apiserver")
    apply(BOOTSTRAP_OBJECTS)
    apply(metrics_objects())
    crds = gateway_api_crds()
    kubectl("apply", "--server-side", "--field-manager=paas-testbed", *(f"-f={c}" for c in crds))
    kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
    apply(GATEWAY_OBJECTS)
    if comps["volumes"].pid() is None:
        (RUN / "volumes.ready").unlink(missing_ok=True)
    start("kube-controller-manager", "kube-scheduler", "coredns", "traefik", "volumes")
    # kube-proxy reports healthy only once it has seen its Node.
    restart_if_stale(comps["kubelet"], CONF / "kubelet.yaml")
    start("kubelet", "kube-proxy")
    start("metrics-server")
    wait_for("the metrics.k8s.io APIService to be Available", apiservice_available)
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
    for n in (
        "kube-controller-manager",
        "kube-scheduler",
        "traefik",
        "coredns",
        "volumes",
        "metrics-server",
    ):
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


def cmd_restart(args: argparse.Namespace) -> None:
    """Stop one component (SIGTERM, then SIGKILL) and start it again: a fault for the tests."""
    c = component(args.component)
    started = time.monotonic()
    c.stop(timeout=0.0 if args.kill else 15.0)  # 0: SIGKILL at once, a crash
    if args.down_for:
        time.sleep(args.down_for)
    c.start()
    c.wait_ready()
    log(f"{c.name} restarted in {time.monotonic() - started:.1f}s")


def cmd_dockerfile_builder(_: argparse.Namespace) -> None:
    """Build kaniko and the `paas/dockerfile-builder` image and push it (registry and podman up)."""
    started = time.monotonic()
    cached_build("kaniko", PINS["KANIKO_VERSION"], build_kaniko)
    ensure_dockerfile_builder()
    took = time.monotonic() - started
    log(f"dockerfile-builder {PINS['KANIKO_VERSION']} in the registry ({took:.0f}s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hack/testbed", description=DESCRIPTION)
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
    sub.add_parser(
        "dockerfile-builder",
        help="build the in-cluster Dockerfile builder image and push it (`up` does this too)",
    )
    restart = sub.add_parser("restart", help="stop one component and start it again (faults)")
    restart.add_argument("component")
    restart.add_argument(
        "--down-for", type=float, default=0.0, help="seconds to stay stopped before starting"
    )
    restart.add_argument("--kill", action="store_true", help="SIGKILL, not SIGTERM: a crash")
    logs = sub.add_parser("logs", help="print a component's log")
    logs.add_argument("component")
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-n", "--lines", type=int, default=200)
    args = parser.parse_args(argv)
    if args.command in ("up", "down", "restart") and os.geteuid() != 0:
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
        handlers: dict[str, Callable[[argparse.Namespace], int | None]] = {
            "up": cmd_up,
            "down": cmd_down,
            "status": cmd_status,
            "env": cmd_env,
            "logs": cmd_logs,
            "restart": cmd_restart,
            "provision-volumes": cmd_provision_volumes,
            "dockerfile-builder": cmd_dockerfile_builder,
        }
        return int(handlers[args.command](args) or 0)
    except TestbedError as e:
        log(f"error: {e}")
        return 1
    except BrokenPipeError:  # `hack/testbed status | head`
        return 0
