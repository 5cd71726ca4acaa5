"""Release history rules and the small parsers of the lifecycle commands (pure)."""

from __future__ import annotations

import pytest

from paas.arguments import parse_assignments, parse_formation
from paas.errors import RegistryError, UsageError
from paas.kube.api import resource_path
from paas.manifest import AppSpec
from paas.registry import ImageRef
from paas.releases import ReleaseRecord, current, describe_deploy, next_version, to_prune

APP = AppSpec(name="a", processes={})


def record(
    version: int, status: str = "succeeded", pod_version: int | None = None
) -> ReleaseRecord:
    return ReleaseRecord(
        version=version,
        change="deploy",
        description="d",
        image="r/a@x",
        status=status,
        pod_version=pod_version,
        app=APP,
    )  # type: ignore[arg-type]


def test_versions_and_current() -> None:
    history = [record(1), record(2), record(3, "failed")]
    assert next_version(history) == 4
    assert next_version([]) == 1
    live = current(history)
    assert live is not None
    assert live.version == 2


def test_pruning_keeps_the_newest_and_what_serves() -> None:
    history = [record(v) for v in range(1, 8)] + [record(8, "failed")]
    assert [r.version for r in to_prune(history, keep=3)] == [5, 4, 3, 2, 1]
    scaled = [record(1), record(2), record(3, pod_version=1), record(4, "failed")]
    assert [r.version for r in to_prune(scaled, keep=2)] == [2]  # v1 runs the pods of v3


def test_summary_never_holds_config_values() -> None:
    secret = record(1).model_copy(update={"config": {"TOKEN": "s3cret"}})
    summary = secret.summary()
    assert summary["config_keys"] == ["TOKEN"]
    assert "s3cret" not in str(summary)


def test_describe_deploy() -> None:
    assert describe_deploy("3f2a1c9d8e", "r/a@sha256:1") == "Deploy 3f2a1c9"
    assert describe_deploy("", "registry.example/team/api@sha256:abcdef123") == "Deploy api@abcdef1"


def test_assignments_and_formation() -> None:
    assert parse_assignments(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    with pytest.raises(UsageError, match="`A` is not KEY=VALUE"):
        parse_assignments(["A"])
    with pytest.raises(UsageError, match="`1A` is not an environment variable name"):
        parse_assignments(["1A=x"])
    assert parse_formation(["web=3", "worker=0"]) == {"web": 3, "worker": 0}
    for bad in ("web", "web=-1", "Web=2", "web=two"):
        with pytest.raises(UsageError):
            parse_formation([bad])


def test_resource_paths() -> None:
    assert (
        resource_path("apps/v1", "Deployment", "ns", "x")
        == "/apis/apps/v1/namespaces/ns/deployments/x"
    )
    assert resource_path("v1", "Namespace", "ignored", "ns") == "/api/v1/namespaces/ns"
    assert (
        resource_path("networking.k8s.io/v1", "Ingress", "ns")
        == "/apis/networking.k8s.io/v1/namespaces/ns/ingresses"
    )
    assert (
        resource_path("autoscaling/v2", "HorizontalPodAutoscaler", "n", "h")
        == "/apis/autoscaling/v2/namespaces/n/horizontalpodautoscalers/h"
    )


def test_image_refs() -> None:
    assert ImageRef.parse("registry.paas.test:5000/e2e/app:v1") == ImageRef(
        "registry.paas.test:5000", "e2e/app", "v1"
    )
    assert ImageRef.parse("nginx") == ImageRef("docker.io", "library/nginx", "latest")
    digest = "sha256:" + "a" * 64
    ref = ImageRef.parse(f"localhost:5000/app@{digest}")
    assert (ref.registry, ref.digest) == ("localhost:5000", digest)
    assert ref.by_digest(digest) == f"localhost:5000/app@{digest}"
    with pytest.raises(RegistryError):
        ImageRef.parse("localhost:5000/app@sha256:short")


def test_purge_keys_removes_a_config_var_from_the_record_and_its_config_secret() -> None:
    import base64

    from paas.releases import abandoned, purge_keys

    app = AppSpec(name="a", processes={}, env={"REGION": "eu"})
    record = ReleaseRecord(
        version=3,
        change="config",
        description="Set TOKEN",
        image="r/a@sha256:1",
        config={"TOKEN": "s3cret", "GREETING": "hi"},
        app=app,
    )
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "a-config-v3"},
        "immutable": True,
        "data": {"TOKEN": base64.b64encode(b"s3cret").decode()},
    }
    other = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a-other"}, "data": {}}
    purged, objects = purge_keys(record, [secret, other], ["TOKEN"], "a-config-v3")
    assert purged.config == {"GREETING": "hi"}
    assert record.config["TOKEN"] == "s3cret"  # the input is left as it was
    assert objects[0]["data"] == {
        "GREETING": base64.b64encode(b"hi").decode(),
        "REGION": base64.b64encode(b"eu").decode(),
    }
    assert objects[0]["immutable"] is True
    assert objects[1] == other
    assert "s3cret" not in repr(objects) + purged.model_dump_json()
    pending = record.model_copy(update={"version": 4, "status": "pending"})
    done = record.model_copy(update={"status": "succeeded"})
    assert abandoned([pending, done]) == [pending]
