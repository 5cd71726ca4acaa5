"""Add-ons: a Postgres or Redis attached to apps, and what the built-in provider renders for one.

Pure logic: the add-on record, its types and plans, names, the URL an
attached app gets, and the objects of the built-in provider (a StatefulSet
with a volume claim, a Service, a Secret with the credentials and a
NetworkPolicy admitting only the attached apps' pods). Commands and cluster
calls are in `paas.addon_ops`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from paas.errors import UsageError
from paas.names import DNS_LABEL, ENV_NAME
from paas.objects import Obj

ADDON_NAME_MAX = 30  # the StatefulSet's pod is NAME-0; its revision label adds a hash
ADDON_LABEL = "paas.dev/addon"
MANAGED = {"app.kubernetes.io/managed-by": "paas"}
PROVIDER = "builtin"


@dataclass(frozen=True)
class AddonType:
    """One kind of add-on: its port, the config var it sets by default and its URL scheme."""

    name: str
    port: int
    default_as: str  # `DATABASE` sets DATABASE_URL
    scheme: str
    data_dir: str


TYPES: dict[str, AddonType] = {
    "postgres": AddonType("postgres", 5432, "DATABASE", "postgres", "/var/lib/postgresql/data"),
    "redis": AddonType("redis", 6379, "REDIS", "redis", "/data"),
}


@dataclass(frozen=True)
class Plan:
    """A size: the container's resources and the volume's."""

    cpu: str
    memory: str
    storage: str


PLANS: dict[str, Plan] = {
    "small": Plan("250m", "256Mi", "1Gi"),
    "medium": Plan("500m", "1Gi", "10Gi"),
    "large": Plan("2", "4Gi", "50Gi"),
}
DEFAULT_PLAN = "small"


class Attachment(BaseModel):
    """An app an add-on is attached to: the config var it set, and the app's namespace."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str  # DATABASE_URL
    namespace: str


class AddonRecord(BaseModel):
    """One add-on as paas keeps it: what it is, where it runs and which apps it is attached to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: str
    plan: str = DEFAULT_PLAN
    provider: str = PROVIDER
    owner: str  # the app it was created for; it lives in that app's namespace
    namespace: str
    image: str
    created: str = ""
    #: Attached apps by name.
    attachments: dict[str, Attachment] = Field(default_factory=dict)

    @property
    def kind(self) -> AddonType:
        """Its type's details."""
        return TYPES[self.type]

    @property
    def host(self) -> str:
        """The Service's DNS name, reachable from every namespace."""
        return f"{self.name}.{self.namespace}.svc"


def addon_name_problem(name: str) -> str | None:
    """Say what is wrong with `name` as an add-on name, or None when it is fine."""
    if not name:
        return "must not be empty"
    if len(name) > ADDON_NAME_MAX:
        return f"must be at most {ADDON_NAME_MAX} characters (it has {len(name)})"
    if not DNS_LABEL.fullmatch(name):
        return (
            "must be lowercase letters, digits and dashes, start with a letter and not end "
            "with a dash"
        )
    if name.startswith(("release-", "addon-", "paas-")):
        return "starts like the names paas keeps its own records under"
    return None


def check_addon_name(name: str) -> str:
    """`name`, when it is a valid add-on name.

    Raises:
        UsageError: it is not.
    """
    if problem := addon_name_problem(name):
        raise UsageError(f"add-on name `{name}` {problem}", "Pick a name like `main-db`.")
    return name


def check_type(name: str) -> AddonType:
    """The add-on type `name`.

    Raises:
        UsageError: an unknown type.
    """
    if name not in TYPES:
        raise UsageError(
            f"`{name}` is not an add-on type", f"The types are: {', '.join(sorted(TYPES))}."
        )
    return TYPES[name]


def check_plan(name: str) -> Plan:
    """The plan `name`.

    Raises:
        UsageError: an unknown plan.
    """
    if name not in PLANS:
        raise UsageError(f"`{name}` is not a plan", f"The plans are: {', '.join(PLANS)}.")
    return PLANS[name]


def config_key(as_name: str) -> str:
    """The config var an attachment sets: `DATABASE` -> `DATABASE_URL`.

    Raises:
        UsageError: `as_name` would not make a config var name.
    """
    key = as_name.upper()
    key = key if key.endswith("_URL") else f"{key}_URL"
    if not as_name or not ENV_NAME.fullmatch(key) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", key):
        raise UsageError(
            f"`--as {as_name}` does not make a config var name",
            "Use letters, digits and underscores, like `--as ANALYTICS_DB`.",
        )
    return key


def default_name(type_name: str, token: str) -> str:
    """A fresh add-on name like `postgres-3fa9c1` (`token`: random hex)."""
    return f"{type_name}-{token}"


