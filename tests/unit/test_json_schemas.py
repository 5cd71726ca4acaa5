"""The --json contract: docs/json.md is generated from paas.schemas, and the schemas hold (pure)."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from paas.errors import BuildError, RolloutError
from paas.results import Steps, change_result
from paas.schemas import SCHEMA_VERSION, SCHEMAS, document, reference

DOCS = Path(__file__).resolve().parents[2] / "docs"
IMAGE = "registry.example.com/api@sha256:" + "c" * 64


def test_docs_json_md_is_generated_from_the_schemas() -> None:
    assert (DOCS / "json.md").read_text() == reference(), (
        "docs/json.md is stale: run `python -m paas.schemas > docs/json.md`"
    )


@pytest.mark.parametrize("command", sorted(SCHEMAS))
def test_each_schema_is_a_valid_2020_12_schema_with_a_version(command: str) -> None:
    schema = SCHEMAS[command]
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "schema_version" in schema["required"]
    with pytest.raises(jsonschema.ValidationError):  # a document without its version fails
        jsonschema.validate({}, schema)


def clock(ticks: list[float]):  # type: ignore[no-untyped-def]
    return lambda: ticks.pop(0)


def test_a_failed_change_is_one_valid_object_with_its_class_and_tail() -> None:
    error = RolloutError(
        "web did not become ready: CrashLoopBackOff",
        "Read the log lines.",
        reason="CrashLoopBackOff",
        log_lines=("Traceback", "ImportError: no module named flask"),
    )
    error.release = "v8"
    steps = Steps(clock([0.0, 0.0, 1.5, 1.5, 4.0, 4.0]))
    steps.start("build")
    steps.start("deploy")
    data = change_result("push", "api", steps, error=error, image=IMAGE)
    jsonschema.validate(data, SCHEMAS["push"])
    assert data["schema_version"] == SCHEMA_VERSION
    assert (data["status"], data["release"], data["digest"]) == (
        "failed",
        "v8",
        "sha256:" + "c" * 64,
    )
    assert data["failure"]["class"] == "rollout"
    assert data["failure"]["exit_code"] == 9
    assert data["failure"]["log_tail"][-1].startswith("ImportError")
    assert data["seconds"] == {"build": 1.5, "deploy": 2.5, "total": 4.0}


def test_a_build_failure_before_any_image_has_no_digest() -> None:
    data = change_result("push", "api", Steps(), error=BuildError("pip install failed"))
    jsonschema.validate(data, SCHEMAS["push"])
    assert (data["image"], data["digest"], data["release"]) == (None, None, None)


def test_a_document_with_a_wrong_shape_fails_validation() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document("apps", {"apps": [{"name": 3}]}), SCHEMAS["apps"])
    with pytest.raises(jsonschema.ValidationError):  # a value is a string or null
        jsonschema.validate(
            document("config", {"app": "a", "redacted": True, "config": {"K": 1}}),
            SCHEMAS["config"],
        )


def test_a_change_applied_with_no_wait_says_the_rollout_was_not_waited_for() -> None:
    from paas.deploy import Outcome
    from paas.manifest import AppSpec
    from paas.releases import ReleaseRecord

    record = ReleaseRecord(
        version=4,
        change="deploy",
        description="Deploy api",
        image=IMAGE,
        status="succeeded",
        app=AppSpec(name="api", processes={}),
    )  # type: ignore[call-arg]
    applied = Outcome(record, "http://api.example.com", waited=False)
    data = change_result("push", "api", Steps(), outcome=applied)
    jsonschema.validate(data, SCHEMAS["push"])
    assert (data["status"], data["release"], data["waited"]) == ("succeeded", "v4", False)
    waited = change_result("push", "api", Steps(), outcome=Outcome(record, "http://x"))
    assert waited["waited"] is True
    same = change_result(
        "push", "api", Steps(), outcome=Outcome(record, "http://x", unchanged=True)
    )
    assert "waited" not in same


def test_the_mcp_logs_schema_is_valid_and_needs_its_version() -> None:
    from paas.schemas import TOOL_SCHEMAS

    schema = TOOL_SCHEMAS["logs"]
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(document("logs", {"app": "api", "lines": ["x"]}), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"app": "api", "lines": ["x"]}, schema)
