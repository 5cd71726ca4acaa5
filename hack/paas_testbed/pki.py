"""PKI and kubeconfigs: the CA, the API server's certificate, the service-account key, tokens."""

from __future__ import annotations

import os
from pathlib import Path

from .config import (
    CLUSTER_DOMAIN,
    HOST_IP,
    LOGS,
    NODE_NAME,
    PKI,
    STATE,
    TestbedError,
    run,
    write_if_changed,
)

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
