"""What `paas diff --json` says of a plan: names of config changes only, restart, release phase (pure)."""

from __future__ import annotations

import jsonschema

from paas.kube.diff import Compared
from paas.manifest import AppSpec
from paas.plan import plan_document
from paas.releases import ReleaseRecord
from paas.schemas import SCHEMAS, document

IMAGE_A = "r/a@sha256:" + "a" * 64
IMAGE_B = "r/a@sha256:" + "b" * 64


def record(version: int, image: str, config: dict[str, str], **app: object) -> ReleaseRecord:
    return ReleaseRecord(
        version=version,
        change="deploy",
        description="d",
        image=image,
        status="succeeded",
        config=config,
        app=AppSpec(name="a", processes={}, **app),  # type: ignore[arg-type]
    )


def plan_summary(
    app: str, new: ReleaseRecord, unchanged: bool, live: ReleaseRecord, changes: list[Compared]
) -> dict[str, object]:
    return plan_document(
        app=app,
        kind="deploy",
        history=[live],
        record=new,
        unchanged=unchanged,
        compared=changes,
        key=b"k",
    )


def test_config_names_and_image_change_never_values() -> None:
    live = record(2, IMAGE_A, {"KEEP": "1", "GONE": "x", "SECRET": "old-value"})
    new = record(
        3, IMAGE_B, {"KEEP": "1", "SECRET": "new-value", "ADDED": "y"}, release_command="m"
    )
    data = plan_summary(
        "a", new, False, live, [Compared("Deployment/a-web", "update", "+x", {"kind": "D"})]
    )
    jsonschema.validate(document("diff", data), SCHEMAS["diff"])
    assert data["config"] == {"added": ["ADDED"], "changed": ["SECRET"], "removed": ["GONE"]}
    assert data["image"] == {"from": IMAGE_A, "to": IMAGE_B}
    assert (data["release"], data["current_release"]) == ("v3", "v2")
    assert (data["restart"], data["release_phase"]) == (True, True)
    assert "new-value" not in str(data)
    assert "old-value" not in str(data)


def test_a_release_that_keeps_the_pods_restarts_nothing_and_unchanged_makes_none() -> None:
    live = record(2, IMAGE_A, {})
    scaled = record(3, IMAGE_A, {}, release_command="m")
    scaled.pod_version = 2
    data = plan_summary("a", scaled, False, live, [])
    assert (data["restart"], data["release_phase"]) == (False, False)
    same = plan_summary("a", live, True, live, [])
    assert (same["unchanged"], same["release"], same["restart"]) == (True, None, False)
    assert same["image"] == {"from": IMAGE_A, "to": IMAGE_A}
