"""Pod logs: read once, or followed line by line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from paas.kube.api import Kube, resource_path


def stream_log(
    kube: Kube,
    namespace: str,
    pod: str,
    *,
    container: str | None = None,
    follow: bool = True,
    tail: int | None = None,
    since_seconds: int | None = None,
    timestamps: bool = False,
    timeout: float | None = None,
) -> Iterator[str]:
    """Yield the lines of a pod's log as they come; ends when the container stops.

    Lines carry no trailing newline. With `timestamps`, each starts with the
    RFC 3339 time the kubelet recorded, then a space.
    """
    query: dict[str, Any] = {
        "follow": "true" if follow else "false",
        "timestamps": "true" if timestamps else "false",
    }
    if container:
        query["container"] = container
    if tail is not None:
        query["tailLines"] = str(tail)
    if since_seconds is not None:
        query["sinceSeconds"] = str(since_seconds)
    params = kube.client.param_serialize(
        method="GET",
        resource_path=resource_path("v1", "Pod", namespace, pod) + "/log",
        query_params=list(query.items()),
        header_params={"Accept": "*/*"},
        auth_settings=["BearerToken"],
    )
    response = kube.client.call_api(*params, _request_timeout=timeout)
    raw = response.response
    if response.status >= 400:
        raw.release_conn()
        return
    buffer = b""
    try:
        for chunk in raw.stream(4096, decode_content=True):
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                yield line.decode(errors="replace")
        if buffer:
            yield buffer.decode(errors="replace")
    finally:
        raw.release_conn()
