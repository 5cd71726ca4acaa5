"""An image copied between repositories of the real testbed registry, by digest (promote's copy)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from deploy_helpers import Images

from paas.registry import resolve_digest
from paas.registry_copy import copy_image

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]


def test_a_copy_keeps_the_digest_and_the_second_sends_no_blob(
    cluster, images: Images, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    source = resolve_digest(images.v1, insecure=True)
    digest = source.rpartition("@")[2]
    target = f"{cluster.registry}/e2e/copied-{uuid.uuid4().hex[:8]}"
    uploads: list[str] = []
    real_put = httpx.Client.put

    def counting_put(self: httpx.Client, url: str, **kwargs: object) -> httpx.Response:
        uploads.append(str(url))
        return real_put(self, url, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx.Client, "put", counting_put)
    copied = copy_image(source, target, source_insecure=True, target_insecure=True)
    sent = [u for u in uploads if "/blobs/" in u]
    assert len(sent) >= 2, uploads  # the config and the layers went over the wire
    uploads.clear()
    assert copied == f"{target}@{digest}"
    # The target repository serves the same manifest, by digest and all its blobs.
    assert resolve_digest(copied, insecure=True) == copied
    registry, _, repository = target.partition("/")
    manifest = httpx.get(
        f"http://{registry}/v2/{repository}/manifests/{digest}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json, "
                 "application/vnd.docker.distribution.manifest.v2+json"},
        timeout=10,
    )  # fmt: skip
    assert manifest.status_code == 200
    assert manifest.headers["docker-content-digest"] == digest
    for blob in [manifest.json()["config"], *manifest.json()["layers"]]:
        head = httpx.head(f"http://{registry}/v2/{repository}/blobs/{blob['digest']}", timeout=10)
        assert head.status_code == 200, blob

    assert copy_image(source, target, source_insecure=True, target_insecure=True) == copied
    assert [u for u in uploads if "/blobs/" in u] == []  # every blob was there already
    assert len(uploads) == 1  # only the manifest
