"""Gateway API routing: an HTTPRoute on the cluster's Gateway instead of an Ingress, per app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from paas.deploy import _prune_objects
from paas.errors import ExitCode, RenderError
from paas.manifest import AppSpec, load_app
from paas.releases import Release
from paas.render import render
from paas.render.policy import hosts_taken, ingress_hosts
from paas.settings import ClusterSettings

RELEASE = Release(version=1, image="registry.example/app@sha256:" + "0" * 64, commit="abc")
GATEWAY = ClusterSettings(domain="apps.example.com", routing="gateway", gateway="gateway/public")


def app_with(tmp_path: Path, manifest: str) -> AppSpec:
    (tmp_path / "paas.yaml").write_text(manifest)
    return load_app(tmp_path)


def kinds(objects: list[dict[str, Any]]) -> list[str]:
    return [o["kind"] for o in objects]


def test_gateway_routing_renders_an_httproute_with_every_host_to_the_web_service(
    tmp_path: Path,
) -> None:
    app = app_with(
        tmp_path,
        "name: api\ndomains: [www.example.org]\nprocesses:\n  web:\n    command: ./serve\n",
    )
    objects = render(app, RELEASE, GATEWAY)
    assert "Ingress" not in kinds(objects)
    route = next(o for o in objects if o["kind"] == "HTTPRoute")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["metadata"]["namespace"] == "api"
    assert route["spec"]["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "namespace": "gateway",
            "name": "public",
        }
    ]
    assert route["spec"]["hostnames"] == ["api.apps.example.com", "www.example.org"]
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "api-web", "port": 80}]
    assert ingress_hosts(objects) == ["api.apps.example.com", "www.example.org"]


def test_paas_yaml_chooses_per_app_and_gateway_needs_a_gateway_in_the_settings(
    tmp_path: Path,
) -> None:
    web = "processes:\n  web:\n    command: ./serve\n"
    app = app_with(tmp_path, f"name: api\nkubernetes:\n  routing: ingress\n{web}")
    assert "Ingress" in kinds(render(app, RELEASE, GATEWAY))
    wants = app_with(tmp_path, f"name: api\nkubernetes:\n  routing: gateway\n{web}")
    assert "HTTPRoute" in kinds(
        render(wants, RELEASE, GATEWAY.model_copy(update={"routing": "ingress"}))
    )
    with pytest.raises(RenderError) as refused:
        render(wants, RELEASE, ClusterSettings())
    assert refused.value.exit_code == ExitCode.RENDER
    assert "the cluster settings name no Gateway" in refused.value.message


def test_settings_with_gateway_routing_must_name_the_gateway() -> None:
    with pytest.raises(ValueError, match="routing `gateway` needs `gateway`"):
        ClusterSettings(routing="gateway")
    with pytest.raises(ValueError, match="should match pattern"):
        ClusterSettings(gateway="no-slash")


def test_a_host_on_another_apps_httproute_is_taken() -> None:
    route = {
        "kind": "HTTPRoute",
        "metadata": {"namespace": "shop", "name": "shop", "labels": {"paas.dev/app": "shop"}},
        "spec": {"hostnames": ["www.example.org"]},
    }
    assert hosts_taken(["WWW.example.org"], [route], "api") == [("WWW.example.org", "app `shop`")]
    assert hosts_taken(["www.example.org"], [route], "shop") == []


class Cluster:
    """Lists the app's objects; records deletions."""

    def __init__(self, present: list[dict[str, Any]]) -> None:
        self.present = present
        self.deleted: list[str] = []

    def list(self, _version: str, kind: str, _ns: str, *, selector: str = "") -> list[Any]:
        del selector
        return [o for o in self.present if o["kind"] == kind]

    def delete(self, _version: str, kind: str, _ns: str, name: str) -> bool:
        self.deleted.append(f"{kind}/{name}")
        return True


def obj(kind: str, name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}


def test_moving_to_a_route_of_the_other_kind_keeps_the_old_one_until_the_switch() -> None:
    cluster = Cluster(
        [obj("Ingress", "api"), obj("Deployment", "api-worker"), obj("Service", "api-web")]
    )
    keep = [obj("Service", "api-web"), obj("HTTPRoute", "api")]
    kept = _prune_objects(cluster, "api", "api", keep, gateway=True)  # type: ignore[arg-type]
    assert [o["kind"] for o in kept] == ["Ingress"]
    assert cluster.deleted == ["Deployment/api-worker"]
    # Without a web process there is no route to wait for: the old one goes at once.
    cluster = Cluster([obj("Ingress", "api")])
    assert _prune_objects(cluster, "api", "api", [obj("Deployment", "api-worker")]) == []  # type: ignore[arg-type]
    assert cluster.deleted == ["Ingress/api"]
