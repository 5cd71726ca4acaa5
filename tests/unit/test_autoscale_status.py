"""What `paas ps` reads from an HPA: replicas, bounds, CPU against the target, or why no CPU."""

from __future__ import annotations

from paas.operations import _autoscale_row

SPEC = {
    "minReplicas": 1,
    "maxReplicas": 3,
    "metrics": [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 20},
            },
        }
    ],
}


def test_a_scaled_hpa_shows_replicas_bounds_and_cpu() -> None:
    row = _autoscale_row(
        {
            "spec": SPEC,
            "status": {
                "currentReplicas": 1,
                "desiredReplicas": 2,
                "currentMetrics": [
                    {
                        "type": "Resource",
                        "resource": {"name": "cpu", "current": {"averageUtilization": 57}},
                    }
                ],
                "conditions": [{"type": "ScalingActive", "status": "True"}],
            },
        }
    )
    assert row == {
        "current": 1,
        "desired": 2,
        "min": 1,
        "max": 3,
        "cpu_target_percent": 20,
        "cpu_percent": 57,
        "metrics_available": True,
        "problem": None,
        "hint": None,
    }


def test_no_metrics_names_the_hpas_reason_and_what_to_check() -> None:
    message = "the HPA was unable to compute the replica count: failed to get cpu utilization"
    row = _autoscale_row(
        {
            "spec": SPEC,
            "status": {
                "currentReplicas": 1,
                "desiredReplicas": 1,
                "conditions": [
                    {
                        "type": "ScalingActive",
                        "status": "False",
                        "reason": "FailedGetResourceMetric",
                        "message": message,
                    }
                ],
            },
        }
    )
    assert row["metrics_available"] is False
    assert row["cpu_percent"] is None
    assert row["problem"] == f"metrics unavailable: {message}"
    assert "metrics-server" in row["hint"]


def test_a_new_hpa_without_status_is_waiting_for_its_first_reading() -> None:
    row = _autoscale_row({"spec": SPEC})
    assert (row["current"], row["desired"], row["metrics_available"]) == (0, 0, False)
    assert row["problem"] == "metrics unavailable: the HPA has no CPU reading yet"
