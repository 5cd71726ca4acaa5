"""The host-directory volume provisioner behind the default StorageClass.

`hack/testbed provision-volumes` (the `volumes` component) runs `provision_once`
every second.
"""

from __future__ import annotations

import contextlib
import shutil
import urllib.error
from pathlib import Path

from .config import STATE, log
from .kube import api

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
