"""`paas mcp` over stdio, as an agent starts it: its tools and schemas, and no change without a plan id."""

from __future__ import annotations

import sys

import anyio
from mcp.client.client import Client
from mcp.client.stdio import StdioServerParameters

from paas.mcp.tools import scrub
from paas.schemas import TOOL_SCHEMAS

TOOLS = {
    "list_apps",
    "status",
    "releases",
    "logs",
    "config_get",
    "plan",
    "push",
    "rollback",
    "config_set",
}


def test_paas_mcp_lists_its_tools_and_refuses_a_change_without_a_plan_id() -> None:
    async def session() -> None:
        server = StdioServerParameters(
            command=sys.executable,
            args=["-m", "paas", "mcp"],
            env={"KUBECONFIG": "/nonexistent", "PAAS_KUBECONFIG": ""},
        )
        async with Client(server) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == TOOLS
            logs = tools["logs"].input_schema["properties"]["lines"]
            assert (logs["minimum"], logs["maximum"]) == (1, 500)
            assert tools["plan"].input_schema["properties"]["action"]["enum"] == [
                "push",
                "rollback",
                "config_set",
            ]
            for name in ("push", "rollback", "config_set"):
                assert "plan_id" in tools[name].input_schema["properties"]
                assert tools[name].annotations.destructive_hint is True
            assert tools["status"].annotations.read_only_hint is True
            # Each result's schema is declared, so a client checks what it gets.
            for name, tool in tools.items():
                assert tool.output_schema == TOOL_SCHEMAS[name], name
            assert tools["push"].output_schema["properties"]["command"]["enum"][-1] == (
                "config set"
            )
            for name, arguments in (
                ("push", {"image": "registry.example.com/api:1"}),
                ("rollback", {"app": "api"}),
                ("config_set", {"app": "api", "config": {"A": "s3cr3t-value"}}),
            ):
                refused = await client.call_tool(name, arguments)
                assert refused.is_error
                failure = refused.structured_content["failure"]
                assert failure["class"] == "usage"
                assert failure["exit_code"] == 2
                assert failure["message"] == f"`{name}` needs the id of a plan made for it"
                assert "s3cr3t-value" not in str(refused)

    anyio.run(session)


def test_scrub_hides_config_values_in_output_lines() -> None:
    line = "release | connecting with password hunter2 to db (id 7)"
    assert (
        scrub(line, {"hunter2", "7"})
        == "release | connecting with password (redacted) to db (id 7)"
    )
