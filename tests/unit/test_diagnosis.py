"""Rollout diagnosis from pod and ReplicaSet status (pure)."""

from __future__ import annotations

from typing import Any

from paas.diagnosis import deployment_done, hint_from_logs, pod_failure, replicaset_failure


def pod(
    *statuses: dict[str, Any], conditions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "metadata": {"name": "hello-web-abc12"},
        "status": {"containerStatuses": list(statuses), "conditions": conditions or []},
    }


def test_image_pull_backoff() -> None:
    failure = pod_failure(
        pod(
            {
                "name": "web",
                "state": {
                    "waiting": {
                        "reason": "ImagePullBackOff",
                        "message": 'Back-off pulling image "r/x:1"',
                    }
                },
            }
        ),
        [],
        running_for=0,
    )
    assert failure is not None
    assert failure.reason == "ImagePullBackOff"
    assert failure.message("web") == (
        "the `web` process failed to start: ImagePullBackOff in pod "
        '`hello-web-abc12`: Back-off pulling image "r/x:1"'
    )


def test_crash_loop_shows_logs() -> None:
    failure = pod_failure(
        pod(
            {
                "name": "web",
                "restartCount": 2,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 3, "reason": "Error"}},
            }
        ),
        [],
        running_for=0,
    )
    assert failure is not None
    assert (failure.reason, failure.show_logs) == ("CrashLoopBackOff", True)
    assert "exited with code 3" in failure.detail


def test_config_errors_get_a_grace_for_secret_sync() -> None:
    waiting = pod(
        {
            "name": "web",
            "state": {
                "waiting": {
                    "reason": "CreateContainerConfigError",
                    "message": "failed to sync secret cache: timed out waiting for the condition",
                }
            },
        }
    )
    assert pod_failure(waiting, [], running_for=0, age=5) is None
    failure = pod_failure(waiting, [], running_for=0, age=60)
    assert failure is not None
    assert failure.reason == "ConfigError"


def test_first_crash_is_not_yet_a_loop() -> None:
    assert (
        pod_failure(
            pod(
                {
                    "name": "web",
                    "restartCount": 1,
                    "state": {"running": {}},
                    "lastState": {"terminated": {"exitCode": 1}},
                }
            ),
            [],
            running_for=1,
        )
        is None
    )


def test_oom_killed() -> None:
    failure = pod_failure(
        pod(
            {
                "name": "web",
                "restartCount": 1,
                "state": {"running": {}},
                "lastState": {"terminated": {"reason": "OOMKilled"}},
            }
        ),
        [],
        running_for=1,
    )
    assert failure is not None
    assert failure.reason == "OOMKilled"
    assert "bigger `size`" in failure.hint


def test_unschedulable() -> None:
    failure = pod_failure(
        pod(
            conditions=[
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/1 nodes: Insufficient memory.",
                }
            ]
        ),
        [],
        running_for=0,
    )
    assert failure is not None
    assert (failure.reason, failure.detail) == ("Unschedulable", "0/1 nodes: Insufficient memory.")


def test_not_listening_on_port_after_the_grace() -> None:
    running = {"name": "web", "ready": False, "state": {"running": {"startedAt": "x"}}}
    events = [
        {
            "reason": "Unhealthy",
            "message": "Readiness probe failed: dial tcp "
            "10.244.0.9:5000: connect: connection refused",
        }
    ]
    assert pod_failure(pod(running), events, running_for=30) is None
    failure = pod_failure(pod(running), events, running_for=120)
    assert failure is not None
    assert failure.reason == "NotListening"
    assert "$PORT" in failure.hint
    other = [
        {
            "reason": "Unhealthy",
            "message": "Readiness probe failed: HTTP probe failed with statuscode: 500",
        }
    ]
    failure = pod_failure(pod(running), other, running_for=120)
    assert failure is not None
    assert failure.reason == "ReadinessFailing"


def test_quota_from_the_replicaset() -> None:
    failure = replicaset_failure(
        [
            {
                "status": {
                    "conditions": [
                        {
                            "type": "ReplicaFailure",
                            "status": "True",
                            "reason": "FailedCreate",
                            "message": 'pods "x" is forbidden: exceeded quota: small, requested: cpu=100m',
                        }
                    ]
                }
            }
        ]
    )
    assert failure is not None
    assert failure.reason == "Quota"


def test_deployment_done() -> None:
    base = {"metadata": {"generation": 2}, "spec": {"replicas": 2}}
    assert deployment_done(
        {
            **base,
            "status": {
                "observedGeneration": 2,
                "updatedReplicas": 2,
                "replicas": 2,
                "availableReplicas": 2,
            },
        }
    )
    assert not deployment_done(
        {
            **base,
            "status": {
                "observedGeneration": 1,
                "updatedReplicas": 2,
                "replicas": 2,
                "availableReplicas": 2,
            },
        }
    )
    assert not deployment_done(
        {
            **base,
            "status": {
                "observedGeneration": 2,
                "updatedReplicas": 2,
                "replicas": 3,
                "availableReplicas": 3,
            },
        }
    )


def test_a_write_to_a_read_only_root_names_the_opt_in() -> None:
    lines = ["Traceback (most recent call last):", "OSError: [Errno 30] Read-only file system: 'x'"]

    hint = hint_from_logs("Read the log lines above.", lines)

    assert "`kubernetes.read_only_root`" in hint
    assert hint_from_logs("Read the log lines above.", ["ValueError: no"]) == (
        "Read the log lines above."
    )


def test_a_node_briefly_out_of_touch_is_waited_for_not_reported_unschedulable() -> None:
    from paas.diagnosis import passing_unschedulable

    unreachable = (
        "0/1 nodes are available: 1 node(s) had untolerated taint "
        "{node.kubernetes.io/unreachable: }. preemption: 0/1 nodes are available: 1 "
        "Preemption is not helpful for scheduling."
    )
    assert passing_unschedulable(unreachable)
    assert passing_unschedulable(unreachable.replace("unreachable", "not-ready"))
    assert not passing_unschedulable(
        "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available"
    )
    assert not passing_unschedulable(
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
        "{node.kubernetes.io/unreachable: }. preemption: ..."
    )
    assert not passing_unschedulable("")
