"""What an app may claim on a shared cluster: its own namespace, and hosts no one else routes.

The decisions are pure (`paas.render.policy`); this module reads the cluster for them.
"""

from __future__ import annotations

from paas.errors import UsageError
from paas.kube.api import Kube
from paas.objects import Obj
from paas.render.policy import hosts_taken, ingress_hosts, namespace_owner_problem


def check_namespace(kube: Kube, app: str, namespace: str) -> Obj | None:
    """Return the app's namespace (None when there is none yet) if paas may touch it.

    Raises:
        UsageError: the namespace exists and paas did not create it for `app`.
    """
    found = kube.get("v1", "Namespace", None, namespace)
    if found is not None and (problem := namespace_owner_problem(found, app)):
        raise UsageError(
            f"App `{app}` is refused: {problem}; paas only touches namespaces it created, "
            "and left this one unchanged.",
            "Pick another app name (`--app`), or set `namespace_prefix` in the cluster settings.",
        )
    return found


def check_hosts(
    kube: Kube, app: str, namespace: str, objects: list[Obj], *, gateway: bool = False
) -> None:
    """Refuse hosts in `objects`' routes that another namespace's Ingress routes already.

    With `gateway` (the cluster has a Gateway for apps), HTTPRoutes count too.

    Raises:
        UsageError: a host belongs to another app (or another Ingress on the cluster).
    """
    hosts = ingress_hosts(objects)
    if not hosts:
        return
    routes = kube.list("networking.k8s.io/v1", "Ingress")
    if gateway:
        routes += kube.list("gateway.networking.k8s.io/v1", "HTTPRoute")
    taken = hosts_taken(hosts, routes, namespace)
    if taken:
        host, who = taken[0]
        raise UsageError(
            f"Domain `{host}` is already served by {who}; a domain belongs to one app.",
            f"Remove `{host}` from the other app first (`paas domains remove {host} --app ...`), "
            "or pick another domain.",
        )
