"""Plans (pure): an id stable while nothing changes, drift explained, a PR comment without values."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import jsonschema
import pytest

from paas.errors import ExitCode, PlanDriftError, UsageError
from paas.kube.diff import Compared
from paas.manifest import AppSpec
from paas.plan import check_against, drift_reasons, markdown, plan_document, plan_id
from paas.releases import ReleaseRecord
from paas.schemas import SCHEMAS, document

IMAGE_A = "r/a@sha256:" + "a" * 64
IMAGE_B = "r/a@sha256:" + "b" * 64
SECRET = "hunter2-very-secret"
KEY = b"the namespace uid"


def record(version: int, image: str, config: dict[str, str], **app: Any) -> ReleaseRecord:
    return ReleaseRecord(
        version=version,
        change="deploy",
        description="d",
        image=image,
        status="succeeded",
        config=config,
        app=AppSpec(name="a", processes={}, **app),
    )


def secret_object(values: dict[str, str]) -> dict[str, Any]:
    data = {k: base64.b64encode(v.encode()).decode() for k, v in values.items()}
    return {"kind": "Secret", "metadata": {"name": "a-config-v3"}, "data": data}


def deployment(replicas: int = 1) -> dict[str, Any]:
    return {
        "kind": "Deployment",
        "metadata": {"name": "a-web", "uid": "u1", "resourceVersion": "7"},
        "spec": {"replicas": replicas},
    }


def plan(
    history: list[ReleaseRecord] | None = None,
    new: ReleaseRecord | None = None,
    objects: list[Compared] | None = None,
    key: bytes = KEY,
) -> dict[str, Any]:
    live = record(2, IMAGE_A, {"TOKEN": SECRET})
    return plan_document(
        app="a",
        kind="deploy",
        history=history if history is not None else [record(1, IMAGE_A, {}), live],
        record=new or record(3, IMAGE_B, {"TOKEN": SECRET}),
        unchanged=False,
        compared=objects
        if objects is not None
        else [
            Compared("Deployment/a-web", "update", "-image: a\n+image: b\n", deployment()),
            Compared("Secret/a-config-v3", "create", "+TOKEN: (redacted 1234abcd)\n", None),
            Compared("Service/a-web", "none", "", {"kind": "Service", "spec": {"clusterIP": "x"}}),
        ],
        key=key,
    )


def test_the_id_is_stable_and_the_document_holds_to_its_schema() -> None:
    first, second = plan(), plan()
    assert first["id"] == second["id"]
    assert first["id"].startswith("plan-")
    assert first["id"] == plan_id(first["basis"])
    jsonschema.validate(document("diff", first), SCHEMAS["diff"])
    assert [o["object"] for o in first["objects"]] == ["Deployment/a-web", "Secret/a-config-v3"]
    assert first["image"] == {"from": IMAGE_A, "to": IMAGE_B}


def test_no_secret_value_is_in_a_plan_even_encoded() -> None:
    data = plan(
        objects=[Compared("Secret/a-config-v3", "create", "", secret_object({"T": SECRET}))]
    )
    text = json.dumps(data) + markdown(data)
    assert SECRET not in text
    assert base64.b64encode(SECRET.encode()).decode() not in text


def test_another_release_changes_the_id_and_says_so() -> None:
    made = plan()
    newer = [record(1, IMAGE_A, {}), record(2, IMAGE_A, {"TOKEN": SECRET})]
    newer.append(record(3, IMAGE_A, {"TOKEN": SECRET}))
    now = plan(history=newer, new=record(4, IMAGE_B, {"TOKEN": SECRET}))
    assert now["id"] != made["id"]
    with pytest.raises(PlanDriftError) as caught:
        check_against(made, now)
    assert caught.value.exit_code == ExitCode.PLAN_DRIFT == 13
    assert "the current release is v3, the plan was made against v2" in caught.value.message
    assert caught.value.message.startswith(f"the cluster no longer matches plan `{made['id']}`: ")


def test_a_failed_release_since_the_plan_is_drift_too() -> None:
    history = [record(1, IMAGE_A, {}), record(2, IMAGE_A, {"TOKEN": SECRET})]
    made = plan(history=history)
    failed = record(3, IMAGE_B, {"TOKEN": SECRET})
    failed.status = "failed"
    now = plan(history=[*history, failed], new=record(4, IMAGE_B, {"TOKEN": SECRET}))
    reasons = drift_reasons(made["basis"], now["basis"])
    assert (
        reasons[0] == "the newest release is v3 failed, the plan was made when it was v2 succeeded"
    )


def test_a_config_value_change_is_drift_but_shown_without_the_value() -> None:
    made = plan()
    now = plan(new=record(3, IMAGE_B, {"TOKEN": "another"}))
    assert drift_reasons(made["basis"], now["basis"]) == ["the config vars differ from the plan's"]
    assert "another" not in json.dumps(now)


def test_an_object_edited_in_the_cluster_is_drift() -> None:
    made = plan()
    edited = [Compared("Deployment/a-web", "update", "", deployment(replicas=5))]
    now = plan(objects=edited)
    reasons = drift_reasons(made["basis"], now["basis"])
    assert "`Deployment/a-web` changed in the cluster since the plan" in reasons
    assert "`Secret/a-config-v3` is gone since the plan" in reasons


def test_volatile_and_generated_values_keep_the_id_stable() -> None:
    def run(cluster_ip: str, generated: str) -> dict[str, Any]:
        service = {"kind": "Service", "metadata": {"name": "a-web", "uid": cluster_ip}}
        service["spec"] = {"clusterIP": cluster_ip, "clusterIPs": [cluster_ip]}
        return plan(
            new=record(
                3,
                IMAGE_B,
                {"TOKEN": SECRET, "SESSION_KEY": generated},
                generated_env=("SESSION_KEY",),
            ),
            objects=[
                Compared("Service/a-web", "create", "", service),
                Compared(
                    "Secret/a-config-v3", "create", "", secret_object({"SESSION_KEY": generated})
                ),
            ],
        )

    assert run("10.0.0.1", "random-1")["id"] == run("10.0.0.2", "random-2")["id"]


def test_the_key_is_the_clusters_so_a_plan_cannot_confirm_a_guess() -> None:
    assert plan(key=b"one namespace")["basis"]["config"] != plan(key=b"another")["basis"]["config"]


def test_a_plan_that_is_not_one_or_was_edited_is_a_usage_error() -> None:
    now = plan()
    with pytest.raises(UsageError, match="not a plan"):
        check_against([1, 2], now)
    edited = copy.deepcopy(now)
    edited["basis"]["image"] = IMAGE_A
    with pytest.raises(UsageError, match="was edited"):
        check_against(edited, now)
    check_against(copy.deepcopy(now), now)  # the same plan: no error


def test_markdown_is_a_pull_request_comment_with_names_and_no_values() -> None:
    data = plan(new=record(3, IMAGE_B, {"TOKEN": SECRET, "ADDED": "v"}, release_command="m"))
    text = markdown(data)
    assert text.startswith("### paas plan for `a`\n")
    assert "A push would make release **v3** (current: v2)." in text
    assert f"| Image | `{IMAGE_A}` → `{IMAGE_B}` |" in text
    assert "| Config added | `ADDED` |" in text
    assert "| Pods restart | yes |" in text
    assert "| Release phase runs | yes |" in text
    assert "| Objects | 1 to create, 1 to update |" in text
    assert "<details><summary>Objects changed</summary>" in text
    assert "**update** `Deployment/a-web`\n\n```diff\n-image: a\n+image: b\n```" in text
    assert f"Plan id: `{data['id']}`" in text
    assert SECRET not in text
    assert "v\n" not in text.split("<details>")[0]  # no value of ADDED in the summary


def test_a_guarded_change_is_refused_under_the_lock_when_another_release_landed() -> None:
    from paas.plan import guarded
    from paas.releases import Change, next_release

    change = guarded(Change("deploy", "Deploy", image=IMAGE_B), "v2")
    history = [record(1, IMAGE_A, {}), record(2, IMAGE_A, {})]
    made = next_release(history, change, app_name="a", author="", now="", new_secret=str)
    assert made is not None
    assert (made.name, made.image) == ("v3", IMAGE_B)
    with pytest.raises(
        PlanDriftError, match="the current release is v3, the plan was made against v2"
    ):
        next_release(
            [*history, record(3, IMAGE_A, {})],
            change,
            app_name="a",
            author="",
            now="",
            new_secret=str,
        )
