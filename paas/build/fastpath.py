"""The code-only fast path: a new image from the previous one, with only the app layer replaced.

When a push changes only app code and every buildpack of the previous image
declared that its output does not depend on it (`paas.build.codeonly`), the
new image is written straight into the registry: the previous image's
manifest and config with the app layer (`/workspace`) replaced by one made
from the new source, byte for byte as the lifecycle writes it
(`paas.build.applayer`), so its diffID, and with it the config, is what a full
build of the same source gives. Only the new layer, the config and the
manifest are uploaded.

Lineage: every CNB build (full or fast) also tags its image
``bld-KEY-IMAGE`` (`lineage_tag()`), KEY naming the builder's digest (resolved
right before the build) and the plan's inputs other than the source
(strategy, buildpacks, build env, which holds the detected web command), and
IMAGE the image's digest. The fast path requires that tag, with the current
builder's digest and this plan, on the previous image: a rebuilt builder or a
changed plan takes the full build.

`PAAS_FAST_PATH=0` (or `paas push --no-fast-path`) turns the fast path off.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from paas.build.applayer import MAX_LAYER_BYTES, LayerRefused, read_layer, write_layer
from paas.build.codeonly import (
    LIFECYCLE_METADATA,
    changed_paths,
    declared,
    new_layer_entries,
    refusal,
    source_entries,
)
from paas.build.plan import BuildPlan
from paas.errors import PaasError, RegistryError
from paas.registry import MANIFEST_TYPES, ImageRef, _client, _send, resolve_digest

if TYPE_CHECKING:
    from pathlib import Path

    import httpx

LINEAGE_PREFIX = "bld-"
ENV_SWITCH = "PAAS_FAST_PATH"
_MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)


class NotFast(Exception):  # noqa: N818 - a reason for the full build, not an error
    """The push takes the full build; the message says why."""


def enabled(env: Mapping[str, str]) -> bool:
    """Whether the fast path is on: unless ``PAAS_FAST_PATH`` is ``0``, ``false`` or ``no``."""
    return env.get(ENV_SWITCH, "1").strip().lower() not in ("0", "false", "no", "off")


def lineage_key(builder_digest: str, plan: BuildPlan) -> str:
    """40 hex digits naming the builder (by digest) and the plan's inputs other than the source."""
    inputs = {
        "builder": builder_digest,
        "strategy": plan.strategy,
        "buildpacks": list(plan.buildpacks),
        "env": plan.env,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:40]


def lineage_tag(key: str, image_digest: str) -> str:
    """The tag ``bld-KEY-IMAGE`` (IMAGE: 40 hex digits of the image's digest)."""
    return f"{LINEAGE_PREFIX}{key}-{image_digest.removeprefix('sha256:')[:40]}"


def builder_digest(plan: BuildPlan) -> str | None:
    """The digest the plan's builder reference names now (one HEAD); None if unknown."""
    if plan.builder is None:
        return None
    try:
        ref = resolve_digest(plan.builder, insecure=plan.insecure_registry)
    except PaasError:
        return None
    return ref.rpartition("@")[2]


