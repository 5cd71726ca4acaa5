"""A thin, fast layer over the kubernetes client: server-side apply, get, list, delete.

paas works with a fixed set of kinds, so paths are computed from apiVersion and
kind instead of discovered: no discovery round-trips, which keeps `paas ps` and
`paas apps` well under a second. Requests go through the official client's
ApiClient, which handles kubeconfig auth and TLS.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from paas.errors import ClusterError, NotFoundError
from paas.kube import UNREACHABLE_HINT
from paas.objects import Obj

if TYPE_CHECKING:
    from paas.kube.transport import Transport

FIELD_MANAGER = "paas"
TIMEOUT = 30

# Kinds whose plural is not `kind.lower() + "s"`.
_PLURALS = {
    "Ingress": "ingresses",
    "IngressClass": "ingressclasses",
    "StorageClass": "storageclasses",
    "NetworkPolicy": "networkpolicies",
    "Endpoints": "endpoints",
}
_CLUSTER_SCOPED = {
    "Namespace",
    "Node",
    "IngressClass",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "StorageClass",
}


class KubeApiError(ClusterError):
    """The API server answered with an error status."""

    def __init__(self, message: str, hint: str = "", *, status: int = 0, reason: str = "") -> None:
        super().__init__(message, hint)
        self.status = status
        self.reason = reason


def resource_path(
    api_version: str, kind: str, namespace: str | None = None, name: str | None = None
) -> str:
    """The REST path of a collection or of one object."""
    base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    plural = _PLURALS.get(kind, kind.lower() + "s")
    path = base
    if namespace and kind not in _CLUSTER_SCOPED:
        path += f"/namespaces/{namespace}"
    path += f"/{plural}"
    if name:
        path += f"/{name}"
    return path


def object_path(obj: Obj) -> str:
    """The REST path of `obj`, from its apiVersion, kind, namespace and name."""
    meta = obj["metadata"]
    return resource_path(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])


def seconds_since(stamp: str, now: float | None = None) -> float:
    """Seconds from an API time stamp (RFC 3339, UTC) to `now`; 0.0 when `stamp` is empty."""
    import calendar
    import time

    if not stamp:
        return 0.0
    then = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    return (time.time() if now is None else now) - then


def timestamp(*, micro: bool = False) -> str:
    """Now as the API writes times (RFC 3339, UTC); `micro` for a MicroTime (Lease renewals)."""
    import time

    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    return f"{stamp}.000000Z" if micro else f"{stamp}Z"


def describe(obj: Obj) -> str:
    """`Deployment hello-web`, for messages."""
    return f"{obj['kind']} `{obj['metadata']['name']}`"


def error_of(status: int, reason: str, data: bytes) -> NotFoundError | KubeApiError:
    """The error of an error answer: its Status's message, NotFoundError for 404."""
    try:
        decoded = json.loads(data)
    except ValueError:
        decoded = None
    if not isinstance(decoded, dict):
        decoded = {"message": data.decode(errors="replace")[:300]}
    message = decoded.get("message") or reason
    if status == 404:
        return NotFoundError(str(message))
    return KubeApiError(str(message), status=status, reason=str(decoded.get("reason", "")))


