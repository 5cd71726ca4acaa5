"""metrics-server on the host: its build, certificates, API objects and the aggregation layer.

metrics-server is an aggregated API (`v1beta1.metrics.k8s.io`): the
kube-apiserver proxies /apis/metrics.k8s.io to it, authenticating itself with
a front-proxy client certificate, and metrics-server trusts the user named in
the proxied request's headers. metrics-server scrapes each kubelet's
/metrics/resource over TLS, checking the kubelet's serving certificate
against the testbed CA, and serves pod and node CPU and memory: what the
HorizontalPodAutoscaler and `kubectl top` read.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .config import CACHE, HOST_IP, LOGS, NODE_NAME, PINS, PKI, STATE, log, run, write_if_changed

if TYPE_CHECKING:
    from .components import Component

METRICS_SERVER_ADDR = (HOST_IP, 4443)
# What metrics-server's kubeconfig authenticates as (a client certificate from the CA).
METRICS_SERVER_USER = "system:metrics-server"


def build_metrics_server(out: Path, logfile: Path) -> None:
    version = PINS["METRICS_SERVER_VERSION"]
    env = dict(os.environ, GOTOOLCHAIN="local", CGO_ENABLED="0", GOFLAGS="-buildvcs=false")
    env["GOBIN"] = str(out / "bin")
    # The same -X keys as its Makefile; no replace directives, so `go install` works.
    pkg = "k8s.io/client-go/pkg/version"
    ldflags = f"-s -w -X {pkg}.gitVersion={version} -X {pkg}.buildDate=1970-01-01T00:00:00Z"
    run(
        [
            "go",
            "install",
            "-trimpath",
            "-ldflags",
            ldflags,
            f"sigs.k8s.io/metrics-server/cmd/metrics-server@{version}",
        ],
        env=env,
        cwd="/",
        logfile=logfile,
    )


def metrics_server_bin() -> Path:
    return CACHE / f"metrics-server-{PINS['METRICS_SERVER_VERSION']}" / "bin" / "metrics-server"


# --------------------------------------------------------------------------
# Certificates
# --------------------------------------------------------------------------


def _openssl(*args: str | Path) -> None:
    run(["openssl", *args], logfile=LOGS / "pki.log")


def _signed(name: str, cn: str, ext: str, ca: str = "ca") -> None:
    """PKI/name.{key,crt}: a 2048-bit key and a certificate from PKI/ca.{crt,key}, once."""
    if (PKI / f"{name}.crt").exists():
        return
    (PKI / f"{name}.ext").write_text(ext)
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN={cn}",
        "-keyout",
        PKI / f"{name}.key",
        "-out",
        PKI / f"{name}.csr",
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        PKI / f"{name}.csr",
        "-CA",
        PKI / f"{ca}.crt",
        "-CAkey",
        PKI / f"{ca}.key",
        "-CAcreateserial",
        "-days",
        "3650",
        "-extfile",
        PKI / f"{name}.ext",
        "-out",
        PKI / f"{name}.crt",
    )


def write_metrics_pki() -> None:
    """The front-proxy CA and client, and the kubelet's and metrics-server's certificates."""
    if not (PKI / "front-proxy-ca.crt").exists():
        # A CA of its own: a certificate from it proves "the aggregator sent
        # this", which a certificate from the cluster CA must not.
        _openssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            "/CN=paas-testbed-front-proxy-ca",
            "-keyout",
            PKI / "front-proxy-ca.key",
            "-out",
            PKI / "front-proxy-ca.crt",
        )
    _signed(
        "front-proxy-client",
        "front-proxy-client",
        "extendedKeyUsage=clientAuth\n",
        ca="front-proxy-ca",
    )
    # The kubelet serves with a certificate from the testbed CA (not a
    # self-signed one), so metrics-server verifies it.
    _signed(
        "kubelet",
        NODE_NAME,
        f"subjectAltName=DNS:{NODE_NAME},IP:{HOST_IP},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    # The aggregator checks metrics-server's certificate for <service>.<namespace>.svc.
    _signed(
        "metrics-server",
        "metrics-server",
        "subjectAltName=DNS:metrics-server.kube-system.svc,"
        f"IP:{HOST_IP}\nextendedKeyUsage=serverAuth\n",
    )
    _signed("metrics-server-client", METRICS_SERVER_USER, "extendedKeyUsage=clientAuth\n")
    write_if_changed(
        STATE / "metrics-server.kubeconfig",
        f"""\
apiVersion: v1
kind: Config
clusters:
- name: {NODE_NAME}
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority: {PKI / "ca.crt"}
users:
- name: metrics-server
  user:
    client-certificate: {PKI / "metrics-server-client.crt"}
    client-key: {PKI / "metrics-server-client.key"}
contexts:
- name: {NODE_NAME}
  context:
    cluster: {NODE_NAME}
    user: metrics-server