class _Repo:
    """The app's repository in the registry: manifests and blobs."""

    def __init__(self, plan: BuildPlan) -> None:
        self.ref = ImageRef.parse(plan.repository)
        scheme = "http" if plan.insecure_registry else "https"
        self.base = f"{scheme}://{self.ref.registry}/v2/{self.ref.repository}"
        self.client = _client(self.ref, 60)

    def request(
        self, method: str, url: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        """A request without a body, answering a bearer-token challenge."""
        return _send(self.client, method, url, headers or {})

    def manifest(self, reference: str) -> tuple[bytes, str]:
        """The manifest `reference` names: its bytes and digest."""
        url = f"{self.base}/manifests/{reference}"
        response = self.request("GET", url, headers={"Accept": MANIFEST_TYPES})
        if response.status_code != 200:
            raise NotFast(f"the previous image `{reference}` is not in the registry")
        body = response.content
        return body, "sha256:" + hashlib.sha256(body).hexdigest()

    def has_manifest(self, reference: str) -> bool:
        url = f"{self.base}/manifests/{reference}"
        return self.request("HEAD", url, headers={"Accept": MANIFEST_TYPES}).status_code == 200

    def blob(self, digest: str, limit: int) -> bytes:
        """Blob `digest`, at most `limit` bytes, checked against its digest."""
        with self.client.stream("GET", f"{self.base}/blobs/{digest}") as response:
            if response.status_code != 200:
                raise NotFast(f"the registry answered {response.status_code} for blob {digest}")
            data = bytearray()
            for chunk in response.iter_bytes(1 << 20):
                data += chunk
                if len(data) > limit:
                    raise NotFast(f"blob {digest} is larger than {limit >> 20} MiB")
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise NotFast(f"blob {digest} does not match its digest")
        return bytes(data)

    def put_blob(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if self.request("HEAD", f"{self.base}/blobs/{digest}").status_code == 200:
            return digest
        start = self.request("POST", f"{self.base}/blobs/uploads/", headers={"Content-Length": "0"})
        if start.status_code != 202:
            raise RegistryError(f"the registry answered {start.status_code} to a blob upload")
        location = start.headers.get("location", "")
        if location.startswith("/"):
            location = self.base.split("/v2/")[0] + location
        separator = "&" if "?" in location else "?"
        put = self.client.put(
            f"{location}{separator}digest={digest}",
            headers={"Content-Type": "application/octet-stream"},
            content=data,
        )
        if put.status_code != 201:
            raise RegistryError(f"the registry answered {put.status_code} to blob {digest}")
        return digest

    def put_manifest(self, tag: str, body: bytes, media_type: str) -> None:
        put = self.client.put(
            f"{self.base}/manifests/{tag}", headers={"Content-Type": media_type}, content=body
        )
        if put.status_code not in (200, 201):
            raise RegistryError(f"the registry answered {put.status_code} to the manifest `{tag}`")


def tag_lineage(plan: BuildPlan, builder: str | None, image_digest: str) -> None:
    """Tag the image just built with its lineage tag (one GET, one PUT of the same bytes).

    Does nothing when the builder's digest is unknown; a registry that refuses
    only costs the next push its fast path.
    """
    if builder is None:
        return
    import httpx

    repo = _Repo(plan)
    try:
        with repo.client:
            body, _ = repo.manifest(image_digest)
            media_type = json.loads(body).get("mediaType") or _MANIFEST_TYPES[0]
            tag = lineage_tag(lineage_key(builder, plan), image_digest)
            repo.put_manifest(tag, body, media_type)
    except (httpx.HTTPError, NotFast, RegistryError, ValueError):
        return


def code_only_build(
    plan: BuildPlan, source_dir: Path, *, why: Callable[[str], None]
) -> tuple[str, float] | None:
    """Build the plan's image by replacing the app layer of the previous image; None: full build.

    Returns the new image's manifest digest and the seconds it took. `why`
    gets the reason when the fast path is not taken.

    Raises:
        RegistryError: the registry refused an upload after the fast path was chosen.
    """
    import httpx

    started = time.monotonic()
    if plan.builds_dockerfile or plan.builder is None:
        return None
    repo = _Repo(plan)
    try:
        with repo.client:
            digest = _replace_app_layer(plan, source_dir, repo)
    except NotFast as exc:
        why(f"Full build: {exc}.")
        return None
    except LayerRefused as exc:
        why(f"Full build: {exc}.")
        return None
    except httpx.HTTPError as exc:
        why(f"Full build: the registry could not be read ({exc}).")
        return None
    return digest, time.monotonic() - started


def _replace_app_layer(plan: BuildPlan, source_dir: Path, repo: _Repo) -> str:
    builder = builder_digest(plan)
    if builder is None:
        raise NotFast(f"the digest of the builder `{plan.builder}` is unknown")
    body, previous = repo.manifest("latest")
    manifest = json.loads(body)
    media_type = manifest.get("mediaType", "")
    if media_type not in _MANIFEST_TYPES or "layers" not in manifest:
        raise NotFast("the previous image is not a single-platform image")
    key = lineage_key(builder, plan)
    if not repo.has_manifest(lineage_tag(key, previous)):
        raise NotFast(
            "the previous image was not built by this builder "
            f"({builder[:19]}) with these build settings"
        )
    config_bytes = repo.blob(manifest["config"]["digest"], 1 << 20)
    config = json.loads(config_bytes)
    labels = config.get("config", {}).get("Labels") or {}
    code_only = declared(labels)
    if isinstance(code_only, str):
        raise NotFast(code_only)
    app_diff_id, index = _app_layer(config, config_bytes)
    layer = manifest["layers"][index]
    if int(layer.get("size", 0)) > MAX_LAYER_BYTES:
        raise NotFast("the previous app layer is too large")
    old = read_layer(_gunzip(repo.blob(layer["digest"], MAX_LAYER_BYTES), app_diff_id))
    new_files = source_entries(source_dir, plan.strategy)
    changed = changed_paths(old, new_files, code_only)
    if isinstance(changed, str):
        raise NotFast(changed)
    reason = refusal(code_only, changed)
    if reason is not None:
        raise NotFast(reason)
    entries = new_layer_entries(old, new_files, code_only, plan.strategy)
    return _publish(plan, repo, manifest, config_bytes, write_layer(entries), index, builder)


def _app_layer(config: dict[str, object], config_bytes: bytes) -> tuple[str, int]:
    """The app layer's diffID and its index in the layers."""
    try:
        labels = config["config"]["Labels"]  # type: ignore[index]
        app = json.loads(labels[LIFECYCLE_METADATA])["app"]
        diff_ids = config["rootfs"]["diff_ids"]  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        raise NotFast("the previous image has no readable lifecycle metadata") from None
    if not isinstance(app, list) or len(app) != 1:
        raise NotFast("the previous image's app is not exactly one layer")
    diff_id = str(app[0].get("sha", ""))
    if diff_ids.count(diff_id) != 1 or config_bytes.count(diff_id.encode()) != 2:
        raise NotFast("the previous app layer's diffID is not where the fast path expects it")
    return diff_id, diff_ids.index(diff_id)


def _gunzip(data: bytes, diff_id: str) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_LAYER_BYTES + 1)
    except zlib.error:
        raise NotFast("the previous app layer is not gzip") from None
    if len(out) > MAX_LAYER_BYTES or inflater.unconsumed_tail:
        raise NotFast("the previous app layer is too large")
    if "sha256:" + hashlib.sha256(out).hexdigest() != diff_id:
        raise NotFast("the previous app layer does not match its diffID")
    return out


def _publish(
    plan: BuildPlan,
    repo: _Repo,
    manifest: dict[str, object],
    config_bytes: bytes,
    tar: bytes,
    index: int,
    builder: str,
) -> str:
    """Upload the new layer, config and manifest; tag them as a full build would."""
    config = json.loads(config_bytes)
    old_diff_id = config["rootfs"]["diff_ids"][index]
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    compressed = gzip.compress(tar, compresslevel=6, mtime=0)
    new_config = config_bytes.replace(old_diff_id.encode(), diff_id.encode())
    layers = list(manifest["layers"])  # type: ignore[call-overload]
    layers[index] = {**layers[index], "digest": repo.put_blob(compressed), "size": len(compressed)}
    new_manifest = {
        **manifest,
        "config": {
            **manifest["config"],  # type: ignore[dict-item]
            "digest": repo.put_blob(new_config),
            "size": len(new_config),
        },
        "layers": layers,
    }
    body = json.dumps(new_manifest, indent=3).encode()
    media_type = str(manifest["mediaType"])
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    repo.put_manifest(digest, body, media_type)
    tags = [ImageRef.parse(t).tag for t in plan.image_tags]
    tags.append(lineage_tag(lineage_key(builder, plan), digest))
    for tag in tags:
        repo.put_manifest(tag, body, media_type)
    return digest
