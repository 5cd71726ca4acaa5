"""The app lock's decisions, on a fake clock: expiry as a waiter sees it, fencing, the renewer."""

from __future__ import annotations

from typing import Any

import pytest

from paas.errors import ClusterError, NotFoundError, RolloutError
from paas.kube.api import KubeApiError
from paas.kube.store import (
    LEASE_SECONDS,
    RENEW_DEADLINE,
    AppLock,
    LockLostError,
    Sighting,
    app_lock,
    lease_expired,
    lost_reason,
    observe,
)


def lease(
    holder: str = "alice (deploy 1)", renew: str = "2026-01-01T00:00:00.000000Z", rv: str = "7"
) -> dict[str, Any]:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "paas-lock", "namespace": "hello", "resourceVersion": rv},
        "spec": {
            "holderIdentity": holder,
            "leaseDurationSeconds": LEASE_SECONDS,
            "renewTime": renew,
        },
    }


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---- expiry as a waiter judges it: its own clock, never the holder's time stamps


def test_a_lease_unchanged_for_its_duration_on_the_waiters_clock_is_expired() -> None:
    seen = observe(None, lease(), 100.0)
    assert not lease_expired(observe(seen, lease(), 129.9), lease(), 129.9)
    assert lease_expired(observe(seen, lease(), 130.0), lease(), 130.0)


def test_a_renewal_restarts_the_waiters_count() -> None:
    seen = observe(None, lease(rv="7"), 100.0)
    renewed = lease(renew="2026-01-01T00:00:10.000000Z", rv="8")
    seen = observe(seen, renewed, 125.0)
    assert seen == Sighting(("alice (deploy 1)", "2026-01-01T00:00:10.000000Z", "8"), 125.0)
    assert not lease_expired(seen, renewed, 150.0)
    assert lease_expired(seen, renewed, 155.0)


@pytest.mark.parametrize(
    "renew",
    ["1999-01-01T00:00:00.000000Z", "2999-01-01T00:00:00.000000Z"],
    ids=["holder-clock-far-behind", "holder-clock-far-ahead"],
)
def test_the_holders_clock_does_not_matter(renew: str) -> None:
    # A renewTime hours off (a skewed clock) is neither expired at once nor never.
    held = lease(renew=renew)
    seen = observe(None, held, 100.0)
    assert not lease_expired(seen, held, 100.0)
    assert not lease_expired(observe(seen, held, 110.0), held, 110.0)
    assert lease_expired(observe(seen, held, 131.0), held, 131.0)


def test_a_lease_nobody_holds_is_free_at_once() -> None:
    free = lease(holder="")
    assert lease_expired(observe(None, free, 5.0), free, 5.0)


# ---- fencing: when the holder counts its lock lost


def test_the_holder_keeps_its_lock_while_renewed_in_time() -> None:
    assert (
        lost_reason(lease("me"), "me", 100.0, 100.0 + RENEW_DEADLINE, deadline=RENEW_DEADLINE) == ""
    )


def test_the_holder_loses_its_lock_to_another_holder_a_deletion_or_no_renewal() -> None:
    assert lost_reason(lease("bob"), "me", 100.0, 101.0, deadline=20) == "another operation took it"
    assert lost_reason(None, "me", 100.0, 101.0, deadline=20) == "its Lease was deleted"
    assert lost_reason(lease(""), "me", 100.0, 101.0, deadline=20) == "someone else released it"
    assert (
        lost_reason(lease("me"), "me", 100.0, 121.5, deadline=20)
        == "it could not be renewed for 21 s"
    )


def test_the_holder_stops_before_a_waiter_may_take_over() -> None:
    assert RENEW_DEADLINE < LEASE_SECONDS


class FakeKube:
    """Answers the Lease reads and writes of the renewer; `fail` raises on the next write."""

    def __init__(self, current: dict[str, Any] | None) -> None:
        self.lease = current
        self.fail: Exception | None = None
        self.get_fail: Exception | None = None
        self.writes: list[dict[str, Any]] = []

    def get(self, *_args: Any, **_kwargs: Any) -> dict[str, Any] | None:
        if self.get_fail is not None:
            raise self.get_fail
        return None if self.lease is None else {**self.lease, "spec": dict(self.lease["spec"])}

    def request(self, method: str, path: str, *, body: Any = None, **_kwargs: Any) -> Any:
        assert (method, path) == (
            "PUT",
            "/apis/coordination.k8s.io/v1/namespaces/hello/leases/paas-lock",
        )
        if self.fail is not None:
            raise self.fail
        self.writes.append(body)
        self.lease = body
        return body


