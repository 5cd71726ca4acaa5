"""What the built-in add-on provider renders (pure): valid objects, restricted pods, narrow policy."""

from __future__ import annotations

import kubernetes_validate
import pytest

from paas.addons import (
    PLANS,
    AddonRecord,
    Attachment,
    addon_name_problem,
    config_key,
    connection_url,
    network_policy,
    render_addon,
)
from paas.errors import UsageError
from paas.settings import ClusterSettings


def _record(type_name: str = "postgres", plan: str = "small", **changes: object) -> AddonRecord:
    fields: dict[str, object] = {
        "name": "main-db",
        "type": type_name,
        "plan": plan,
        "owner": "hello",
        "namespace": "team-hello",
        "image": getattr(ClusterSettings().addon_images, type_name),
        "attachments": {"hello": Attachment(key="DATABASE_URL", namespace="team-hello")},
        **changes,
    }
    return AddonRecord.model_validate(fields)


def _by_kind(record: AddonRecord) -> dict[str, dict]:  # type: ignore[type-arg]
    return {o["kind"]: o for o in render_addon(record, "s3cret-pw")}


@pytest.mark.parametrize("type_name", ["postgres", "redis"])
def test_every_object_is_valid_kubernetes(type_name: str) -> None:
    objects = render_addon(_record(type_name), "pw")
    assert [o["kind"] for o in objects] == ["Secret", "Service", "StatefulSet", "NetworkPolicy"]
    for obj in objects:
        kubernetes_validate.validate(obj, "1.33.0", strict=True)
        assert obj["metadata"]["namespace"] == "team-hello"
        assert obj["metadata"]["labels"]["paas.dev/addon"] == "main-db"


@pytest.mark.parametrize("type_name", ["postgres", "redis"])
def test_the_pod_meets_pod_security_restricted(type_name: str) -> None:
    pod = _by_kind(_record(type_name))["StatefulSet"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod["containers"]
    assert container["securityContext"] == {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["automountServiceAccountToken"] is False


def test_the_plan_sizes_the_container_and_the_volume() -> None:
    statefulset = _by_kind(_record(plan="medium"))["StatefulSet"]["spec"]
    container = statefulset["template"]["spec"]["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "500m", "memory": "1Gi"}
    assert container["resources"]["limits"] == {"memory": "1Gi"}
    claim = statefulset["volumeClaimTemplates"][0]["spec"]
    assert claim["resources"]["requests"]["storage"] == PLANS["medium"].storage == "10Gi"
    assert statefulset["replicas"] == 1


def test_postgres_takes_the_upstream_image_conventions_and_the_password_from_its_secret() -> None:
    objects = _by_kind(_record())
    container = objects["StatefulSet"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert set(env) == {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "PGDATA"}
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "main-db-credentials",
        "key": "password",
    }
    assert "s3cret-pw" not in str(objects["StatefulSet"])  # only the Secret holds it
    assert objects["Secret"]["stringData"]["password"] == "s3cret-pw"
    assert container["image"] == "postgres:16"


def test_redis_requires_its_password() -> None:
    container = _by_kind(_record("redis"))["StatefulSet"]["spec"]["template"]["spec"]["containers"][
        0
    ]
    assert container["args"][:3] == ["redis-server", "--requirepass", "$(REDIS_PASSWORD)"]
    assert [e["name"] for e in container["env"]] == ["REDIS_PASSWORD"]
    assert container["image"] == "redis:7"


def test_the_url_names_the_service_across_namespaces() -> None:
    assert connection_url(_record(), "pw") == (
        "postgres://main-db:pw@main-db.team-hello.svc:5432/main-db"
    )
    assert connection_url(_record("redis"), "pw") == "redis://:pw@main-db.team-hello.svc:6379"


def test_the_policy_admits_only_the_attached_apps_pods_on_the_port() -> None:
    record = _record(
        attachments={
            "hello": Attachment(key="DATABASE_URL", namespace="team-hello"),
            "reports": Attachment(key="MAIN_URL", namespace="team-reports"),
        }
    )
    spec = network_policy(record)["spec"]
    assert spec["podSelector"] == {"matchLabels": {"paas.dev/addon": "main-db"}}
    assert spec["policyTypes"] == ["Ingress"]
    (rule,) = spec["ingress"]
    assert rule["ports"] == [{"port": 5432}]
    assert rule["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "team-hello"}},
            "podSelector": {"matchLabels": {"paas.dev/app": "hello"}},
        },
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "team-reports"}},
            "podSelector": {"matchLabels": {"paas.dev/app": "reports"}},
        },
    ]


def test_an_addon_attached_to_nothing_admits_nobody() -> None:
    spec = network_policy(_record(attachments={}))["spec"]
    assert spec["ingress"] == []
    assert spec["policyTypes"] == ["Ingress"]


@pytest.mark.parametrize(
    "name",
    ["", "A", "-db", "db-", "1db", "db.x", "db_x", "x" * 31, "release-v1", "addon-x", "db\n"],
)
def test_hostile_or_colliding_names_are_refused(name: str) -> None:
    assert addon_name_problem(name) is not None


@pytest.mark.parametrize("name", ["db", "main-db", "postgres-3fa9c1", "x" * 30])
def test_good_names_are_taken(name: str) -> None:
    assert addon_name_problem(name) is None


def test_config_keys() -> None:
    assert config_key("DATABASE") == "DATABASE_URL"
    assert config_key("cache") == "CACHE_URL"
    assert config_key("MAIN_URL") == "MAIN_URL"
    for bad in ("MY-DB", "1DB", "DB URL", "DB\n", ""):
        with pytest.raises(UsageError):
            config_key(bad)


class _StorageClasses:
    """Answers `list` with the given StorageClasses (pure: the check reads only them)."""

    def __init__(self, *classes: dict) -> None:  # type: ignore[type-arg]
        self.classes = list(classes)

    def list(self, api_version: str, kind: str) -> list[dict]:  # type: ignore[type-arg]
        assert (api_version, kind) == ("storage.k8s.io/v1", "StorageClass")
        return self.classes


def _storage_class(name: str, default: str | None) -> dict:  # type: ignore[type-arg]
    annotations = (
        {} if default is None else {"storageclass.kubernetes.io/is-default-class": default}
    )
    return {"metadata": {"name": name, "annotations": annotations}}


def test_only_a_class_marked_default_counts_as_the_default_storage_class() -> None:
    from paas.kube.addon_store import has_default_storage_class

    assert not has_default_storage_class(_StorageClasses())  # type: ignore[arg-type]
    none = _StorageClasses(_storage_class("slow", None), _storage_class("fast", "false"))
    assert not has_default_storage_class(none)  # type: ignore[arg-type]
    marked = _StorageClasses(_storage_class("slow", None), _storage_class("local", "true"))
    assert has_default_storage_class(marked)  # type: ignore[arg-type]


def test_the_wait_says_what_the_addons_pod_does() -> None:
    from paas.addon_ops import pod_state

    assert pod_state(None) == "no pod yet"
    assert pod_state({"status": {"phase": "Pending"}}) == "pending"
    unscheduled = {
        "status": {
            "phase": "Pending",
            "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}],
        }
    }
    assert pod_state(unscheduled) == "not scheduled: Unschedulable"
    pulling = {
        "status": {
            "phase": "Pending",
            "containerStatuses": [{"state": {"waiting": {"reason": "ImagePullBackOff"}}}],
        }
    }
    assert pod_state(pulling) == "ImagePullBackOff"
    ready = {"status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}
    assert pod_state(ready) == "ready"
