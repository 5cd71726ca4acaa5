"""Every Kubernetes right the commands use: `paas doctor` checks them, `--print-role` prints them.

Pure data and a pure renderer: no I/O. Each right names the commands that
need it, so a missing one is reported as what it stops. A unit test reads the
code's cluster calls and the rendered kinds and fails when one is not here.

Scopes:
    cluster: cluster-scoped resources (namespaces, storage classes): a ClusterRole.
    apps: inside the apps' namespaces, which paas creates one per app, so
        granted by a ClusterRole bound cluster-wide.
    system: inside `paas-system`, where `paas cluster init` keeps the settings: a Role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Scope = Literal["cluster", "apps", "system"]

SYSTEM_NAMESPACE = "paas-system"
CHANGES = "push, config set/unset, ps scale, domains add/remove, rollback"
READS = "releases, config, ps, domains, logs, diff"


@dataclass(frozen=True)
class Right:
    """One (verb, resource, API group) a command sends, where, and which commands need it."""

    verb: str
    resource: str  # plural, with `/subresource` when there is one
    group: str  # "" for the core group
    scope: Scope
    needed_by: str

    @property
    def name(self) -> str:
        """`create pods/attach`, `patch deployments.apps`: as `kubectl auth can-i` writes it."""
        plural, slash, sub = self.resource.partition("/")
        qualified = f"{plural}.{self.group}" if self.group else plural
        return f"{self.verb} {qualified}{slash}{sub}"


def _rights(verbs: str, resource: str, group: str, scope: Scope, needed_by: str) -> list[Right]:
    return [Right(v, resource, group, scope, needed_by) for v in verbs.split()]


# What a deploy applies (server-side apply: patch, and create for a new object),
# and, for the kinds it prunes when a process type goes away, list and delete.
_APPLIED = (
    ("serviceaccounts", "", "get patch create", f"{CHANGES} (apply)"),
    ("services", "", "list patch create delete", f"{CHANGES} (apply, prune)"),
    (
        "deployments",
        "apps",
        "get list patch create delete",
        f"{CHANGES}, ps restart (apply, wait, prune)",
    ),
    (
        "ingresses",
        "networking.k8s.io",
        "list patch create delete",
        f"{CHANGES} (apply, prune; listed in every namespace: a domain belongs to one app)",
    ),
    (
        "httproutes",
        "gateway.networking.k8s.io",
        "list get patch create delete",
        f"{CHANGES} (apply, prune; on clusters with a Gateway: routing `gateway`)",
    ),
    ("poddisruptionbudgets", "policy", "list patch create delete", f"{CHANGES} (apply, prune)"),
    (
        "horizontalpodautoscalers",
        "autoscaling",
        "list patch create delete",
        f"{CHANGES} (apply, prune); ps (an autoscaled process's HPA status)",
    ),
    ("cronjobs", "batch", "list patch create delete", f"{CHANGES} (apply, prune)"),
    (
        "jobs",
        "batch",
        "get patch create delete",
        "push (release phase, postdeploy; history pruning)",
    ),
)

RIGHTS: tuple[Right, ...] = tuple(
    [
        *_rights("get list", "namespaces", "", "cluster", f"every app command, apps ({READS})"),
        *_rights(
            "create patch", "namespaces", "", "cluster", f"push, apps create, builds ({CHANGES})"
        ),
        *_rights(
            "delete",
            "namespaces",
            "",
            "cluster",
            "apps destroy, git push (a review branch deleted)",
        ),
        *_rights(
            "list",
            "storageclasses",
            "storage.k8s.io",
            "cluster",
            "push --strategy cluster, addons create, doctor",
        ),
        *_rights(
            "get",
            "customresourcedefinitions",
            "apiextensions.k8s.io",
            "cluster",
            "cluster init (whether the Gateway API is installed)",
        ),
        *_rights("get", "configmaps", "", "system", "every command (the cluster settings)"),
        *_rights(
            "get", "secrets", "", "system", "builds with registry mirrors (their credentials)"
        ),
        *_rights(
            "list", "secrets", "", "system", "receiver serve, receiver token list (the tokens)"
        ),
        *_rights("create", "secrets", "", "system", "receiver token create"),
        *_rights("update", "secrets", "", "system", "receiver token revoke"),
        *_rights(
            "get", "persistentvolumeclaims", "", "system", "receiver status (the repositories)"
        ),
        *_rights("get", "ingresses", "networking.k8s.io", "system", "receiver status (its URL)"),
        *_rights(
            "get create update",
            "leases",
            "coordination.k8s.io",
            "apps",
            f"{CHANGES} (the app lock)",
        ),
        *_rights("get list", "secrets", "", "apps", f"{READS}, {CHANGES} (release records)"),
        *_rights(
            "create patch delete",
            "secrets",
            "",
            "apps",
            f"{CHANGES} (release records, config; history pruning)",
        ),
        *[
            r
            for kind, group, verbs, by in _APPLIED
            for r in _rights(verbs, kind, group, "apps", by)
        ],
        *_rights("list", "replicasets", "apps", "apps", f"{CHANGES} (explaining a failed rollout)"),
        *_rights(
            "get list", "pods", "", "apps", f"ps, logs, run, {CHANGES} (wait for the rollout)"
        ),
        *_rights("create delete", "pods", "", "apps", "run, push --strategy cluster"),
        *_rights(
            "get",
            "pods/log",
            "",
            "apps",
            "logs, run, push (release phase, build output, a failed rollout's log)",
        ),
        *_rights("create get", "pods/attach", "", "apps", "run (with a terminal)"),
        *_rights(
            "create get", "pods/exec", "", "apps", "push --strategy cluster (sending the source)"
        ),
        *_rights("list", "events", "", "apps", f"{CHANGES} (explaining a failed rollout)"),
        *_rights(
            "list",
            "endpointslices",
            "discovery.k8s.io",
            "apps",
            f"{CHANGES} (live once the router sends the new release every request)",
        ),
        *_rights(
            "create patch",
            "persistentvolumeclaims",
            "",
            "apps",
            "push --strategy cluster (build cache)",
        ),
        *_rights(
            "list patch create delete",
            "configmaps",
            "",
            "apps",
            "addons (add-on records; listed in every namespace: a name belongs to one add-on)",
        ),
        *_rights("patch create delete", "statefulsets", "apps", "apps", "addons create, destroy"),
        *_rights(
            "patch create delete",
            "networkpolicies",
            "networking.k8s.io",
            "apps",
            "addons create, attach, detach, destroy",
        ),
        *_rights("delete", "persistentvolumeclaims", "", "apps", "addons destroy (its volume)"),
    ]
)


def role_objects(
    rights: tuple[Right, ...] = RIGHTS,
    *,
    subject: str = "group:paas-deployers",
    prefix: str = "paas",
) -> list[dict[str, Any]]:
    """The RBAC objects that grant `rights` to `subject`: `group:NAME`, `user:NAME`, `sa:NS/NAME`.

    The roles are named `PREFIX-cluster`, `PREFIX-apps` and `PREFIX-settings-reader`.

    A ClusterRole for the cluster-scoped rights, a ClusterRole for the rights
    in the apps' namespaces (bound cluster-wide, since paas makes a namespace
    per app), and a Role in paas-system; each with its binding.
    """
    kind, _, name = subject.partition(":")
    if kind == "sa":
        namespace, _, account = name.partition("/")
        who: dict[str, Any] = {"kind": "ServiceAccount", "name": account, "namespace": namespace}
    else:
        who = {
            "kind": "User" if kind == "user" else "Group",
            "name": name,
            "apiGroup": "rbac.authorization.k8s.io",
        }
    labels = {"app.kubernetes.io/managed-by": "paas"}
    out: list[dict[str, Any]] = []
    for scope, role_kind, role_name in (
        ("cluster", "ClusterRole", f"{prefix}-cluster"),
        ("apps", "ClusterRole", f"{prefix}-apps"),
        ("system", "Role", f"{prefix}-settings-reader"),
    ):
        meta: dict[str, Any] = {"name": role_name, "labels": labels}
        if role_kind == "Role":
            meta["namespace"] = SYSTEM_NAMESPACE
        out.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": role_kind,
                "metadata": meta,
                "rules": _rules([r for r in rights if r.scope == scope]),
            }
        )
        binding_meta = dict(meta)
        out.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding" if role_kind == "Role" else "ClusterRoleBinding",
                "metadata": binding_meta,
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": role_kind,
                    "name": role_name,
                },
                "subjects": [who],
            }
        )
    return out


def _rules(rights: list[Right]) -> list[dict[str, Any]]:
    """RBAC rules, one per (group, resource), verbs in a stable order."""
    by_resource: dict[tuple[str, str], list[str]] = {}
    for right in rights:
        verbs = by_resource.setdefault((right.group, right.resource), [])
        if right.verb not in verbs:
            verbs.append(right.verb)
    return [
        {"apiGroups": [group], "resources": [resource], "verbs": sorted(verbs)}
        for (group, resource), verbs in by_resource.items()
    ]