def connection_url(record: AddonRecord, password: str) -> str:
    """The URL an attached app gets (its password included: it is stored only in Secrets)."""
    kind = record.kind
    if kind.name == "postgres":
        return f"postgres://{record.name}:{password}@{record.host}:{kind.port}/{record.name}"
    return f"redis://:{password}@{record.host}:{kind.port}"


def labels(record: AddonRecord) -> dict[str, str]:
    """The labels of every object of the add-on (its pods select on `paas.dev/addon`)."""
    return {**MANAGED, ADDON_LABEL: record.name, "paas.dev/addon-type": record.type}


def secret_name(record: AddonRecord) -> str:
    """The Secret holding the add-on's credentials."""
    return f"{record.name}-credentials"


def render_addon(record: AddonRecord, password: str) -> list[Obj]:
    """The built-in provider's objects for `record`: Secret, Service, StatefulSet, NetworkPolicy."""
    return [
        credentials_secret(record, password),
        _service(record),
        _statefulset(record),
        network_policy(record),
    ]


def credentials_secret(record: AddonRecord, password: str) -> Obj:
    """The Secret the add-on's pod reads its password from."""
    data = {"password": password, "url": connection_url(record, password)}
    if record.type == "postgres":
        data.update(user=record.name, database=record.name)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": _meta(record, secret_name(record)),
        "stringData": data,
    }


def _meta(record: AddonRecord, name: str) -> Obj:
    return {"name": name, "namespace": record.namespace, "labels": labels(record)}


def _service(record: AddonRecord) -> Obj:
    port = record.kind.port
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(record, record.name),
        "spec": {
            "selector": {ADDON_LABEL: record.name},
            "ports": [{"name": record.type, "port": port, "targetPort": port}],
        },
    }


def _env(record: AddonRecord) -> list[Obj]:
    def secret(key: str) -> Obj:
        return {"secretKeyRef": {"name": secret_name(record), "key": key}}

    if record.type == "postgres":
        return [
            {"name": "POSTGRES_USER", "valueFrom": secret("user")},
            {"name": "POSTGRES_PASSWORD", "valueFrom": secret("password")},
            {"name": "POSTGRES_DB", "valueFrom": secret("database")},
            {"name": "PGDATA", "value": f"{record.kind.data_dir}/pgdata"},
        ]
    return [{"name": "REDIS_PASSWORD", "valueFrom": secret("password")}]


def _args(record: AddonRecord) -> list[str]:
    if record.type == "redis":
        # The kubelet expands $(REDIS_PASSWORD); upstream's entrypoint runs these as they are.
        return [
            "redis-server",
            "--requirepass",
            "$(REDIS_PASSWORD)",
            "--dir",
            record.kind.data_dir,
            "--appendonly",
            "yes",
        ]
    return []


def _statefulset(record: AddonRecord) -> Obj:
    plan = PLANS[record.plan]
    kind = record.kind
    container: Obj = {
        "name": record.type,
        "image": record.image,
        "env": _env(record),
        "ports": [{"name": record.type, "containerPort": kind.port}],
        "readinessProbe": {
            "tcpSocket": {"port": kind.port},
            "periodSeconds": 2,
            "failureThreshold": 3,
        },
        "resources": {
            "requests": {"cpu": plan.cpu, "memory": plan.memory},
            "limits": {"memory": plan.memory},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": "data", "mountPath": kind.data_dir}],
    }
    if args := _args(record):
        container["args"] = args
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(record, record.name),
        "spec": {
            "serviceName": record.name,
            "replicas": 1,
            "selector": {"matchLabels": {ADDON_LABEL: record.name}},
            "template": {
                "metadata": {"labels": labels(record)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "securityContext": {
                        # The upstream images' postgres and redis users.
                        "runAsNonRoot": True,
                        "runAsUser": 999,
                        "runAsGroup": 999,
                        "fsGroup": 999,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": "data", "labels": labels(record)},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": plan.storage}},
                    },
                }
            ],
        },
    }


def network_policy(record: AddonRecord) -> Obj:
    """Admit only the attached apps' pods to the add-on's port; nothing when none is attached."""
    sources = [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
            "podSelector": {"matchLabels": {"paas.dev/app": app}},
        }
        for app, namespace in sorted((a, t.namespace) for a, t in record.attachments.items())
    ]
    ingress = [{"from": sources, "ports": [{"port": record.kind.port}]}] if sources else []
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _meta(record, record.name),
        "spec": {
            "podSelector": {"matchLabels": {ADDON_LABEL: record.name}},
            "policyTypes": ["Ingress"],
            "ingress": ingress,
        },
    }
