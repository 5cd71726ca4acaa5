"""Gateway API routing on the testbed: an app served through an HTTPRoute on the testbed's
Gateway (Traefik's Gateway provider), then moved to an Ingress and back with no failed request.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml
from deploy_helpers import DOMAIN, INGRESS, Images, Paas, wait_for_body
from test_deploy import push
from test_deploy_more import names

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]


class Load:
    """Requests to the app, one after another, from a thread; every failure is kept."""

    def __init__(self, app: str) -> None:
        self.host = f"{app}.{DOMAIN}"
        self.stop = threading.Event()
        self.ok = 0
        self.failed: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self.stop.is_set():
                try:
                    response = client.get(f"{INGRESS}/", headers={"Host": self.host})
                    if response.status_code == 200:
                        self.ok += 1
                    else:
                        self.failed.append(f"{response.status_code} {response.text[:80]}")
                except httpx.HTTPError as exc:
                    self.failed.append(repr(exc))
                time.sleep(0.01)

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def routing(app_dir: Path, how: str) -> None:
    manifest = yaml.safe_load((app_dir / "paas.yaml").read_text())
    manifest.setdefault("kubernetes", {})["routing"] = how
    (app_dir / "paas.yaml").write_text(yaml.safe_dump(manifest))


def test_an_app_moves_between_httproute_and_ingress_with_no_failed_request(
    paas: Paas, images: Images, app_dir: Path, app: str, kubectl: list[str]
) -> None:
    routing(app_dir, "gateway")
    rendered = paas("render", str(app_dir), "--app", app, check=True).stdout
    assert "kind: HTTPRoute" in rendered
    assert "kind: Ingress" not in rendered
    first = push(paas, app_dir, app, images.v1)
    assert first.returncode == 0, first.stderr
    assert names(kubectl, app, "httproutes") == {app}
    assert names(kubectl, app, "ingresses") == set()
    wait_for_body(app, "release=v1")

    with Load(app) as load:
        for step, (how, kind) in enumerate((("ingress", "Ingress"), ("gateway", "HTTPRoute"))):
            routing(app_dir, how)
            moved = push(paas, app_dir, app, images.v1)
            assert moved.returncode == 0, moved.stderr
            assert f"Routed by the {kind} now" in moved.stderr, moved.stderr
            assert names(kubectl, app, "ingresses") == ({app} if how == "ingress" else set())
            assert names(kubectl, app, "httproutes") == ({app} if how == "gateway" else set())
            assert "release=v1" in wait_for_body(app, "release=v1"), step
            time.sleep(1)  # requests on the new route alone for a while
    assert load.failed == [], load.failed[:5]
    assert load.ok > 100, load.ok
    print(f"moved twice under load: {load.ok} requests, 0 failed")