def held(kube: FakeKube, clock: Clock) -> AppLock:
    return AppLock(kube, "hello", "me", app="hello", clock=clock)  # type: ignore[arg-type]


def test_check_passes_while_the_lock_is_renewed() -> None:
    clock = Clock()
    kube = FakeKube(lease("me"))
    lock = held(kube, clock)
    clock.now += 15
    lock.renew_once()
    clock.now += 15  # 30 s since taking it, 15 s since the renewal
    lock.check("waiting for the rollout")
    assert len(kube.writes) == 1
    assert kube.writes[0]["spec"]["holderIdentity"] == "me"


def test_check_fails_once_another_holder_took_the_lease() -> None:
    kube = FakeKube(lease("me"))
    lock = held(kube, Clock())
    kube.lease = lease("bob (push 9f3a2c)")
    lock.renew_once()
    with pytest.raises(LockLostError) as caught:
        lock.check("waiting for the rollout")
    assert caught.value.message == (
        "lost the lock of app `hello` to bob (push 9f3a2c) while waiting for the rollout: "
        "another operation took it"
    )
    assert caught.value.exit_code == 10
    assert kube.writes == []  # never renews someone else's lease


def test_check_fails_when_the_lease_was_deleted_even_mid_write() -> None:
    kube = FakeKube(lease("me"))
    lock = held(kube, Clock())
    kube.fail = NotFoundError('leases.coordination.k8s.io "paas-lock" not found')
    lock.renew_once()  # no traceback: the renewer notes the loss
    with pytest.raises(LockLostError, match="while applying the release: its Lease was deleted"):
        lock.check("applying the release")


def test_a_conflict_is_retried_and_fails_only_past_the_deadline() -> None:
    clock = Clock()
    kube = FakeKube(lease("me"))
    lock = held(kube, clock)
    kube.fail = KubeApiError("the object has been modified", status=409)
    for _ in range(3):
        clock.now += 5
        lock.renew_once()
        lock.check("waiting for the rollout")
    clock.now += 6  # 21 s without a renewal
    with pytest.raises(LockLostError, match="it could not be renewed for 21 s"):
        lock.check("waiting for the rollout")


def test_a_lock_past_its_deadline_is_still_held_when_nobody_wrote_the_lease_since() -> None:
    clock = Clock()
    kube = FakeKube(lease("me"))
    lock = held(kube, clock)
    lock.renew_once()  # this lock wrote resourceVersion 7
    clock.now += 40  # the API server was away: no renewal for 40 s
    lock.check("waiting for the rollout")  # renews now, over the same version
    assert len(kube.writes) == 2
    assert lock.clock() - lock.last_renewed == 0


def test_a_lock_past_its_deadline_is_lost_when_the_lease_changed_or_cannot_be_read() -> None:
    clock = Clock()
    kube = FakeKube(lease("me"))
    lock = held(kube, clock)
    lock.renew_once()
    kube.lease = lease("me", rv="8")  # written by someone else since, even if it names us
    clock.now += 40
    with pytest.raises(LockLostError, match="it could not be renewed for 40 s"):
        lock.check("waiting for the rollout")
    assert len(kube.writes) == 1

    lock = held(FakeKube(lease("me")), clock)
    lock.renew_once()
    lock.kube.get_fail = ClusterError("cannot reach the cluster: connection refused")  # type: ignore[attr-defined]
    clock.now += 21
    with pytest.raises(LockLostError, match="it could not be renewed for 21 s"):
        lock.check("waiting for the rollout")


def test_the_renewer_thread_never_raises() -> None:
    clock = Clock()
    kube = FakeKube(lease("me"))
    lock = held(kube, clock)
    kube.get_fail = ClusterError("cannot reach the cluster: connection refused")
    lock.stop.set()
    lock.renew_loop()  # stopped: returns at once
    lock.stop.clear()
    kube.get_fail = ValueError("unexpected")  # even a bug ends as a loss, not a traceback

    import paas.kube.store as store

    waits = iter([False, True])
    lock.stop.wait = lambda _seconds: next(waits)  # type: ignore[method-assign]
    lock.renew_loop()
    assert lock.lost == "renewing it failed (ValueError)"
    assert store.RENEW_SECONDS > 0


# ---- app_lock: taking, waiting, and freeing without hiding the real failure


