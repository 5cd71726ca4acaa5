"""`paas config unset KEY --purge` on a real cluster: the value leaves the whole release history."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest
from deploy_helpers import Images, Paas, wait_for_body
from test_deploy import releases
from test_deploy_more import kube_json, pushed

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

LEAKED = "leaked-s3cret-value"


def stored_text(kubectl: list[str], app: str) -> str:
    """Every Secret of the app, decoded (gzip records too), as one text to search."""
    out = []
    for secret in kube_json(kubectl, "-n", app, "get", "secrets")["items"]:
        for value in (secret.get("data") or {}).values():
            raw = base64.b64decode(value)
            out.append(gzip.decompress(raw).decode() if raw[:2] == b"\x1f\x8b" else raw.decode())
    return "\n".join(out)


def test_unset_purge_removes_the_value_from_every_release(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    pushed(paas, app_dir, app, images.v1)
    paas("config", "set", f"TOKEN={LEAKED}", "GREETING=Hi", "--app", app, check=True)
    paas("config", "set", "GREETING=Hey", "--app", app, check=True)
    assert LEAKED in stored_text(kubectl, app)
    result = paas("config", "unset", "TOKEN", "--purge", "--app", app)
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "Released v4: Unset TOKEN" in output
    assert (
        f"Purged `TOKEN` from 2 earlier releases of `{app}` (records and config Secrets); "
        "a rollback to one of them runs without it."
    ) in output
    assert LEAKED not in stored_text(kubectl, app)
    history = {r["version"]: r for r in releases(paas, app)}
    assert history["v2"]["config_keys"] == ["GREETING"]
    assert history["v3"]["config_keys"] == ["GREETING"]
    # A rollback to a purged release runs without the key, and serves.
    back = paas("rollback", "v2", "--app", app)
    assert back.returncode == 0, back.stdout + back.stderr
    assert json.loads(paas("config", "--app", app, "--json", "--reveal", check=True).stdout)[
        "config"
    ] == {"GREETING": "Hi"}
    wait_for_body(app, "greeting=Hi")
    again = paas("config", "unset", "TOKEN", "--purge", "--app", app)
    assert again.returncode == 0, again.stderr
    assert f"No earlier release of `{app}` holds `TOKEN`: nothing to purge." in (
        again.stdout + again.stderr
    )
