"""The receiver in the cluster, as objects and records: valid, restricted, least privilege."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
from conftest import Receiver, new_app_repo
from git_helpers import push

import paas
from paas.build.plan import plan_build
from paas.errors import ClusterError, NotFoundError
from paas.project import Project
from paas.receiver.auth import Verdict, check_token
from paas.receiver.cluster_store import SECRET_PREFIX, KubeTokenStore, token_of, token_secret
from paas.receiver.install import (
    IMAGE_APP,
    ReceiverPlan,
    image_source,
    receiver_objects,
    receiver_rights,
    requirements,
)
from paas.receiver.installer import dependency_pins
from paas.receiver.store import create_token
from paas.rights import RIGHTS
from paas.settings import ClusterSettings

SETTINGS = ClusterSettings(domain="apps.example.com", registry="registry.example.com")
PLAN = ReceiverPlan(image="registry.example.com/paas-receiver@sha256:" + "a" * 64, host="git.x.io")


def objects(plan: ReceiverPlan = PLAN, settings: ClusterSettings = SETTINGS) -> dict[str, Any]:
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in receiver_objects(plan, settings)}


def test_the_receiver_objects_are_valid_kubernetes() -> None:
    found = objects()
    assert list(found) == [
        "ServiceAccount/paas-receiver",
        "ClusterRole/paas-receiver-cluster",
        "ClusterRoleBinding/paas-receiver-cluster",
        "ClusterRole/paas-receiver-apps",
        "ClusterRoleBinding/paas-receiver-apps",
        "Role/paas-receiver-settings-reader",
        "RoleBinding/paas-receiver-settings-reader",
        "PersistentVolumeClaim/paas-receiver-repos",
        "Deployment/paas-receiver",
        "Service/paas-receiver",
        "Ingress/paas-receiver",
    ]
    for obj in found.values():
        kubernetes_validate.validate(obj, "1.33.0", strict=True)
        if obj["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert obj["metadata"]["namespace"] == "paas-system"


def test_the_receiver_pod_meets_pod_security_restricted_and_keeps_its_repos() -> None:
    deployment = objects()["Deployment/paas-receiver"]
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "paas-receiver"
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    assert container["image"] == PLAN.image
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "runAsUser": 1000,
        "runAsGroup": 1000,
    }
    assert "--root" in container["args"]
    root = container["args"][container["args"].index("--root") + 1]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert root.startswith(mounts["repos"] + "/")
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["repos"]["persistentVolumeClaim"] == {"claimName": "paas-receiver-repos"}
    assert container["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod["terminationGracePeriodSeconds"] >= 300  # a push mid-build may finish


def test_the_ingress_serves_the_host_with_the_clusters_tls() -> None:
    ingress = objects()["Ingress/paas-receiver"]
    assert [r["host"] for r in ingress["spec"]["rules"]] == ["git.x.io"]
    assert "tls" not in ingress["spec"]
    managed = ClusterSettings.model_validate(
        {
            **SETTINGS.model_dump(),
            "tls": {"mode": "cert-manager", "issuer": "letsencrypt"},
            "ingress_class": "t",
        }
    )
    ingress = objects(settings=managed)["Ingress/paas-receiver"]
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert ingress["spec"]["tls"] == [{"hosts": ["git.x.io"], "secretName": "paas-receiver-tls"}]
    assert ingress["spec"]["ingressClassName"] == "t"
    claim = objects(ReceiverPlan("i", "h", size="20Gi", storage_class="fast"))
    spec = claim["PersistentVolumeClaim/paas-receiver-repos"]["spec"]
    assert spec["storageClassName"] == "fast"
    assert spec["resources"] == {"requests": {"storage": "20Gi"}}


def test_the_receiver_has_a_deploys_rights_and_reads_tokens_but_cannot_make_them() -> None:
    rights = {(r.verb, r.resource, r.group, r.scope) for r in receiver_rights()}
    everything = {(r.verb, r.resource, r.group, r.scope) for r in RIGHTS}
    assert rights < everything
    assert ("delete", "namespaces", "", "cluster") in rights  # a review app's end
    assert everything - rights == {
        ("create", "pods/attach", "", "apps"),
        ("get", "pods/attach", "", "apps"),
        ("create", "secrets", "", "system"),
        ("update", "secrets", "", "system"),
    }
    assert ("list", "secrets", "", "system") in rights  # the tokens
    assert ("create", "pods", "", "apps") in rights  # the build pod
    assert ("patch", "deployments", "apps", "apps") in rights
    granted = {
        (verb, resource)
        for obj in receiver_objects(PLAN, SETTINGS)
        if obj["kind"] in ("Role", "ClusterRole")
        for rule in obj["rules"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert ("create", "pods/attach") not in granted
    binding = objects()["RoleBinding/paas-receiver-settings-reader"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "paas-receiver", "namespace": "paas-system"}
    ]


def test_the_image_source_is_a_dockerfile_build_of_this_paas(tmp_path: Path) -> None:
    pins = dependency_pins()
    assert {"typer", "kubernetes", "pydantic", "httpx"} <= set(pins)
    image_source(
        tmp_path,
        Path(paas.__file__).parent,
        base="registry.example.com/debian:bookworm",
        pins=pins,
        index_url="https://pypi.internal/simple",
    )
    dockerfile = (tmp_path / "Dockerfile").read_text()
    assert dockerfile.startswith("# The paas receiver")
    assert "FROM registry.example.com/debian:bookworm\n" in dockerfile
    assert "git" in dockerfile
    assert "USER 1000:1000" in dockerfile
    wanted = (tmp_path / "receiver-requirements.txt").read_text().splitlines()
    assert wanted[0] == "--index-url https://pypi.internal/simple"
    assert f"typer=={pins['typer']}" in wanted
    assert (tmp_path / "paas" / "receiver" / "server.py").is_file()
    assert not list(tmp_path.rglob("__pycache__"))
    project = Project.read(tmp_path, name=IMAGE_APP)
    assert project.name == "paas-receiver"
    assert project.spec.build.dockerfile == "Dockerfile"
    assert plan_build(
        project.spec, project.detection, SETTINGS, strategy="cluster"
    ).builds_dockerfile
    assert requirements({"b": "2", "a": "1"}) == "a==1\nb==2\n"


class FakeSecrets:
    """Secrets in memory, keyed by name, with resource versions: for the record logic only."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.replaced: list[str] = []

    def list(self, version: str, kind: str, namespace: str, *, selector: str) -> list[Any]:
        assert (version, kind, namespace, selector) == (
            "v1",
            "Secret",
            "paas-system",
            "paas.dev/receiver-token=true",
        )
        return [json.loads(json.dumps(s)) for s in self.items.values()]

    def get(self, version: str, kind: str, namespace: str, name: str) -> Any:
        found = self.items.get(name)
        return json.loads(json.dumps(found)) if found else None

    def create(self, obj: dict[str, Any]) -> Any:
        name = obj["metadata"]["name"]
        if name in self.items:
            raise ClusterError("exists")
        obj["metadata"]["resourceVersion"] = "1"
        self.items[name] = obj
        return obj

    def replace(self, obj: dict[str, Any]) -> Any:
        name = obj["metadata"]["name"]
        if obj["metadata"]["resourceVersion"] != self.items[name]["metadata"]["resourceVersion"]:
            raise ClusterError("conflict")
        obj["metadata"]["resourceVersion"] = str(int(obj["metadata"]["resourceVersion"]) + 1)
        self.items[name] = obj
        self.replaced.append(name)
        return obj


