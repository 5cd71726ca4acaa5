"""The rights table is what the code uses: every cluster call and rendered kind has its right."""

from __future__ import annotations

import ast
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from unit_helpers import run_paas

from paas.deploy import PRUNABLE
from paas.doctor import ROLE_HINT, missing_rights_message
from paas.kube.api import resource_path
from paas.kube.store import LOCK_KIND
from paas.rights import RIGHTS, Right, role_objects

ROOT = Path(__file__).resolve().parents[2]
PAAS = ROOT / "paas"
GRANTED = {(r.verb, r.resource, r.group) for r in RIGHTS}

# Kube's methods, and the verb each sends (server-side apply may create the object too).
VERBS = {
    "get": ("get",),
    "list": ("list",),
    "apply": ("patch", "create"),
    "create": ("create",),
    "replace": ("update",),
    "merge_patch": ("patch",),
    "delete": ("delete",),
}
# Calls that reach the API outside Kube's verbs, by the name they are made with.
SPECIAL = {
    "stream_log": [("get", "pods/log", "")],
    "connect_get_namespaced_pod_exec": [("create", "pods/exec", ""), ("get", "pods/exec", "")],
    "connect_get_namespaced_pod_attach": [
        ("create", "pods/attach", ""),
        ("get", "pods/attach", ""),
    ],
}


def _kind_args(call: ast.Call) -> tuple[str, str] | None:
    """The (apiVersion, kind) a call names by literal strings, or through `*LOCK_KIND`."""
    args = call.args
    if (
        args
        and isinstance(args[0], ast.Starred)
        and getattr(args[0].value, "id", "") == "LOCK_KIND"
    ):
        return LOCK_KIND
    if len(args) >= 2 and all(
        isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args[:2]
    ):
        version, kind = args[0].value, args[1].value  # type: ignore[attr-defined]
        if (version == "v1" or "/v" in version) and kind[:1].isupper():
            return version, kind
    return None


def _resource(version: str, kind: str) -> tuple[str, str]:
    plural = resource_path(version, kind).rsplit("/", 1)[-1]
    return plural, version.split("/")[0] if "/" in version else ""


