"""Autoscaling for real: a CPU load drives the HPA from 1 to at least 2 pods and back to 1.

The testbed runs metrics-server, so the HPA reads the pods' CPU. The load is
one client sending requests through the Ingress on the loopback address,
bounded in time; the app asks for a low CPU target and a short scale-down
window so that the whole test stays within a few minutes. `paas ps` is run as
a user runs it, in text and with `--json`.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest
from deploy_helpers import DOMAIN, INGRESS, Images, Paas, check_json
from test_deploy import manifest, push

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

SCALE_UP_WITHIN = 150.0
SCALE_DOWN_WITHIN = 150.0


def _autoscale(paas: Paas, app: str) -> dict[str, object]:
    args = ("ps", "--app", app, "--json")
    result = paas(*args, check=True)
    check_json(args, result)
    web = next(p for p in json.loads(result.stdout)["processes"] if p["process"] == "web")
    assert web["autoscale"] is not None, web
    return web["autoscale"]  # type: ignore[no-any-return]


def _load(app: str, stop: threading.Event, deadline: float) -> int:
    """Requests one after another until `stop` or `deadline`; returns how many were sent."""
    sent = 0
    with httpx.Client(base_url=INGRESS, headers={"Host": f"{app}.{DOMAIN}"}, timeout=5) as client:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                client.get("/")
            except httpx.HTTPError:
                time.sleep(0.05)
            sent += 1
    return sent


def test_cpu_load_scales_out_and_back_and_ps_shows_it(
    paas: Paas, images: Images, app_dir: Path, app: str
) -> None:
    manifest(
        app_dir,
        {
            "name": app,
            "processes": {
                "web": {"autoscale": {"min": 1, "max": 3, "cpu": 10, "scale_down_after": 15}}
            },
        },
    )
    pushed = push(paas, app_dir, app, images.v1)
    assert pushed.returncode == 0, pushed.stderr

    # A manual scale of an autoscaled process is refused, saying what to do instead.
    scaled = paas("ps", "scale", "web=2", "--app", app)
    assert scaled.returncode != 0
    assert "is autoscaled (min 1, max 3)" in scaled.stderr, scaled.stderr
    assert "autoscale.min" in scaled.stderr

    started = time.monotonic()
    stop = threading.Event()
    sent: list[int] = []
    worker = threading.Thread(
        target=lambda: sent.append(_load(app, stop, started + SCALE_UP_WITHIN)), daemon=True
    )
    worker.start()
    seen: list[dict[str, object]] = []
    try:
        while time.monotonic() < started + SCALE_UP_WITHIN:
            scale = _autoscale(paas, app)
            seen.append(scale)
            if int(scale["desired"]) >= 2 and scale["metrics_available"]:  # type: ignore[call-overload]
                break
            time.sleep(5)
        else:
            pytest.fail(f"the HPA did not scale out within {SCALE_UP_WITHIN:.0f}s: {seen[-3:]}")
        text = paas("ps", "--app", app, check=True).stdout
    finally:
        stop.set()
        worker.join(timeout=10)
    up_after = time.monotonic() - started
    assert (scale["min"], scale["max"], scale["cpu_target_percent"]) == (1, 3, 10)
    assert isinstance(scale["cpu_percent"], int), scale
    assert scale["cpu_percent"] > 10, scale
    assert scale["problem"] is None
    assert "autoscaled:" in text, text
    assert "(min 1, max 3); cpu " in text, text
    assert "% (target 10%)" in text, text

    down_started = time.monotonic()
    while time.monotonic() < down_started + SCALE_DOWN_WITHIN:
        scale = _autoscale(paas, app)
        if scale["desired"] == 1 and scale["current"] == 1:
            break
        time.sleep(5)
    else:
        pytest.fail(f"the HPA did not scale back to 1 within {SCALE_DOWN_WITHIN:.0f}s: {scale}")
    print(
        f"scaled out after {up_after:.0f}s ({sent[0] if sent else '?'} requests), "
        f"back to 1 after {time.monotonic() - down_started:.0f}s"
    )
