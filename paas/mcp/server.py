"""The MCP server of `paas mcp`: paas.mcp.tools as tools with JSON schemas, over stdio.

Each tool runs its work in a worker thread (`anyio.to_thread`), so a push
that waits minutes for a rollout does not stall the protocol on stdin and
stdout. A tool returns its JSON document as structured content (and as text,
for clients that read only text); a failure is an error result
(`isError`) holding the failure class, exit code, message, hint and the last
lines of output, config values redacted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from mcp.types import CallToolResult  # at run time: the tools' annotations are read
from pydantic import Field

from paas.errors import PaasError
from paas.mcp.tools import MAX_LOG_LINES, Action, Operations, Request

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

INSTRUCTIONS = """\
paas deploys apps to Kubernetes. Read with list_apps, status, releases, logs
and config_get. Every change is plan -> confirm -> apply: call `plan` with the
action (push, rollback or config_set) and its arguments, show the plan to the
user, then call the action's tool with the same arguments and the plan's `id`
as `plan_id`. A change without a plan id, or whose plan no longer matches the
cluster, is refused and changes nothing. Change tools wait until the rollout
has finished and return its result; on failure, its class and last log lines.
Config values are never returned."""

AppArg = Annotated[str, Field(description="The app name, as `list_apps` shows it.")]
PlanIdArg = Annotated[
    str | None,
    Field(description="The `id` of the plan `plan` returned for this very change (required)."),
]
PathArg = Annotated[
    str | None,
    Field(description="The app directory (its paas.yaml, Procfile). Default: the server's."),
]
ImageArg = Annotated[
    str | None,
    Field(description="A prebuilt image to deploy (tag or digest); none builds the directory."),
]
ReleaseArg = Annotated[
    str | None,
    Field(description="The release to roll back to, like `v3`. Default: the newest earlier one."),
]
ConfigArg = Annotated[
    dict[str, str] | None,
    Field(description="The config vars to set, {NAME: value}; values are never returned."),
]


def result(data: dict[str, Any], *, error: bool = False) -> CallToolResult:
    """A tool result: `data` as structured content and as its JSON text."""
    from mcp.types import TextContent

    text = json.dumps(data, indent=2, default=str)
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content=data, is_error=error
    )


def failure(error: PaasError) -> dict[str, Any]:
    """What a failed tool returns: the change document when it has one, else the failure."""
    from paas.results import failure_of

    data = getattr(error, "result", None)
    if isinstance(data, dict):
        return data
    return {"status": "failed", "failure": failure_of(error)}


async def run(work: Callable[[], dict[str, Any]]) -> CallToolResult:
    """Run `work` in a worker thread; its document, or its failure as an error result."""
    import anyio.to_thread

    try:
        data = await anyio.to_thread.run_sync(work)
    except PaasError as error:
        return result(failure(error), error=True)
    except Exception as error:  # a bug: its class only, never its text (it may hold values)
        data = {
            "status": "failed",
            "failure": {
                "class": "error",
                "exit_code": 1,
                "message": f"unexpected {type(error).__name__} in paas",
                "hint": "Run the same operation with the paas CLI and `--debug`, and report it.",
            },
        }
        return result(data, error=True)
    return result(data)


def build_server(ops: Operations) -> MCPServer:
    """The MCP server with one tool per operation, working through `ops`."""
    from mcp.server.mcpserver import MCPServer
    from mcp.types import ToolAnnotations

    from paas import __version__

    server: MCPServer = MCPServer("paas", version=__version__, instructions=INSTRUCTIONS)
    read = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
    change = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)

    @server.tool(annotations=read)
    async def list_apps() -> CallToolResult:
        """List the apps paas manages on the cluster, with each one's current release."""
        return await run(ops.list_apps)

    @server.tool(annotations=read)
    async def status(app: AppArg) -> CallToolResult:
        """The app's processes (desired and ready replicas, each pod's state), release and URL."""
        return await run(lambda: ops.status(app))

    @server.tool(annotations=read)
    async def releases(app: AppArg) -> CallToolResult:
        """The app's release history, newest first (config var names, never values)."""
        return await run(lambda: ops.releases(app))

    @server.tool(annotations=read)
    async def logs(
        app: AppArg,
        lines: Annotated[
            int, Field(ge=1, le=MAX_LOG_LINES, description="The newest lines to return.")
        ] = 100,
        process: Annotated[
            str | None, Field(description="Only this process type (`web`, `release`).")
        ] = None,
    ) -> CallToolResult:
        """The newest log lines of every pod of the app, merged in time order (no follow)."""
        return await run(lambda: ops.logs(app, lines, process))

    @server.tool(annotations=read)
    async def config_get(app: AppArg) -> CallToolResult:
        """The names of the app's config vars; every value is null (redacted)."""
        return await run(lambda: ops.config_get(app))

    @server.tool(annotations=read)
    async def plan(
        action: Annotated[Action, Field(description="The change to plan.")],
        app: Annotated[
            str | None, Field(description="The app (push: default from the directory).")
        ] = None,
        path: PathArg = None,
        image: ImageArg = None,
        release: ReleaseArg = None,
        config: ConfigArg = None,
    ) -> CallToolResult:
        """Plan a change without making it: push (an image or a directory), rollback, config_set.

        Returns the plan (the `diff` document): the release it would make, the
        image before and after, config names added/changed/removed, whether
        pods restart and the release phase runs, each object's diff, and the
        `id` to pass as `plan_id` to the change's tool. A push of a directory
        builds its image first, so that the plan names the exact digest.
        """
        request = Request(action, app, path, image, release, dict(config or {}))
        return await run(lambda: ops.plan(request))

    @server.tool(annotations=change)
    async def push(
        plan_id: PlanIdArg = None,
        app: Annotated[str | None, Field(description="The app. Default: the directory's.")] = None,
        path: PathArg = None,
        image: ImageArg = None,
    ) -> CallToolResult:
        """Deploy an image or a directory, as planned: waits for the rollout, returns its result.

        Requires `plan_id` from `plan` with action `push` and the same
        arguments; refused when the cluster no longer matches that plan.
        """
        request = Request("push", app, path, image)
        return await run(lambda: ops.apply(request, plan_id))

    @server.tool(annotations=change)
    async def rollback(
        app: AppArg, plan_id: PlanIdArg = None, release: ReleaseArg = None
    ) -> CallToolResult:
        """Roll back to an earlier release's image and config, as planned; waits for the rollout.

        Requires `plan_id` from `plan` with action `rollback` and the same arguments.
        """
        request = Request("rollback", app, release=release)
        return await run(lambda: ops.apply(request, plan_id))

    @server.tool(annotations=change)
    async def config_set(
        app: AppArg, config: ConfigArg = None, plan_id: PlanIdArg = None
    ) -> CallToolResult:
        """Set config vars (a new release and a rolling restart), as planned; waits for it.

        Requires `plan_id` from `plan` with action `config_set` and the same `config`.
        """
        request = Request("config_set", app, config=dict(config or {}))
        return await run(lambda: ops.apply(request, plan_id))

    declare_output_schemas(server)
    return server


def declare_output_schemas(server: MCPServer) -> None:
    """Give each tool its result's JSON schema (paas.schemas.TOOL_SCHEMAS) as `outputSchema`.

    The tools build their own `CallToolResult`, so the SDK cannot derive a
    schema from a return type; a tool's metadata takes a hand-made one.
    """
    from paas.schemas import TOOL_SCHEMAS

    for name, schema in TOOL_SCHEMAS.items():
        tool = server._tool_manager.get_tool(name)  # the SDK has no public setter
        assert tool is not None, name
        tool.fn_metadata.output_schema = schema


def serve(context: str | None) -> None:
    """Serve the tools over stdio until the client closes stdin."""
    build_server(Operations(context)).run("stdio")
