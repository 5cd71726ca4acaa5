"""The code-only fast path on the testbed: the app layer replaced in the registry.

A one-line code change of the Python starter is pushed without a CNB build
(with the `local` and the `cluster` strategy),
served, and its image is the one a full build of the same source gives: the
same app-layer diffID, the same config (labels, start command, layers). A
change to `requirements.txt` takes the full build. The Node.js starter's
code change takes the fast path too, carrying its `node_modules` link over.

Here, not in tests/e2e/build/, because it pushes and serves (the `paas` and
`app` fixtures of tests/e2e/deploy).
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path

import pytest
from deploy_helpers import REPO, Paas, wait_for_body

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

REGISTRY = "registry.paas.test:5000"
ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"


def _get(url: str) -> bytes:
    request = urllib.request.Request(url, headers={"Accept": ACCEPT})
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def _config(image: str) -> tuple[str, dict[str, object]]:
    """The config digest and config of `REGISTRY/REPO@DIGEST`."""
    repository, _, digest = image.removeprefix(f"{REGISTRY}/").partition("@")
    manifest = json.loads(_get(f"http://{REGISTRY}/v2/{repository}/manifests/{digest}"))
    config_digest = manifest["config"]["digest"]
    return config_digest, json.loads(
        _get(f"http://{REGISTRY}/v2/{repository}/blobs/{config_digest}")
    )


def _released_image(paas: Paas, app: str) -> str:
    out = paas("releases", "--app", app, "--json")
    assert out.returncode == 0, out.stderr[-2000:]
    records = json.loads(out.stdout)
    records = records.get("releases", records) if isinstance(records, dict) else records
    return str(max(records, key=lambda r: r["version"])["image"])


@pytest.mark.parametrize("strategy", ["local", "cluster"])
def test_a_code_change_replaces_the_app_layer_as_a_full_build_would(
    paas: Paas, builder: str, tmp_path: Path, app: str, strategy: str
) -> None:
    del builder  # the paas builder is in the registry
    source = tmp_path / "python-flask"
    shutil.copytree(REPO / "templates" / "python-flask", source)
    first = paas("push", str(source), "--app", app, "--strategy", strategy)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "Code-only change" not in first.stderr
    wait_for_body(app, "release=v1")

    page = source / "app.py"
    page.write_text(
        page.read_text().replace("from python-flask</h1>", "from python-flask, fast</h1>")
    )
    second = paas("push", str(source), "--app", app, "--strategy", strategy, "--verbose")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Code-only change: replaced the app layer" in second.stderr, second.stderr[-3000:]
    assert "Deployed v2:" in second.stderr
    wait_for_body(app, "from python-flask, fast")
    fast = _released_image(paas, app)

    # A full build of the same source (its own tag, so nothing is reused).
    full_run = paas(
        "build", str(source), "--app", app, "--strategy", strategy, "--tag", "full-check", "--json"
    )
    assert full_run.returncode == 0, full_run.stderr[-3000:]
    full = json.loads(full_run.stdout)["image"]
    fast_digest, fast_config = _config(fast)
    full_digest, full_config = _config(full)
    fast_labels = fast_config["config"]["Labels"]  # type: ignore[index]
    full_labels = full_config["config"]["Labels"]  # type: ignore[index]
    app_layer = json.loads(fast_labels["io.buildpacks.lifecycle.metadata"])["app"]
    assert app_layer == json.loads(full_labels["io.buildpacks.lifecycle.metadata"])["app"]
    assert fast_config["rootfs"] == full_config["rootfs"]  # type: ignore[index]
    assert fast_labels == full_labels
    assert (
        json.loads(fast_labels["io.buildpacks.build.metadata"])["processes"]
        == json.loads(full_labels["io.buildpacks.build.metadata"])["processes"]
    )
    assert fast_digest == full_digest  # the whole config, byte for byte

    deps = source / "requirements.txt"
    deps.write_text(deps.read_text() + "\n# pinned as before\n")
    third = paas("push", str(source), "--app", app, "--strategy", strategy, "--verbose")
    assert third.returncode == 0, third.stderr[-3000:]
    assert "Code-only change" not in third.stderr
    assert "`requirements.txt` changed" in third.stderr
    assert "Deployed v3:" in third.stderr


def test_a_node_code_change_takes_the_fast_path(
    paas: Paas, builder: str, tmp_path: Path, app: str
) -> None:
    del builder  # the paas builder is in the registry
    source = tmp_path / "node-express"
    shutil.copytree(REPO / "templates" / "node-express", source)
    first = paas("push", str(source), "--app", app)
    assert first.returncode == 0, first.stderr[-3000:]
    wait_for_body(app, "release=v1")
    page = source / "index.js"
    page.write_text(
        page.read_text().replace("from node-express</h1>", "from node-express, fast</h1>")
    )
    second = paas("push", str(source), "--app", app, "--verbose")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Code-only change: replaced the app layer" in second.stderr, second.stderr[-3000:]
    wait_for_body(app, "from node-express, fast")
    off = source / "index.js"
    off.write_text(off.read_text() + "\n// v3\n")
    third = paas("push", str(source), "--app", app, "--no-fast-path", "--verbose")
    assert third.returncode == 0, third.stderr[-3000:]
    assert "Code-only change" not in third.stderr
    assert "the fast path is turned off" in third.stderr
