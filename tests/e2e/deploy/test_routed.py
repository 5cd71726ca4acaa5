"""Live means routed: a request sent the moment a change says "Released vN" is answered by vN.

Tried as a new user would: `config set`, then curl at once. Before paas waited
for the router, the old release still answered for about 0.3 s.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from deploy_helpers import Images, Paas, get
from test_deploy import push

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

ROUNDS = 20


def test_a_request_right_after_each_config_set_sees_the_new_value(
    paas: Paas, images: Images, app_dir: Path, app: str
) -> None:
    assert push(paas, app_dir, app, images.v1).returncode == 0
    seen: list[str] = []
    took: list[float] = []
    for n in range(ROUNDS):
        started = time.monotonic()
        done = paas("config", "set", f"GREETING=round{n}", "--app", app)
        took.append(time.monotonic() - started)
        assert done.returncode == 0, done.stderr
        assert f"Released v{n + 2}:" in done.stderr
        response = get(app)  # at once: no retry, no wait
        seen.append(f"{response.status_code} {response.text}")
        assert response.status_code == 200, seen[-1]
        assert f"greeting=round{n}<" in response.text, (n, seen[-1])
        assert f"release=v{n + 2}<" in response.text, (n, seen[-1])
    print(f"config set, median {sorted(took)[ROUNDS // 2]:.2f} s over {ROUNDS} rounds")
