"""`paas apps` and `paas ps` with each kind of kubeconfig a user has, on the real cluster.

The testbed's own (a static token), a client certificate the cluster signed (a
CertificateSigningRequest), a ServiceAccount's token (the TokenRequest API, read
from a token file), and an exec credential plugin that prints that token. The
first three go through paas's own transport, which never imports the kubernetes
client (Python's import log says so); the plugin goes through the official client.
The identities get the rights `paas cluster role` grants, nothing more.
"""

from __future__ import annotations

import base64
import json
import shutil
import stat
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_helpers import REPO, Cluster, Images, Paas

from paas.rights import role_objects

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]


@dataclass(frozen=True)
class Kinds:
    """A kubeconfig of each kind, all for the same cluster, and the app deployed there."""

    app: str
    files: dict[str, Path]


def run(argv: list[str], stdin: str | None = None, timeout: float = 120) -> str:
    result = subprocess.run(
        argv, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{' '.join(argv[:4])}: {result.stdout}{result.stderr}"
    return result.stdout


def kubeconfig(cluster: Cluster, user: dict[str, Any]) -> dict[str, Any]:
    """The testbed's cluster entry (its server and CA) with another user."""
    admin = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    (entry,) = admin["clusters"]
    ca = entry["cluster"].get("certificate-authority")
    fields = dict(entry["cluster"])
    if ca:  # as data here: the kinds below do not depend on the admin file's directory
        fields.pop("certificate-authority")
        fields["certificate-authority-data"] = base64.b64encode(Path(ca).read_bytes()).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "testbed", "cluster": fields}],
        "users": [{"name": "someone", "user": user}],
        "contexts": [{"name": "testbed", "context": {"cluster": "testbed", "user": "someone"}}],
        "current-context": "testbed",
    }


def client_certificate(kubectl: list[str], user: str) -> tuple[bytes, bytes]:
    """A key made here and its certificate, signed by the cluster for `user` (CSR, approved)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user)]))
        .sign(key, hashes.SHA256())
    )
    csr = {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": user},
        "spec": {
            "request": base64.b64encode(request.public_bytes(serialization.Encoding.PEM)).decode(),
            "signerName": "kubernetes.io/kube-apiserver-client",
            "expirationSeconds": 3600,
            "usages": ["client auth"],
        },
    }
    run([*kubectl, "create", "-f", "-"], stdin=json.dumps(csr))
    run([*kubectl, "certificate", "approve", user])
    run([*kubectl, "wait", f"csr/{user}", "--for=jsonpath={.status.certificate}", "--timeout=60s"])
    signed = run([*kubectl, "get", "csr", user, "-o", "jsonpath={.status.certificate}"])
    pem_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return base64.b64decode(signed), pem_key


@pytest.fixture(scope="module")
def kinds(
    paas: Paas,
    cluster: Cluster,
    kubectl: list[str],
    images: Images,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Kinds]:
    tag = uuid.uuid4().hex[:6]
    app, namespace, user = f"e2e-kk-{tag}", f"e2e-kk-{tag}-ids", f"e2e-kk-{tag}-user"
    where = tmp_path_factory.mktemp("kubeconfigs")
    source = where / "app"
    shutil.copytree(REPO / "templates" / "dockerfile", source)
    rbac = [
        *role_objects(subject=f"sa:{namespace}/reader", prefix=f"e2e-kk-{tag}-sa"),
        *role_objects(subject=f"user:{user}", prefix=f"e2e-kk-{tag}-user"),
    ]
    listed = json.dumps({"apiVersion": "v1", "kind": "List", "items": rbac})
    try:
        paas("push", str(source), "--app", app, "--image", images.v1, check=True)
        run([*kubectl, "create", "namespace", namespace])
        run([*kubectl, "create", "serviceaccount", "reader", "-n", namespace])
        run([*kubectl, "apply", "-f", "-"], stdin=listed)
        token = run([*kubectl, "create", "token", "reader", "-n", namespace, "--duration=1h"])
        token_file = where / "sa.token"
        token_file.write_text(token.strip())
        cert, key = client_certificate(kubectl, user)
        plugin = where / "credential-plugin"
        credential = {
            "apiVersion": "client.authentication.k8s.io/v1",
            "kind": "ExecCredential",
            "status": {"token": token.strip()},
        }
        plugin.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(credential)}\nEOF\n")
        plugin.chmod(stat.S_IRWXU)
        files = {"client token (the testbed's own)": Path(cluster.kubeconfig)}
        for kind, fields in (
            (
                "client certificate",
                {
                    "client-certificate-data": base64.b64encode(cert).decode(),
                    "client-key-data": base64.b64encode(key).decode(),
                },
            ),
            ("service account token file", {"tokenFile": str(token_file)}),
            (
                "exec credential plugin",
                {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": str(plugin),
                        "interactiveMode": "Never",
                    }
                },
            ),
        ):
            path = where / f"{kind.replace(' ', '-')}.kubeconfig"
            path.write_text(yaml.safe_dump(kubeconfig(cluster, fields)))
            path.chmod(0o600)
            files[kind] = path
        yield Kinds(app, files)
    finally:
        paas("apps", "destroy", app, "--confirm", app, timeout=120)
        subprocess.run(
            [*kubectl, "delete", "--ignore-not-found", "--wait=false", "-f", "-"],
            input=listed, capture_output=True, text=True, check=False,
        )  # fmt: skip
        for what in (["csr", user], ["namespace", namespace]):
            subprocess.run(
                [*kubectl, "delete", "--ignore-not-found", "--wait=false", *what],
                capture_output=True, check=False,
            )  # fmt: skip


def as_user(paas: Paas, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`paas ARGS` with only this kubeconfig, Python's import log on stderr."""
    env = {k: v for k, v in paas.env.items() if k not in ("PAAS_KUBECONFIG", "PAAS_CONTEXT")}
    env.update(KUBECONFIG=str(path), PYTHONPROFILEIMPORTTIME="1")
    return Paas(env)(*args, timeout=120)