class LockKube(FakeKube):
    def __init__(self, current: dict[str, Any] | None) -> None:
        super().__init__(current)
        self.created: list[dict[str, Any]] = []

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        obj["metadata"]["resourceVersion"] = "1"
        self.created.append(obj)
        self.lease = obj
        return obj

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.lease = obj
        return obj


def test_a_failure_to_free_the_lock_keeps_the_real_error_and_warns() -> None:
    kube = LockKube(None)
    warnings: list[str] = []

    def failing_deploy() -> None:
        with app_lock(kube, "hello", "me", app="hello", on_warning=warnings.append):  # type: ignore[arg-type]
            kube.get_fail = ClusterError("cannot reach the cluster: connection refused")
            raise RolloutError("web crashed", reason="CrashLoopBackOff")

    with pytest.raises(RolloutError) as caught:
        failing_deploy()
    assert caught.value.message == "web crashed"
    assert caught.value.exit_code == 9
    assert warnings == [
        "Could not free the lock of app `hello` after the failure above (cannot reach the "
        f"cluster: connection refused); it frees itself within {LEASE_SECONDS} s."
    ]


def test_the_lock_is_freed_at_the_end() -> None:
    kube = LockKube(None)
    with app_lock(kube, "hello", "me", app="hello") as lock:  # type: ignore[arg-type]
        assert kube.lease is not None
        assert kube.lease["spec"]["holderIdentity"] == "me"
        assert lock.previous_holder == ""
    assert kube.lease["spec"]["holderIdentity"] == ""


class FakeTime:
    """`time` for paas.kube.store: sleeping advances the monotonic clock."""

    def __init__(self) -> None:
        self.now = 500.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def test_a_waiter_takes_a_dead_holders_lease_after_a_whole_duration_of_no_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import paas.kube.store as store

    fake = FakeTime()
    monkeypatch.setattr(store, "time", fake)
    # The dead holder's renewTime is an hour in the future: its clock was skewed.
    kube = LockKube(lease("bob (push 1)", renew="2999-01-01T00:00:00.000000Z"))
    waited: list[str] = []
    with app_lock(kube, "hello", "me", app="hello", on_wait=waited.append) as lock:  # type: ignore[arg-type]
        assert lock.previous_holder == "bob (push 1)"
        assert kube.lease is not None
        assert kube.lease["spec"]["holderIdentity"] == "me"
        assert kube.lease["spec"]["leaseTransitions"] == 1
        lock.stop.set()
    assert waited == ["bob (push 1)"]
    assert fake.slept == LEASE_SECONDS


def test_a_waiter_gives_up_after_its_wait_while_the_holder_renews(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import paas.kube.store as store

    fake = FakeTime()
    monkeypatch.setattr(store, "time", fake)
    kube = LockKube(lease("bob (push 1)"))
    renewals = iter(range(10_000))

    def renewing_get(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        return lease("bob (push 1)", rv=str(next(renewals)))  # changes every read: alive

    kube.get = renewing_get  # type: ignore[method-assign]
    with (
        pytest.raises(store.BusyError) as caught,
        app_lock(kube, "hello", "me", app="hello", wait=60),
    ):  # type: ignore[arg-type]
        pass
    assert caught.value.message == "the app is busy: bob (push 1) holds its lock"
    assert caught.value.exit_code == 10


def test_a_waiter_that_lost_the_race_for_a_free_lease_names_who_won(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import paas.kube.store as store

    fake = FakeTime()
    monkeypatch.setattr(store, "time", fake)
    kube = LockKube(lease(holder=""))  # free: the last operation ended
    winner = lease("alice (config 2)", rv="8")

    def faster_one_replaced_it(obj: dict[str, Any]) -> dict[str, Any]:
        kube.lease = winner  # the other waiter's write landed between our read and ours
        kube.replace = LockKube.replace.__get__(kube)  # type: ignore[method-assign]
        raise KubeApiError("the object has been modified", status=409)

    kube.replace = faster_one_replaced_it  # type: ignore[method-assign]
    waited: list[str] = []

    def sleep_then_free(seconds: float) -> None:
        fake.now += seconds
        kube.lease = lease(holder="", rv="9")  # the winner ended

    monkeypatch.setattr(fake, "sleep", sleep_then_free)
    with app_lock(kube, "hello", "me", app="hello", on_wait=waited.append) as lock:  # type: ignore[arg-type]
        lock.stop.set()
    assert waited == ["alice (config 2)"]