def test_tokens_kept_as_secrets_hold_only_hashes_and_revoke_replaces_one() -> None:
    fake = FakeSecrets()
    store = KubeTokenStore(fake)  # type: ignore[arg-type]
    token, record = create_token(store, ["hello"], "1h", note="ci")
    other, _ = create_token(store, ["web"], "1h")
    secret = fake.items[SECRET_PREFIX + record.id]
    kubernetes_validate.validate(secret, "1.33.0", strict=True)
    assert token not in json.dumps(secret)
    assert token not in base64.b64decode(secret["data"]["token.json"]).decode()
    records = store.tokens()
    assert [r.id for r in records] == [record.id, _.id]
    assert check_token(records, token, "hello", time.time()).verdict is Verdict.ALLOWED
    assert check_token(records, other, "hello", time.time()).verdict is Verdict.OTHER_APP

    revoked = store.revoke(record.id, time.time())
    assert revoked.revoked is not None
    assert fake.replaced == [SECRET_PREFIX + record.id]
    assert check_token(store.tokens(), token, "hello", time.time()).verdict is not Verdict.ALLOWED
    for bad in ("ffffffffffff", "../x", "a" * 80):
        with pytest.raises(NotFoundError):
            store.revoke(bad, time.time())


def test_a_secret_that_is_not_a_record_under_its_own_id_grants_nothing() -> None:
    _, record = create_token(KubeTokenStore(FakeSecrets()), ["hello"], "1h")  # type: ignore[arg-type]
    good = token_secret(record)
    assert token_of(good) == record
    moved = json.loads(json.dumps(good))
    moved["metadata"]["name"] = SECRET_PREFIX + "000000000000"
    assert token_of(moved) is None
    for data in (
        {},
        {"token.json": "not base64!"},
        {"token.json": base64.b64encode(b"[]").decode()},
    ):
        assert token_of({"metadata": good["metadata"], "data": data}) is None


