"""Small helpers for the cluster tests."""

from __future__ import annotations

import time
from typing import Any

import pytest


def wait_for(what: str, probe: Any, timeout: float = 120, interval: float = 0.5) -> Any:
    """Call probe() until it returns something truthy; fail with `what` on timeout."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = probe()
        except Exception as e:
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}", pytrace=False)
