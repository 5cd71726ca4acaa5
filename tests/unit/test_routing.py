"""Live means routed: which endpoints still send requests to an old release, and the wait."""

from __future__ import annotations

from typing import Any

from paas.kube.routing import stale_endpoints, wait_routed


def endpoint(pod: str, ready: bool | None) -> dict[str, Any]:
    conditions = {} if ready is None else {"ready": ready}
    return {"targetRef": {"kind": "Pod", "name": pod}, "conditions": conditions}


def test_only_ready_endpoints_of_other_pods_are_stale() -> None:
    slices = [
        {
            "endpoints": [
                endpoint("web-v8-a", True),
                endpoint("web-v7-a", False),  # terminating: the router drops it
                endpoint("web-v7-b", True),  # still routed to
                endpoint("web-v7-c", None),  # unknown counts as ready
                {"addresses": ["10.0.0.9"]},  # no pod behind it: not ours to judge
            ]
        },
        {"endpoints": None},
    ]
    assert stale_endpoints(slices, {"web-v8-a"}) == ["web-v7-b", "web-v7-c"]
    assert stale_endpoints([], {"web-v8-a"}) == []


class Slices:
    """Answers pod and EndpointSlice lists; the old pod leaves the slice after `rounds` reads."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self.selectors: list[str] = []

    def list(self, _version: str, kind: str, _ns: str, *, selector: str = "") -> list[Any]:
        self.selectors.append(selector)
        if kind == "Pod":
            return [{"metadata": {"name": "web-v8-a"}}]
        self.rounds -= 1
        old = [endpoint("web-v7-a", True)] if self.rounds >= 0 else []
        return [{"endpoints": [endpoint("web-v8-a", True), *old]}]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_wait_ends_a_settle_time_after_the_old_pods_left() -> None:
    kube, clock = Slices(rounds=3), Clock()
    routed = wait_routed(
        kube,  # type: ignore[arg-type]
        "hello",
        "hello",
        "v8",
        ["hello-web"],
        settle=0.5,
        clock=clock,
        sleep=clock.sleep,
    )
    assert routed is True
    assert clock.slept == [0.1, 0.1, 0.1, 0.5]
    assert "paas.dev/app=hello,paas.dev/release=v8" in kube.selectors
    assert "kubernetes.io/service-name=hello-web" in kube.selectors


def test_old_pods_that_stay_listed_end_the_wait_with_routing_to_follow() -> None:
    kube, clock = Slices(rounds=10_000), Clock()
    routed = wait_routed(
        kube,  # type: ignore[arg-type]
        "hello",
        "hello",
        "v8",
        ["hello-web"],
        settle=0.5,
        timeout=2,
        clock=clock,
        sleep=clock.sleep,
    )
    assert routed is False
    assert 2 <= clock.now < 2.2