def imported(stderr: str) -> set[str]:
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@pytest.mark.parametrize(
    ("kind", "transport"),
    [
        ("client token (the testbed's own)", True),
        ("client certificate", True),
        ("service account token file", True),
        ("exec credential plugin", False),
    ],
)
def test_apps_and_ps_with_each_kind_of_kubeconfig(
    paas: Paas, kinds: Kinds, kind: str, transport: bool
) -> None:
    path = kinds.files[kind]
    listed = as_user(paas, path, "apps", "--json")
    assert listed.returncode == 0, listed.stderr[-3000:]
    rows = {r["name"]: r for r in json.loads(listed.stdout)["apps"]}
    assert rows[kinds.app]["release"] == "v1"
    assert ("kubernetes" in imported(listed.stderr)) is not transport

    shown = as_user(paas, path, "ps", "--app", kinds.app)
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "web" in shown.stdout
    assert "v1" in shown.stdout
    assert ("kubernetes" in imported(shown.stderr)) is not transport


def test_an_identity_without_the_rights_is_told_so(
    paas: Paas, kinds: Kinds, cluster: Cluster, kubectl: list[str]
) -> None:
    """A token the API server accepts but RBAC refuses: the server's own Forbidden message."""
    namespace = f"{kinds.app}-ids"
    name = f"nobody-{uuid.uuid4().hex[:4]}"
    run([*kubectl, "create", "serviceaccount", name, "-n", namespace])
    token = run([*kubectl, "create", "token", name, "-n", namespace, "--duration=10m"]).strip()
    path = Path(kinds.files["client certificate"]).with_name("nobody.kubeconfig")
    path.write_text(yaml.safe_dump(kubeconfig(cluster, {"token": token})))
    result = as_user(paas, path, "apps")
    assert result.returncode != 0
    said = "\n".join(line for line in result.stderr.splitlines() if not line.startswith("import"))
    assert f'User "system:serviceaccount:{namespace}:{name}" cannot list resource' in said
    assert token not in result.stdout + result.stderr
