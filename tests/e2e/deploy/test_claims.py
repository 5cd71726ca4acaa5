"""A push cannot reach beyond its app: the policy on patches, foreign namespaces, other apps' domains.

Each case is checked on the real cluster by what it leaves there: nothing applied,
the foreign namespace unchanged, the first app still serving its domain.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from deploy_helpers import Images, Paas, wait_for_body
from test_deploy import manifest, push, releases
from test_deploy_more import kube, kube_json, wait_until

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

PRIVILEGED = {
    "target": {"kind": "Deployment", "process": "web"},
    "merge": {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "web", "securityContext": {"privileged": True}}]}
            }
        }
    },
}


@pytest.fixture
def other_app(paas: Paas) -> Iterator[str]:
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    yield name
    paas("apps", "destroy", name, "--confirm", name, timeout=120)


def test_a_privileged_patch_is_refused_before_anything_is_applied(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    manifest(app_dir, {"processes": {"web": {}}, "kubernetes": {"patches": [PRIVILEGED]}})
    first = push(paas, app_dir, app, images.v1)
    assert first.returncode == 5, first.stderr
    assert "error: paas.yaml:3: kubernetes.patches[0]: this patch is refused: `privileged: " in (
        first.stderr
    )
    assert "[privileged]" in first.stderr
    assert kube(kubectl, "get", "namespace", app, check=False).returncode != 0  # nothing made

    manifest(app_dir, {"processes": {"web": {}}})
    assert push(paas, app_dir, app, images.v1).returncode == 0
    manifest(app_dir, {"processes": {"web": {}}, "kubernetes": {"patches": [PRIVILEGED]}})
    again = push(paas, app_dir, app, images.v2)
    assert again.returncode == 5, again.stderr
    assert "this patch is refused" in again.stderr
    assert [r["version"] for r in releases(paas, app)] == ["v1"]
    deployment = kube_json(kubectl, "-n", app, "get", "deployment", f"{app}-web")
    context = deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]
    assert "privileged" not in context
    assert "release=v1" in wait_for_body(app, "release=v1")


def test_a_namespace_paas_did_not_create_is_left_alone(
    paas: Paas, images: Images, app_dir: Path, kubectl: list[str]
) -> None:
    name = f"e2e-foreign-{uuid.uuid4().hex[:6]}"
    kube(kubectl, "create", "namespace", name)
    try:
        before = kube_json(kubectl, "get", "namespace", name)["metadata"]
        manifest(app_dir, {"processes": {"web": {}}})
        refused = push(paas, app_dir, name, images.v1)
        assert refused.returncode == 2, refused.stderr
        assert (
            f"error: App `{name}` is refused: namespace `{name}` exists and was not created by "
            "paas; paas only touches namespaces it created, and left this one unchanged.\n"
            "hint: Pick another app name (`--app`), or set `namespace_prefix` in the cluster "
            "settings.\n"
        ) in refused.stderr
        after = kube_json(kubectl, "get", "namespace", name)["metadata"]
        assert after.get("labels") == before.get("labels")
        assert after.get("annotations") == before.get("annotations")
        for kind in ("leases", "secrets", "deployments", "serviceaccounts"):
            items = kube_json(kubectl, "-n", name, "get", kind)["items"]
            assert [
                i["metadata"]["name"] for i in items if i["metadata"]["name"] != "default"
            ] == [], kind
        for command in (("config", "set", "A=1"), ("apps", "destroy", name, "--confirm", name)):
            args = command if command[0] == "apps" else (*command, "--app", name)
            result = paas(*args)
            assert result.returncode == 2, (command, result.stderr)
            assert "was not created by paas" in result.stderr
        assert kube(kubectl, "get", "namespace", name, check=False).returncode == 0
    finally:
        kube(kubectl, "delete", "namespace", name, "--wait=false", check=False)


def test_two_apps_cannot_claim_one_domain(
    paas: Paas, images: Images, app_dir: Path, app: str, other_app: str
) -> None:
    domain = f"www.{app}.example.com"
    manifest(app_dir, {"processes": {"web": {}}, "domains": [domain]})
    assert push(paas, app_dir, app, images.v1).returncode == 0

    taken = push(paas, app_dir, other_app, images.v2)
    assert taken.returncode == 2, taken.stderr
    assert (
        f"error: Domain `{domain}` is already served by app `{app}`; a domain belongs to one "
        in (taken.stderr)
    )
    manifest(app_dir, {"processes": {"web": {}}})
    assert push(paas, app_dir, other_app, images.v2).returncode == 0
    added = paas("domains", "add", domain, "--app", other_app)
    assert added.returncode == 2, added.stderr
    assert f"is already served by app `{app}`" in added.stderr
    assert [r["version"] for r in releases(paas, other_app)] == ["v1"]

    def served() -> str:
        response = httpx.get("http://127.0.0.1/", headers={"Host": domain}, timeout=5)
        return response.text if response.status_code == 200 else ""

    assert "release=v1" in wait_until(f"{domain} served", served)
    listed = json.loads(paas("domains", "--app", other_app, "--json").stdout)
    assert listed["custom"] == []
