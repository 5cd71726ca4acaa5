"""Talking to the testbed's cluster: its API server (admin token, our CA) and the built kubectl."""

from __future__ import annotations

import json
import ssl
import subprocess
import urllib.request
from typing import Any

from .build import kbin
from .config import PKI, STATE, run
from .pki import admin_token


def api(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    req = urllib.request.Request(
        f"https://127.0.0.1:6443{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
    )
    req.add_header("Authorization", f"Bearer {admin_token()}")
    req.add_header("Content-Type", "application/json")
    ctx = ssl.create_default_context(cafile=str(PKI / "ca.crt"))
    with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:
        result: dict[str, Any] = json.loads(resp.read() or b"{}")
        return result


def kubectl(
    *args: str, stdin: bytes | None = None, check: bool = True, capture: bool = True
) -> subprocess.CompletedProcess[bytes]:
    return run(
        [kbin("kubectl"), f"--kubeconfig={STATE}/admin.kubeconfig", *args],
        stdin=stdin,
        check=check,
        capture=capture,
    )