current-context: {NODE_NAME}
""",
        mode=0o600,
    )


def aggregation_flags() -> list[str]:
    """kube-apiserver flags for the aggregation layer (kubeadm's set)."""
    p = PKI
    return [
        f"--requestheader-client-ca-file={p}/front-proxy-ca.crt",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--proxy-client-cert-file={p}/front-proxy-client.crt",
        f"--proxy-client-key-file={p}/front-proxy-client.key",
        # Proxy to the Service's endpoint (the host address), not its ClusterIP.
        "--enable-aggregator-routing=true",
    ]


def metrics_server_argv() -> list[str]:
    host, port = METRICS_SERVER_ADDR
    return [
        str(metrics_server_bin()),
        f"--kubeconfig={STATE}/metrics-server.kubeconfig",
        f"--authentication-kubeconfig={STATE}/metrics-server.kubeconfig",
        f"--authorization-kubeconfig={STATE}/metrics-server.kubeconfig",
        f"--bind-address={host}",
        f"--secure-port={port}",
        f"--tls-cert-file={PKI}/metrics-server.crt",
        f"--tls-private-key-file={PKI}/metrics-server.key",
        f"--kubelet-certificate-authority={PKI}/ca.crt",
        "--kubelet-preferred-address-types=InternalIP",
        "--kubelet-use-node-status-port",
        # Upstream's default and the HPA's sync period: a new sample every 15 s.
        "--metric-resolution=15s",
        "--v=1",
    ]


def metrics_objects() -> str:
    """The APIService, its selector-less Service and Endpoints, and metrics-server's RBAC."""
    host, port = METRICS_SERVER_ADDR
    ca_bundle = base64.b64encode((PKI / "ca.crt").read_bytes()).decode()
    # v1 Endpoints, not only an EndpointSlice: the 1.33 aggregator resolves a
    # Service through an Endpoints lister (the mirroring controller makes the slice).
    return f"""\
apiVersion: v1
kind: Service
metadata:
  name: metrics-server
  namespace: kube-system
spec:
  ports:
    - name: https
      port: 443
      targetPort: {port}
---
apiVersion: v1
kind: Endpoints
metadata:
  name: metrics-server
  namespace: kube-system
subsets:
  - addresses:
      - ip: {host}
    ports:
      - name: https
        port: {port}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1beta1.metrics.k8s.io
spec:
  group: metrics.k8s.io
  version: v1beta1
  groupPriorityMinimum: 100
  versionPriority: 100
  service:
    name: metrics-server
    namespace: kube-system
    port: 443
  caBundle: {ca_bundle}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:metrics-server
rules:
  - apiGroups: [""]
    resources: ["nodes/metrics"]
    verbs: ["get"]
  - apiGroups: [""]
    resources: ["pods", "nodes"]
    verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: system:metrics-server
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:metrics-server
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: {METRICS_SERVER_USER}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: metrics-server:system:auth-delegator
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:auth-delegator
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: {METRICS_SERVER_USER}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: metrics-server-auth-reader
  namespace: kube-system
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: extension-apiserver-authentication-reader
subjects:
  - apiGroup: rbac.authorization.k8s.io
    kind: User
    name: {METRICS_SERVER_USER}
---
# Aggregated into the built-in view/edit/admin roles, as upstream does.
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: system:aggregated-metrics-reader
  labels:
    rbac.authorization.k8s.io/aggregate-to-admin: "true"
    rbac.authorization.k8s.io/aggregate-to-edit: "true"
    rbac.authorization.k8s.io/aggregate-to-view: "true"
rules:
  - apiGroups: ["metrics.k8s.io"]
    resources: ["pods", "nodes"]
    verbs: ["get", "list", "watch"]
"""


def apiservice_available() -> bool:
    from .kube import api

    svc = api("GET", "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io")
    return any(
        c["type"] == "Available" and c["status"] == "True"
        for c in svc.get("status", {}).get("conditions", [])
    )


# --------------------------------------------------------------------------
# A testbed that was up before these flags and files existed
# --------------------------------------------------------------------------


def restart_if_stale(comp: Component, config: Path | None = None) -> None:
    """Restart `comp` if it runs with other flags than it would now, or predates `config`.

    `up` starts only what is not running, so a kube-apiserver started before
    the aggregation flags (or a kubelet before its serving certificate) would
    otherwise keep running without them.
    """
    pid = comp.pid()
    if pid is None:
        return
    running = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
    why = ""
    if [a.decode() for a in running] != comp.argv():
        why = "its flags changed"
    elif config is not None and config.stat().st_mtime > _started_at(pid):
        why = f"{config.name} changed"
    if why:
        log(f"restarting {comp.name}: {why}")
        comp.stop()
        comp.start()


def _started_at(pid: int) -> float:
    """The process's start as a Unix time."""
    ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    boot = next(
        float(line.split()[1])
        for line in Path("/proc/stat").read_text().splitlines()
        if line.startswith("btime ")
    )
    return boot + ticks / os.sysconf("SC_CLK_TCK")
