"""Where add-on records are kept: a ConfigMap `addon-NAME` in the owner app's namespace.

The record holds no credential (those are in the add-on's Secret); add-on
names are unique across the cluster, so one is found by its label alone.
"""

from __future__ import annotations

import base64

from paas.addons import ADDON_LABEL, MANAGED, AddonRecord
from paas.kube.api import Kube
from paas.objects import Obj

KIND_LABEL = "paas.dev/kind"


def record_name(name: str) -> str:
    """The record's ConfigMap name."""
    return f"addon-{name}"


def save_addon(kube: Kube, record: AddonRecord) -> None:
    """Write (or replace) the record of `record`."""
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": record_name(record.name),
                "namespace": record.namespace,
                "labels": {
                    **MANAGED,
                    KIND_LABEL: "addon",
                    ADDON_LABEL: record.name,
                    "paas.dev/app": record.owner,
                },
            },
            "data": {"addon.json": record.model_dump_json(indent=2)},
        }
    )


def _records(found: list[Obj]) -> list[AddonRecord]:
    return sorted(
        (AddonRecord.model_validate_json(c["data"]["addon.json"]) for c in found),
        key=lambda r: r.name,
    )


def list_addons(kube: Kube) -> list[AddonRecord]:
    """Every add-on on the cluster, by name."""
    return _records(kube.list("v1", "ConfigMap", None, selector=f"{KIND_LABEL}=addon"))


def find_addon(kube: Kube, name: str) -> AddonRecord | None:
    """The add-on called `name`, or None."""
    found = kube.list("v1", "ConfigMap", None, selector=f"{KIND_LABEL}=addon,{ADDON_LABEL}={name}")
    records = _records(found)
    return records[0] if records else None


def delete_addon_record(kube: Kube, record: AddonRecord) -> None:
    """Forget `record` (its objects are deleted by the caller)."""
    kube.delete("v1", "ConfigMap", record.namespace, record_name(record.name))


def read_secret_value(kube: Kube, namespace: str, name: str, key: str) -> str | None:
    """One decoded value of a Secret, or None when the Secret or the key is absent."""
    secret = kube.get("v1", "Secret", namespace, name)
    if secret is None or key not in secret.get("data", {}):
        return None
    return base64.b64decode(secret["data"][key]).decode()


def has_default_storage_class(kube: Kube) -> bool:
    """Whether the cluster has a default StorageClass (a claim without a class gets one)."""
    for storage_class in kube.list("storage.k8s.io/v1", "StorageClass"):
        annotations = storage_class.get("metadata", {}).get("annotations", {}) or {}
        if annotations.get("storageclass.kubernetes.io/is-default-class") == "true":
            return True
    return False
