"""Every render golden is accepted by a real API server (server-side dry-run apply)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from conftest import Cluster

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"
GOLDEN_FILES = sorted(GOLDEN_DIR.glob("**/*.yaml"))


def test_goldens_exist() -> None:
    assert GOLDEN_FILES, f"no *.yaml under {GOLDEN_DIR}: the dry-run test would check nothing"


@pytest.mark.cluster
@pytest.mark.parametrize(
    "path", GOLDEN_FILES, ids=[str(p.relative_to(GOLDEN_DIR)) for p in GOLDEN_FILES]
)
def test_golden_applies_with_server_dry_run(cluster: Cluster, namespace: str, path: Path) -> None:
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import DynamicApiError

    dynamic = DynamicClient(cluster.api_client)
    documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
    assert documents, f"{path} holds no object"
    objects: list[dict[str, Any]] = []
    for doc in documents:
        objects.extend(doc.get("items", []) if doc.get("kind", "").endswith("List") else [doc])
    failures = []
    for obj in objects:
        resource = dynamic.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        meta = obj.setdefault("metadata", {})
        if resource.namespaced:
            meta["namespace"] = namespace
        try:
            applied = resource.server_side_apply(
                body=obj,
                name=meta["name"],
                namespace=meta.get("namespace"),
                field_manager="paas-golden-test",
                dry_run="All",
            )
        except DynamicApiError as e:
            failures.append(f"{obj['kind']}/{meta.get('name')}: {e.summary()}")
            continue
        assert applied.kind == obj["kind"]
        assert applied.metadata.name == meta["name"]
    assert not failures, f"{path.relative_to(GOLDEN_DIR)}:\n" + "\n".join(failures)