def calls_in_code() -> dict[tuple[str, str, str], list[str]]:
    """Every (verb, resource, group) the package's source sends, with where."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for path in sorted(PAAS.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            for right in SPECIAL.get(name, []):
                found.setdefault(right, []).append(where)
            for arg in node.args:  # the exec/attach functions are passed to `stream(...)`
                for right in SPECIAL.get(getattr(arg, "attr", ""), []):
                    found.setdefault(right, []).append(where)
            named = _kind_args(node) if name in VERBS else None
            if named is None:
                continue
            if name == "get" and not isinstance(node.func, ast.Attribute):
                continue
            plural, group = _resource(*named)
            for verb in VERBS[name]:
                found.setdefault((verb, plural, group), []).append(where)
    return found


def test_the_scan_sees_the_calls_it_must() -> None:
    # The scan itself: a few calls known to be in the code, so it cannot pass by finding none.
    found = calls_in_code()
    for right in (
        ("list", "secrets", ""),
        ("delete", "namespaces", ""),
        ("get", "leases", "coordination.k8s.io"),
        ("list", "replicasets", "apps"),
        ("get", "pods/log", ""),
        ("create", "pods/attach", ""),
    ):
        assert right in found, right
    assert len(found) >= 20


def test_every_cluster_call_in_the_code_has_its_right() -> None:
    missing = {right: where for right, where in calls_in_code().items() if right not in GRANTED}
    assert missing == {}, "add these to paas/rights.py"


def test_the_lock_renewal_events_and_reviews_are_granted() -> None:
    # Raw requests: the lock's renewal (PUT), the rollout's events (GET list).
    assert ("update", "leases", "coordination.k8s.io") in GRANTED
    assert ("create", "leases", "coordination.k8s.io") in GRANTED
    assert ("list", "events", "") in GRANTED


def test_every_kind_paas_renders_can_be_applied_and_pruned() -> None:
    kinds = {
        (doc["apiVersion"], doc["kind"])
        for golden in (ROOT / "tests" / "golden").glob("*.yaml")
        for doc in yaml.safe_load_all(golden.read_text())
        if doc
    }
    assert ("batch/v1", "CronJob") in kinds
    for version, kind in kinds:
        plural, group = _resource(version, kind)
        scope = "cluster" if kind == "Namespace" else "apps"
        for verb in ("patch", "create"):
            assert (verb, plural, group) in GRANTED, (verb, kind)
            assert any(
                r.scope == scope and (r.verb, r.resource, r.group) == (verb, plural, group)
                for r in RIGHTS
            )
    for version, kind in PRUNABLE:
        plural, group = _resource(version, kind)
        assert ("list", plural, group) in GRANTED
        assert ("delete", plural, group) in GRANTED


def test_the_rights_are_unique_and_name_what_needs_them() -> None:
    keys = [(r.verb, r.resource, r.group, r.scope) for r in RIGHTS]
    assert len(keys) == len(set(keys))
    assert all(r.needed_by for r in RIGHTS)
    assert Right("create", "pods/attach", "", "apps", "run").name == "create pods/attach"
    assert Right("patch", "deployments", "apps", "apps", "push").name == "patch deployments.apps"


def test_a_missing_right_is_named_with_the_commands_that_need_it() -> None:
    missing = [
        Right("create", "pods/attach", "", "apps", "run (with a terminal)"),
        Right("get", "configmaps", "", "system", "every command (the cluster settings)"),
    ]
    assert missing_rights_message(missing, 61) == (
        "2 of 61 rights missing: `create pods/attach` (for run (with a terminal)); "
        "`get configmaps` in paas-system (for every command (the cluster settings))"
    )
    assert ROLE_HINT == (
        "`paas doctor --print-role` prints a ClusterRole and a Role with every right; "
        "have a cluster admin apply it (`kubectl apply -f`)."
    )


def test_print_role_grants_exactly_the_rights_and_is_valid_rbac() -> None:
    result = run_paas("doctor", "--print-role", "--subject", "sa:ci/deployer")
    assert result.returncode == 0, result.stderr
    objects = list(yaml.safe_load_all(result.stdout))
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("ClusterRole", "paas-cluster"),
        ("ClusterRoleBinding", "paas-cluster"),
        ("ClusterRole", "paas-apps"),
        ("ClusterRoleBinding", "paas-apps"),
        ("Role", "paas-settings-reader"),
        ("RoleBinding", "paas-settings-reader"),
    ]
    for obj in objects:
        kubernetes_validate.validate(obj, "1.33.0", strict=True)
    granted = {
        (verb, resource, group, obj["metadata"]["name"])
        for obj in objects
        if obj["kind"].endswith("Role")
        for rule in obj["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    role = {"cluster": "paas-cluster", "apps": "paas-apps", "system": "paas-settings-reader"}
    assert granted == {(r.verb, r.resource, r.group, role[r.scope]) for r in RIGHTS}
    assert objects[1]["subjects"] == [
        {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}
    ]
    assert objects[4]["metadata"]["namespace"] == "paas-system"
    assert role_objects(subject="user:jane@example.com")[1]["subjects"] == [
        {"kind": "User", "name": "jane@example.com", "apiGroup": "rbac.authorization.k8s.io"}
    ]


@pytest.mark.parametrize("subject", ["jane", "sa:Bad_NS/x", "robot:x", "group:"])
def test_a_bad_subject_is_a_usage_error(subject: str) -> None:
    result = run_paas("doctor", "--print-role", "--subject", subject)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"error: `--subject {subject}` is not a user, group or service account\n"
        "hint: Write it like `group:developers`, `user:jane@example.com` or `sa:ci/deployer`.\n"
    )
