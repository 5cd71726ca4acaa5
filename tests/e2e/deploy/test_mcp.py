"""`paas mcp` driven by an MCP client over stdio, on the testbed: plan -> confirm -> apply.

The client lists the tools, plans a push of a prebuilt image, is refused
without the plan's id, pushes with it, reads status and logs, then rolls back
with a plan of its own; a plan made stale by another release is refused. Then
the CLI's side of the same rule: `paas diff --format markdown --plan-file`
and `paas push --plan-file` exiting 13 once the cluster drifted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from deploy_helpers import Images, Paas, wait_for_body
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]


async def call(client: Client, tool: str, **arguments: Any) -> tuple[bool, dict[str, Any]]:
    """A tool's (is_error, structured result)."""
    result = await client.call_tool(tool, arguments)
    assert result.structured_content is not None, result
    return bool(result.is_error), result.structured_content


def test_an_agent_plans_pushes_reads_and_rolls_back_over_mcp(
    paas: Paas, images: Images, app_dir: Path, app: str
) -> None:
    secret = "mcp-s3cr3t-value"

    async def agent() -> None:
        server = StdioServerParameters(
            command=sys.executable, args=["-m", "paas", "mcp"], env=paas.env, cwd=str(app_dir)
        )
        async with Client(server) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert {"plan", "push", "rollback", "status", "logs", "config_set"} <= tools

            failed, plan = await call(client, "plan", action="push", app=app, image=images.v1)
            assert not failed, plan
            assert (plan["release"], plan["current_release"]) == ("v1", None)
            assert plan["image"]["to"].startswith(images.v1.rpartition(":")[0] + "@sha256:")
            assert f"Deployment/{app}-web" in {o["object"] for o in plan["objects"]}

            failed, refused = await call(client, "push", app=app, image=images.v1)
            assert failed, refused

            assert refused["failure"]["class"] == "usage", refused

            failed, pushed = await call(
                client, "push", app=app, image=images.v1, plan_id=plan["id"]
            )
            assert not failed, pushed
            assert (pushed["status"], pushed["release"]) == ("succeeded", "v1")
            assert pushed["plan_id"] == plan["id"]
            wait_for_body(app, "release=v1")

            # A config change by plan: the value never comes back.
            _, config_plan = await call(
                client, "plan", action="config_set", app=app, config={"TOKEN": secret}
            )
            assert config_plan["config"]["added"] == ["TOKEN"]
            failed, changed = await call(
                client, "config_set", app=app, config={"TOKEN": secret}, plan_id=config_plan["id"]
            )
            assert not failed, changed
            assert changed["release"] == "v2", changed
            _, shown = await call(client, "config_get", app=app)
            assert shown["config"] == {"TOKEN": None}

            failed, status = await call(client, "status", app=app)
            assert not failed, status
            assert status["release"] == "v2", status
            assert status["processes"][0]["ready"] == 1
            failed, logs = await call(client, "logs", app=app, lines=20)
            assert not failed, logs

            assert logs["lines"], logs

            # A rollback by plan; a plan made before another release is refused.
            _, back = await call(client, "plan", action="rollback", app=app, release="v1")
            assert (back["release"], back["config"]["removed"]) == ("v3", ["TOKEN"])
            assert paas("config", "set", "OTHER=1", "--app", app).returncode == 0  # v3
            failed, drifted = await call(
                client, "rollback", app=app, release="v1", plan_id=back["id"]
            )
            assert failed, drifted
            assert drifted["failure"]["class"] == "plan-drift", drifted
            assert drifted["failure"]["exit_code"] == 13
            assert (
                "the current release is v3, the plan was made against v2"
                in (drifted["failure"]["message"])
            )
            _, back = await call(client, "plan", action="rollback", app=app, release="v1")
            failed, rolled = await call(
                client, "rollback", app=app, release="v1", plan_id=back["id"]
            )
            assert not failed, rolled
            assert rolled["release"] == "v4", rolled
            everything = json.dumps([plan, pushed, config_plan, changed, status, logs, back])
            assert secret not in everything

    anyio.run(agent)
    assert "release=v4" in wait_for_body(app, "release=v4")


def test_diff_markdown_and_push_plan_file_refuses_a_drifted_cluster(
    paas: Paas, images: Images, app_dir: Path, app: str, tmp_path: Path
) -> None:
    assert paas("push", str(app_dir), "--app", app, "--image", images.v1).returncode == 0
    plan_file = tmp_path / "plan.json"
    comment = paas(
        "diff", str(app_dir), "--app", app, "--image", images.v2,
        "--format", "markdown", "--plan-file", str(plan_file),
    )  # fmt: skip
    assert comment.returncode == 0, comment.stderr
    assert comment.stdout.startswith(f"### paas plan for `{app}`\n"), comment.stdout
    assert "| Pods restart | yes |" in comment.stdout
    plan = json.loads(plan_file.read_text())
    assert plan["id"] in comment.stdout
    again = paas("diff", str(app_dir), "--app", app, "--image", images.v2, "--json")
    assert json.loads(again.stdout)["id"] == plan["id"]  # nothing changed: the same id
    assert paas("config", "set", "A=1", "--app", app).returncode == 0
    drifted = json.loads(
        paas("diff", str(app_dir), "--app", app, "--image", images.v2, "--json").stdout
    )
    assert drifted["id"] != plan["id"]
    refused = paas(
        "push", str(app_dir), "--app", app, "--image", images.v2, "--plan-file", str(plan_file),
        "--json",
    )  # fmt: skip
    assert refused.returncode == 13, refused.stdout + refused.stderr
    assert json.loads(refused.stdout)["failure"]["class"] == "plan-drift"
    fresh = tmp_path / "fresh.json"
    replanned = paas(
        "diff", str(app_dir), "--app", app, "--image", images.v2, "--plan-file", str(fresh)
    )
    assert replanned.returncode == 0, replanned.stderr
    applied = paas(
        "push", str(app_dir), "--app", app, "--image", images.v2, "--plan-file", str(fresh)
    )
    assert applied.returncode == 0, applied.stderr
    assert "release=v3" in wait_for_body(app, "release=v3")
