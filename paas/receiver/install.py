"""The receiver in the cluster, as objects: pure data, no I/O.

`receiver_objects()` renders what `paas receiver install` applies in
`paas-system`: a ServiceAccount with exactly the receiver's rights
(`receiver_rights()`), a PersistentVolumeClaim for the bare repositories, a
Deployment of one pod (Pod Security "restricted": uid 1000, no privilege
escalation, every capability dropped, a read-only root, seccomp
RuntimeDefault), a Service and an Ingress on `git.DOMAIN`.
`image_source()` writes the build context of the receiver's image: a
Dockerfile on a Debian base from the cluster's registry, paas's own package
and its dependencies at the versions this paas runs with.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paas.rights import RIGHTS, SYSTEM_NAMESPACE, Right, role_objects

if TYPE_CHECKING:
    from paas.objects import Obj
    from paas.settings import ClusterSettings

NAME = "paas-receiver"
#: The app name the receiver's image is built as (its build namespace is `paas-receiver-build`).
IMAGE_APP = NAME
PORT = 8022
REPOS_MOUNT = "/var/lib/paas-receiver"
LABELS = {"app.kubernetes.io/managed-by": "paas", "app.kubernetes.io/name": NAME}
SELECTOR = {"app.kubernetes.io/name": NAME}
#: A push may be mid-build when the pod is told to stop: it gets this long to finish.
GRACE_SECONDS = 600
POD_SECURITY = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}
#: Rights of the people's commands that a push never uses.
_NOT_FOR_PUSHES = {
    ("create", "pods/attach", "apps"),  # run with a terminal
    ("get", "pods/attach", "apps"),
    ("create", "secrets", "system"),  # token create
    ("update", "secrets", "system"),  # token revoke
}


def receiver_rights() -> tuple[Right, ...]:
    """What the receiver's ServiceAccount is granted: a deploy's rights and reading the tokens."""
    return tuple(r for r in RIGHTS if (r.verb, r.resource, r.scope) not in _NOT_FOR_PUSHES)


@dataclass(frozen=True)
class ReceiverPlan:
    """How the receiver is installed.

    Attributes:
        image: The receiver's image, by digest.
        host: The Ingress host, `git.DOMAIN` by default.
        size: The repositories' volume size, like `5Gi`.
        storage_class: The volume's StorageClass; None for the cluster's default.
    """

    image: str
    host: str
    size: str = "5Gi"
    storage_class: str | None = None


def default_host(settings: ClusterSettings) -> str:
    """`git.DOMAIN`."""
    return f"git.{settings.domain}"


def _meta(name: str, **extra: object) -> Obj:
    return {"name": name, "namespace": SYSTEM_NAMESPACE, "labels": dict(LABELS), **extra}


def receiver_objects(plan: ReceiverPlan, settings: ClusterSettings) -> list[Obj]:
    """Every object of the receiver, in the order they are applied."""
    account: Obj = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(NAME)}
    claim_spec: Obj = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": plan.size}},
    }
    if plan.storage_class:
        claim_spec["storageClassName"] = plan.storage_class
    claim: Obj = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": _meta(f"{NAME}-repos"),
        "spec": claim_spec,
    }
    roles = role_objects(receiver_rights(), subject=f"sa:{SYSTEM_NAMESPACE}/{NAME}", prefix=NAME)
    return [account, *roles, claim, _deployment(plan), _service(), _ingress(plan, settings)]


def _deployment(plan: ReceiverPlan) -> Obj:
    probe = {"httpGet": {"path": "/healthz", "port": "git"}, "periodSeconds": 10}
    container: Obj = {
        "name": "receiver",
        "image": plan.image,
        "args": [
            "receiver",
            "serve",
            "--host",
            "0.0.0.0",  # noqa: S104 (in its pod, behind the Service)
            "--port",
            str(PORT),
            "--root",
            f"{REPOS_MOUNT}/repos",
        ],
        "env": [
            {"name": "HOME", "value": "/tmp"},  # noqa: S108 (the pod's own emptyDir)
            {"name": "XDG_DATA_HOME", "value": REPOS_MOUNT},
            {"name": "CI", "value": "1"},  # plain lines, no prompts
        ],
        "ports": [{"name": "git", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": {**probe, "periodSeconds": 5},
        "livenessProbe": {**probe, "failureThreshold": 6},
        "resources": {
            "requests": {"cpu": "100m", "memory": "256Mi"},
            "limits": {"memory": "1Gi"},
        },
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "runAsGroup": 1000,
        },
        "volumeMounts": [
            {"name": "repos", "mountPath": REPOS_MOUNT},
            {"name": "tmp", "mountPath": "/tmp"},  # noqa: S108
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(NAME),
        "spec": {
            "replicas": 1,
            # One writer of the volume: the old pod is gone before the new one mounts it.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": dict(SELECTOR)},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "serviceAccountName": NAME,
                    "terminationGracePeriodSeconds": GRACE_SECONDS,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "fsGroup": 1000,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {"name": "repos", "persistentVolumeClaim": {"claimName": f"{NAME}-repos"}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": "4Gi"}},
                    ],
                },
            },
        },
    }


def _service() -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(NAME),
        "spec": {
            "type": "ClusterIP",
            "selector": dict(SELECTOR),
            "ports": [{"name": "http", "port": 80, "targetPort": "git", "protocol": "TCP"}],
        },
    }


def _ingress(plan: ReceiverPlan, settings: ClusterSettings) -> Obj:
    meta = _meta(NAME)
    spec: Obj = {}
    if settings.ingress_class:
        spec["ingressClassName"] = settings.ingress_class
    backend = {"service": {"name": NAME, "port": {"name": "http"}}}
    spec["rules"] = [
        {
            "host": plan.host,
            "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
        }
    ]
    if settings.tls.mode == "cert-manager":
        meta["annotations"] = {"cert-manager.io/cluster-issuer": str(settings.tls.issuer)}
        spec["tls"] = [{"hosts": [plan.host], "secretName": f"{NAME}-tls"}]
    elif settings.tls.mode == "secret":
        spec["tls"] = [{"hosts": [plan.host], "secretName": str(settings.tls.secret)}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": spec}


def namespace_labels() -> Obj:
    """The merge patch that makes `paas-system` enforce Pod Security "restricted"."""
    return {"metadata": {"labels": dict(POD_SECURITY)}}


#: What the receiver's image installs from Debian: Python, git (its http-backend), certificates.
DEBIAN_PACKAGES = ("python3", "python3-venv", "git", "ca-certificates")
DOCKERFILE = """\
# The paas receiver: `paas receiver install` writes this build context.
FROM {base}
# extra-ca.crt: certificates to trust besides Debian's (a proxy's CA), or empty.
COPY extra-ca.crt /tmp/extra-ca.crt
RUN apt-get update \\
 && apt-get install -y --no-install-recommends {packages} \\
 && if [ -s /tmp/extra-ca.crt ]; then \\
      cp /tmp/extra-ca.crt /usr/local/share/ca-certificates/paas-extra.crt \\
      && update-ca-certificates; \\
    fi \\
 && rm -rf /var/lib/apt/lists/* /tmp/extra-ca.crt
COPY receiver-requirements.txt /opt/paas/requirements.txt
RUN python3 -m venv /opt/paas/venv \\
 && PIP_CERT=/etc/ssl/certs/ca-certificates.crt /opt/paas/venv/bin/pip install \\
      --no-cache-dir --disable-pip-version-check -r /opt/paas/requirements.txt
COPY paas /opt/paas/lib/paas
ENV PYTHONPATH=/opt/paas/lib PYTHONDONTWRITEBYTECODE=1 HOME=/tmp \\
    PATH=/opt/paas/venv/bin:/usr/local/bin:/usr/bin:/bin
USER 1000:1000
ENTRYPOINT ["python", "-m", "paas"]
CMD ["receiver", "serve", "--host", "0.0.0.0", "--port", "{port}"]
"""


def requirements(pins: dict[str, str], index_url: str | None = None) -> str:
    """A requirements file pinning each dependency to the version this paas runs with."""
    lines = [f"--index-url {index_url}"] if index_url else []
    lines += [f"{name}=={version}" for name, version in sorted(pins.items())]
    return "\n".join(lines) + "\n"


def image_source(
    out: Path,
    package: Path,
    *,
    base: str,
    pins: dict[str, str],
    index_url: str | None = None,
    extra_ca: bytes = b"",
) -> None:
    """Write the receiver's build context into `out`.

    `package` is paas's own package directory (copied without byte code);
    `extra_ca` are certificates the image trusts besides Debian's.
    """
    (out / "extra-ca.crt").write_bytes(extra_ca)
    (out / "Dockerfile").write_text(
        DOCKERFILE.format(base=base, packages=" ".join(DEBIAN_PACKAGES), port=PORT)
    )
    (out / "receiver-requirements.txt").write_text(requirements(pins, index_url))
    (out / "paas.yaml").write_text(f"name: {IMAGE_APP}\nbuild:\n  dockerfile: Dockerfile\n")
    (out / ".dockerignore").write_text("**/__pycache__\n**/*.pyc\n")
    shutil.copytree(package, out / "paas", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
