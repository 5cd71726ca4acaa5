"""The rights `paas doctor --print-role` prints are enough: doctor as a service account bound to them.

A ServiceAccount with no rights fails the permissions check, naming what is
missing; once the printed ClusterRoles and Role are applied for it, `paas
doctor` finds every right present.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
from deploy_helpers import Paas
from test_deploy_more import kube

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]


def _kubeconfig_for(kubectl: list[str], namespace: str, account: str, path: Path) -> Path:
    token = kube(kubectl, "-n", namespace, "create", "token", account).stdout.strip()
    view = kube(kubectl, "config", "view", "--raw", "--minify", "-o", "json").stdout
    config = json.loads(view)
    config["users"] = [{"name": account, "user": {"token": token}}]
    config["contexts"][0]["context"]["user"] = account
    path.write_text(json.dumps(config))
    return path


def test_the_printed_role_grants_every_right_doctor_checks(
    paas: Paas, kubectl: list[str], tmp_path: Path
) -> None:
    namespace = f"e2e-rbac-{uuid.uuid4().hex[:6]}"
    names = [f"{namespace}-cluster", f"{namespace}-apps"]
    kube(kubectl, "create", "namespace", namespace)
    try:
        kube(kubectl, "-n", namespace, "create", "serviceaccount", "deployer")
        config = _kubeconfig_for(kubectl, namespace, "deployer", tmp_path / "kubeconfig")
        as_deployer = Paas({**paas.env, "KUBECONFIG": str(config)})
        bare = as_deployer("doctor")
        assert bare.returncode == 1
        flat = " ".join(bare.stdout.split())
        assert "permissions FAIL" in flat, bare.stdout
        assert "rights missing: `get namespaces` (for every app command" in flat
        role = paas("doctor", "--print-role", "--subject", f"sa:{namespace}/deployer", check=True)
        # Unique names, so the test leaves the cluster's own bindings alone.
        text = role.stdout
        for old, new in (
            ("name: paas-cluster", f"name: {names[0]}"),
            ("name: paas-apps", f"name: {names[1]}"),
            ("name: paas-settings-reader", f"name: {namespace}-settings"),
        ):
            text = text.replace(old, new)
        subprocess.run(
            [*kubectl, "apply", "-f", "-"], input=text, text=True, check=True, capture_output=True
        )
        bound = as_deployer("doctor")
        lines = {line.split()[0]: line for line in bound.stdout.splitlines() if line.strip()}
        assert " ok " in lines["permissions"], bound.stdout
        assert "all " in lines["permissions"]
    finally:
        for name in names:
            kube(
                kubectl,
                "delete",
                "clusterrole,clusterrolebinding",
                name,
                "--ignore-not-found",
                check=False,
            )
        kube(
            kubectl,
            "-n",
            "paas-system",
            "delete",
            "role,rolebinding",
            f"{namespace}-settings",
            "--ignore-not-found",
            check=False,
        )
        kube(kubectl, "delete", "namespace", namespace, "--wait=false", check=False)