def test_healthz_answers_without_a_token(receiver: Receiver) -> None:
    with urllib.request.urlopen(f"{receiver.url}/healthz", timeout=10) as answer:
        assert answer.status == 200
        assert answer.read() == b"ok\n"


def test_sigterm_lets_a_running_push_finish_then_stops(receiver: Receiver, tmp_path: Path) -> None:
    assert receiver.process is not None
    repo = new_app_repo(tmp_path / "app", receiver.home, {"lines": 4, "delay": 0.5})
    token = receiver.token("hello")
    result: list[Any] = []
    pushing = threading.Thread(
        target=lambda: result.append(
            push(repo, receiver.home, receiver.remote("hello", token), "main")
        )
    )
    pushing.start()
    deadline = time.monotonic() + 30
    while not receiver.pipeline_events() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.pipeline_events(), "the pipeline never started"
    receiver.process.terminate()
    pushing.join(60)
    assert receiver.process.wait(timeout=30) == 0
    assert result, "the push did not end"
    assert result[0].code == 0, result[0].text
    assert "remote: test pipeline: done" in result[0].text
    assert [e[0] for e in receiver.pipeline_events()] == ["start", "end"]


def test_unreadable_tokens_make_healthz_and_pushes_503_not_401(receiver: Receiver) -> None:
    receiver.store.path.write_text("{not json")
    for path in ("/healthz", "/hello.git/info/refs?service=git-receive-pack"):
        request = urllib.request.Request(f"{receiver.url}{path}")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 503, path
    assert receiver.logged("cannot read the tokens"), receiver.log


def test_sigterm_does_not_wait_for_an_idle_keep_alive_connection(receiver: Receiver) -> None:
    # A proxy in front (Traefik) keeps idle connections open; stopping must not wait for them.
    assert receiver.process is not None
    url = urlsplit(receiver.url)
    idle = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    idle.request("GET", "/healthz")
    assert idle.getresponse().read() == b"ok\n"  # the connection stays open (HTTP/1.1)
    started = time.monotonic()
    receiver.process.terminate()
    assert receiver.process.wait(timeout=20) == 0
    assert time.monotonic() - started < 5
    idle.close()