class Kube:
    """One cluster, as the current kubeconfig (or `context`) names it.

    How requests go is chosen once, here: the fast transport when the
    kubeconfig is one it reads, else the official client (loaded now, so an
    unusable kubeconfig fails here as it always has).
    """

    def __init__(self, context: str | None = None) -> None:
        from paas.kube.kubeconfig import Endpoint, find_endpoint

        self.context = context
        self._client: Any = None
        self.transport: Transport | None = None
        found = find_endpoint(context)
        if isinstance(found, Endpoint):
            import ssl

            from paas import __version__
            from paas.kube.transport import Transport

            try:
                self.transport = Transport(found, user_agent=f"paas/{__version__}")
            except (ssl.SSLError, OSError, ValueError):
                self.transport = None  # the official client reports the unusable CA or key
        if self.transport is None:
            from paas.kube import load_client

            self._client = load_client(context)

    @property
    def client(self) -> Any:
        """The official client's ApiClient (exec and attach use it); loaded on first use."""
        if self._client is None:
            from paas.kube import load_client

            self._client = load_client(self.context)
        return self._client

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float = TIMEOUT,
    ) -> Any:
        """Send one request; return the decoded JSON answer.

        Raises:
            NotFoundError: 404.
            KubeApiError: any other error status, or the server cannot be reached.
        """
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        if self.transport is None:
            status, reason, data = self._official_request(
                method, path, query, body, headers, timeout
            )
        else:
            from paas.kube.transport import UnreachableError

            payload = None if body is None else json.dumps(body).encode()
            try:
                answer = self.transport.request(
                    method, path, query=query, body=payload, headers=headers, timeout=timeout
                )
            except UnreachableError as exc:
                raise KubeApiError(f"cannot reach the cluster: {exc}", UNREACHABLE_HINT) from None
            status, reason, data = answer.status, answer.reason, answer.data
        if status >= 400:
            raise error_of(status, reason, data)
        return json.loads(data) if data else None

    def _official_request(
        self,
        method: str,
        path: str,
        query: dict[str, Any] | None,
        body: Any,
        headers: dict[str, str],
        timeout: float,
    ) -> tuple[int, str, bytes]:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        params = self.client.param_serialize(
            method=method,
            resource_path=path,
            query_params=list((query or {}).items()),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response = self.client.call_api(*params, _request_timeout=timeout)
            data = response.read()
        except (HTTPError, OSError, ApiException) as exc:
            raise KubeApiError(f"cannot reach the cluster: {exc}", UNREACHABLE_HINT) from None
        return response.status, str(response.reason), data

    def apply(self, obj: Obj, *, dry_run: bool = False) -> Obj:
        """Server-side apply `obj` as field manager `paas`, taking over conflicting fields."""
        query = {"fieldManager": FIELD_MANAGER, "force": "true"}
        if dry_run:
            query["dryRun"] = "All"
        try:
            result: Obj = self.request(
                "PATCH",
                object_path(obj),
                query=query,
                body=obj,
                content_type="application/apply-patch+yaml",
            )
        except KubeApiError as exc:
            raise exc.wrap(f"applying {describe(obj)}") from None
        return result

    def get(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        *,
        timeout: float | None = None,
    ) -> Obj | None:
        """One object, or None when it does not exist."""
        try:
            found: Obj = self.request(
                "GET",
                resource_path(api_version, kind, namespace, name),
                timeout=TIMEOUT if timeout is None else timeout,
            )
        except NotFoundError:
            return None
        return found

    def list(
        self, api_version: str, kind: str, namespace: str | None = None, *, selector: str = ""
    ) -> list[Obj]:
        """Every object of a kind (in `namespace`, or in all) matching a label selector."""
        query = {"labelSelector": selector} if selector else {}
        try:
            answer = self.request("GET", resource_path(api_version, kind, namespace), query=query)
        except NotFoundError:
            return []
        items: list[Obj] = answer.get("items", [])
        for item in items:  # list items carry no apiVersion/kind
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def create(self, obj: Obj) -> Obj:
        """Create `obj`; fail with status 409 when it exists already."""
        meta = obj["metadata"]
        path = resource_path(obj["apiVersion"], obj["kind"], meta.get("namespace"))
        created: Obj = self.request("POST", path, body=obj)
        return created

    def replace(self, obj: Obj) -> Obj:
        """Replace `obj` (optimistic concurrency through its resourceVersion)."""
        replaced: Obj = self.request("PUT", object_path(obj), body=obj)
        return replaced

    def merge_patch(
        self, api_version: str, kind: str, namespace: str | None, name: str, patch: Obj
    ) -> Obj:
        """A JSON merge patch of one object."""
        patched: Obj = self.request(
            "PATCH",
            resource_path(api_version, kind, namespace, name),
            body=patch,
            content_type="application/merge-patch+json",
        )
        return patched

    def delete(
        self,
        api_version: str,
        kind: str,
        namespace: str | None,
        name: str,
        *,
        grace_seconds: int | None = None,
    ) -> bool:
        """Delete one object (its dependents in the background); False when it was already gone."""
        body: Obj = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        if grace_seconds is not None:
            body["gracePeriodSeconds"] = grace_seconds
        try:
            self.request("DELETE", resource_path(api_version, kind, namespace, name), body=body)
        except NotFoundError:
            return False
        return True
