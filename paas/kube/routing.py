"""Live means routed: after a rollout, wait until the router sends every new request to it.

A Deployment is rolled out once the new pods are ready and the old ones are
going, but the router still sends requests to the old pods until two things
happen: the EndpointSlices drop them (the endpoint controller sees the pods
terminating), and the router acts on that change (Traefik applies provider
changes at most once per `providersThrottleDuration`, 2 s by default). The old
pods keep answering meanwhile (their preStop sleep), so nothing fails, but a
request sent right after "Released v8" could still be answered by v7.

`wait_routed` waits for the first on the API (no ready endpoint of a pod of
another release) and then for the second by time: the router's settle time,
a cluster setting (`router_settle_seconds`), counted from when the
EndpointSlices were seen right.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from paas.kube.api import Kube
from paas.objects import Obj

POLL_SECONDS = 0.1


def stale_endpoints(slices: Iterable[Obj], current: set[str]) -> list[str]:
    """Names of the pods that `slices` still route to although not of the new release.

    An endpoint is routed to while its `ready` condition is not False (a
    terminating endpoint is never ready); `current` holds the new release's pods.
    """
    stale = []
    for piece in slices:
        for endpoint in piece.get("endpoints") or []:
            target = endpoint.get("targetRef") or {}
            if target.get("kind") != "Pod":
                continue
            ready = (endpoint.get("conditions") or {}).get("ready")
            if ready is not False and target.get("name") not in current:
                stale.append(str(target.get("name")))
    return sorted(stale)


def wait_routed(
    kube: Kube,
    namespace: str,
    app: str,
    pod_release: str,
    services: list[str],
    *,
    settle: float,
    timeout: float = 30,
    clock: Callable[[], float] = time.monotonic,  # a fake clock and sleep for tests
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Wait until `services` route only to pods of `pod_release`, then the router's `settle`.

    Returns False when the EndpointSlices still listed old pods after `timeout`
    (the caller says routing follows); True once routed.
    """
    deadline = clock() + timeout
    for service in services:
        while True:
            pods = kube.list(
                "v1",
                "Pod",
                namespace,
                selector=f"paas.dev/app={app},paas.dev/release={pod_release}",
            )
            current = {p["metadata"]["name"] for p in pods}
            slices = kube.list(
                "discovery.k8s.io/v1",
                "EndpointSlice",
                namespace,
                selector=f"kubernetes.io/service-name={service}",
            )
            if not stale_endpoints(slices, current):
                break
            if clock() > deadline:
                return False
            sleep(POLL_SECONDS)
    sleep(settle)  # when the slices changed is not known: count from now
    return True


def route_accepted(route: Obj) -> bool:
    """Whether the router took `route`: an HTTPRoute accepted by a parent, an Ingress published."""
    status = route.get("status") or {}
    if route.get("kind") == "HTTPRoute":
        return any(
            c.get("type") == "Accepted" and c.get("status") == "True"
            for parent in status.get("parents") or []
            for c in parent.get("conditions") or []
        )
    return bool((status.get("loadBalancer") or {}).get("ingress"))


def wait_accepted(
    kube: Kube,
    route: Obj,
    *,
    settle: float,
    timeout: float = 30,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Wait until the router accepted `route` (as applied), then its `settle` time.

    False when it was not accepted within `timeout`.
    """
    meta = route["metadata"]
    deadline = clock() + timeout
    while True:
        found = kube.get(route["apiVersion"], route["kind"], meta["namespace"], meta["name"])
        if found is not None and route_accepted(found):
            sleep(settle)
            return True
        if clock() > deadline:
            return False
        sleep(POLL_SECONDS * 5)
