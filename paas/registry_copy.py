"""Copy an image by digest from one registry to another (for `paas promote`).

The registry HTTP API only: the manifest (or index, with each of its
manifests) is copied byte for byte, so the digest stays the same; each blob is
sent only when the target lacks it, streamed from the source. No daemon, no
image on disk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from paas.errors import RegistryError
from paas.registry import MANIFEST_TYPES, ImageRef, _client, _send

if TYPE_CHECKING:
    import httpx

_CHUNK = 1 << 20


class _Side:
    """One end of the copy: a registry, a repository, a client."""

    def __init__(self, ref: ImageRef, insecure: bool, timeout: float) -> None:
        self.ref = ref
        self.base = f"{'http' if insecure else 'https'}://{ref.registry}/v2/{ref.repository}"
        self.client = _client(ref, timeout)

    def send(self, method: str, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        """A request with no body, answering a bearer-token challenge."""
        return _send(self.client, method, url, headers or {})


def copy_image(
    ref: str,
    repository: str,
    *,
    source_insecure: bool = False,
    target_insecure: bool = False,
    timeout: float = 300,
) -> str:
    """Copy image `ref` (by digest) to `repository` (`registry/path`); return it there by digest.

    Raises:
        RegistryError: either registry cannot be reached or refuses, or `ref` has no digest.
    """
    import httpx

    image = ImageRef.parse(ref)
    if not image.digest:
        raise RegistryError(f"`{ref}` is not pinned to a digest", "Copy images by digest.")
    target = ImageRef.parse(f"{repository}@{image.digest}")
    source_side = _Side(image, source_insecure, timeout)
    target_side = _Side(target, target_insecure, timeout)
    try:
        with source_side.client, target_side.client:
            _copy_manifest(source_side, target_side, image.digest)
    except httpx.HTTPError as exc:
        raise RegistryError(
            f"copying `{ref}` to `{repository}` failed: {type(exc).__name__}: {exc}",
            "Check that both registries are reachable and the credentials allow "
            "reading the one and writing the other.",
        ) from None
    return target.by_digest(image.digest)


def _copy_manifest(source: _Side, target: _Side, digest: str) -> None:
    """Copy the manifest `digest` and everything it names, children first."""
    response = source.send("GET", f"{source.base}/manifests/{digest}", {"Accept": MANIFEST_TYPES})
    _ok(response, source, f"manifest {digest}")
    body = response.content
    media_type = response.headers.get("content-type", "").split(";")[0]
    document = json.loads(body)
    media_type = document.get("mediaType") or media_type
    if "manifests" in document:
        for child in document["manifests"]:
            _copy_manifest(source, target, child["digest"])
    else:
        for blob in [document["config"], *document.get("layers", [])]:
            _copy_blob(source, target, blob["digest"], int(blob.get("size", 0)))
    put = target.client.put(
        f"{target.base}/manifests/{digest}", headers={"Content-Type": media_type}, content=body
    )
    _ok(put, target, f"manifest {digest}", want=(201, 200))


def _copy_blob(source: _Side, target: _Side, digest: str, size: int) -> None:
    """Send blob `digest` unless the target has it (in this repository, or mounted)."""
    head = target.send("HEAD", f"{target.base}/blobs/{digest}")
    if head.status_code == 200:
        return
    start = target.send("POST", f"{target.base}/blobs/uploads/", {"Content-Length": "0"})
    _ok(start, target, "a blob upload", want=(202,))
    location = start.headers.get("location", "")
    if location.startswith("/"):
        location = f"{target.base.split('/v2/')[0]}{location}"
    separator = "&" if "?" in location else "?"
    with source.client.stream("GET", f"{source.base}/blobs/{digest}") as blob:
        _ok(blob, source, f"blob {digest}")
        put = target.client.put(
            f"{location}{separator}digest={digest}",
            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)},
            content=_chunks(blob),
        )
    _ok(put, target, f"blob {digest}", want=(201,))


def _chunks(response: httpx.Response) -> Iterator[bytes]:
    yield from response.iter_bytes(_CHUNK)


def _ok(response: httpx.Response, side: _Side, what: str, want: tuple[int, ...] = (200,)) -> None:
    if response.status_code not in want:
        raise RegistryError(
            f"registry `{side.ref.registry}` answered {response.status_code} for {what} "
            f"of `{side.ref.repository}`",
            "Check that the image exists and the credentials allow reading the source "
            "and writing the target.",
        )
