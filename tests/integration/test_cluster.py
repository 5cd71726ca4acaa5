"""The cluster does what paas needs: run a pushed image, route Ingress, logs, exec, DNS, push."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest
from integration_helpers import wait_for

if TYPE_CHECKING:
    from conftest import Cluster

pytestmark = pytest.mark.cluster

INGRESS_URL = os.environ.get("PAAS_TEST_INGRESS_URL", "http://127.0.0.1")
APP_BODY = "hello from the paas testbed app"


def deploy_app(cluster: Cluster, namespace: str, name: str, image: str) -> None:
    """A Deployment and a Service (port 80 -> 8080) of the test app, waited Ready."""
    from kubernetes import client

    labels = {"app.kubernetes.io/name": name}
    container = client.V1Container(
        name="web",
        image=image,
        ports=[client.V1ContainerPort(container_port=8080)],
        readiness_probe=client.V1Probe(
            http_get=client.V1HTTPGetAction(path="/", port=8080), period_seconds=1
        ),
        security_context=client.V1SecurityContext(
            run_as_non_root=True,
            allow_privilege_escalation=False,
            capabilities=client.V1Capabilities(drop=["ALL"]),
        ),
    )
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[container], termination_grace_period_seconds=1),
            ),
        ),
    )
    client.AppsV1Api(cluster.api_client).create_namespaced_deployment(namespace, deployment)
    service = client.V1Service(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1ServiceSpec(
            selector=labels, ports=[client.V1ServicePort(name="http", port=80, target_port=8080)]
        ),
    )
    client.CoreV1Api(cluster.api_client).create_namespaced_service(namespace, service)
    wait_ready(cluster, namespace, name)


def wait_ready(cluster: Cluster, namespace: str, name: str) -> None:
    from kubernetes import client

    apps = client.AppsV1Api(cluster.api_client)

    def ready() -> bool:
        d = apps.read_namespaced_deployment(name, namespace)
        return bool(d.status.ready_replicas == d.spec.replicas == d.status.updated_replicas)

    wait_for(f"Deployment `{name}` Ready", ready, timeout=180)


def ready_pods(cluster: Cluster, namespace: str, name: str) -> list[Any]:
    from kubernetes import client

    pods = (
        client.CoreV1Api(cluster.api_client)
        .list_namespaced_pod(namespace, label_selector=f"app.kubernetes.io/name={name}")
        .items
    )
    return [
        p
        for p in pods
        if p.metadata.deletion_timestamp is None
        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
    ]


def exec_in(cluster: Cluster, namespace: str, pod: str, command: list[str]) -> str:
    from kubernetes import client
    from kubernetes.stream import stream

    return str(
        stream(
            client.CoreV1Api(cluster.api_client).connect_get_namespaced_pod_exec,
            pod,
            namespace,
            command=command,
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _request_timeout=30,
        )
    )


def http_get(url: str, host: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def test_pushed_image_is_served_through_ingress(
    cluster: Cluster, namespace: str, app_image: str
) -> None:
    from kubernetes import client

    deploy_app(cluster, namespace, "web", app_image)
    host = f"web.{namespace}.paas.test"
    ingress = client.V1Ingress(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1IngressSpec(
            rules=[
                client.V1IngressRule(
                    host=host,
                    http=client.V1HTTPIngressRuleValue(
                        paths=[
                            client.V1HTTPIngressPath(
                                path="/",
                                path_type="Prefix",
                                backend=client.V1IngressBackend(
                                    service=client.V1IngressServiceBackend(
                                        name="web", port=client.V1ServiceBackendPort(number=80)
                                    )
                                ),
                            )
                        ]
                    ),
                )
            ]
        ),
    )
    client.NetworkingV1Api(cluster.api_client).create_namespaced_ingress(namespace, ingress)
    pod = ready_pods(cluster, namespace, "web")[0].metadata.name

    def served() -> str | None:
        status, body = http_get(f"{INGRESS_URL}/", host=host)
        return body if status == 200 else None

    body = wait_for(f"HTTP 200 from {INGRESS_URL} with Host: {host}", served, timeout=60)
    assert body == f"{APP_BODY} on {pod}\n"
    status, _ = http_get(f"{INGRESS_URL}/", host=f"nothing.{namespace}.paas.test")
    assert status == 404


def test_logs_and_exec(
    cluster: Cluster, namespace: str, app_image: str, kubectl: list[str]
) -> None:
    from kubernetes import client

    deploy_app(cluster, namespace, "web", app_image)
    pod = ready_pods(cluster, namespace, "web")[0].metadata.name
    core = client.CoreV1Api(cluster.api_client)
    # The readiness probe's requests are logged by http.server after startup.
    log = core.read_namespaced_pod_log(pod, namespace, container="web")
    assert "app listening on :8080" in log
    assert exec_in(cluster, namespace, pod, ["cat", "/app/marker"]) == "marker-for-exec\n"

    out = subprocess.run(
        [*kubectl, "-n", namespace, "logs", pod],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert "app listening on :8080" in out
    out = subprocess.run(
        [*kubectl, "-n", namespace, "exec", pod, "--", "id", "-u"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert out == "1000\n"


def test_deleted_pod_is_replaced(cluster: Cluster, namespace: str, app_image: str) -> None:
    from kubernetes import client

    deploy_app(cluster, namespace, "web", app_image)
    old = ready_pods(cluster, namespace, "web")[0].metadata.name
    client.CoreV1Api(cluster.api_client).delete_namespaced_pod(old, namespace)

    def replacement() -> str | None:
        names = [p.metadata.name for p in ready_pods(cluster, namespace, "web")]
        return next((n for n in names if n != old), None)

    new = wait_for("a replacement pod Ready", replacement, timeout=120)
    assert new != old


def test_pod_reaches_service_by_dns_name(cluster: Cluster, namespace: str, app_image: str) -> None:
    deploy_app(cluster, namespace, "backend", app_image)
    deploy_app(cluster, namespace, "frontend", app_image)
    backend = ready_pods(cluster, namespace, "backend")[0].metadata.name
    frontend = ready_pods(cluster, namespace, "frontend")[0].metadata.name
    want = f"{APP_BODY} on {backend}\n"

    def fetched(url: str) -> str:
        out = exec_in(cluster, namespace, frontend, ["python3", "/app/app.py", "fetch", url])
        if out != want:
            raise AssertionError(out[-300:])  # wait_for shows the last one
        return out

    for url in ("http://backend/", f"http://backend.{namespace}.svc.cluster.local/"):
        # A Ready pod is in the Service's endpoints a moment before kube-proxy has
        # programmed them (until then the Service refuses): a few seconds, no more.
        assert wait_for(f"{url} answered by the backend", lambda u=url: fetched(u), timeout=15)


def test_pod_pushes_image_to_registry(cluster: Cluster, namespace: str, app_image: str) -> None:
    from kubernetes import client

    assert cluster.registry is not None
    repo = f"paas-test/pushed-{namespace}"
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="pusher"),
        spec=client.V1PodSpec(
            restart_policy="Never",
            containers=[
                client.V1Container(
                    name="push",
                    image=app_image,
                    command=["python3", "/app/app.py", "push", cluster.registry, repo, "v1"],
                )
            ],
        ),
    )
    core = client.CoreV1Api(cluster.api_client)
    core.create_namespaced_pod(namespace, pod)

    def finished() -> str | None:
        phase = core.read_namespaced_pod("pusher", namespace).status.phase
        return phase if phase in ("Succeeded", "Failed") else None

    phase = wait_for("the pusher pod to finish", finished, timeout=120)
    log = core.read_namespaced_pod_log("pusher", namespace)
    assert phase == "Succeeded", log
    digest = log.strip().splitlines()[-1]
    assert digest.startswith("sha256:")
    # The host sees the same image under the same name.
    req = urllib.request.Request(
        f"http://{cluster.registry}/v2/{repo}/manifests/v1",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Docker-Content-Digest"] == digest
        manifest = json.loads(resp.read())
    assert len(manifest["layers"]) == 1
