"""`paas mcp`: the operations of paas as MCP tools for coding agents, over stdio."""

from __future__ import annotations

import typer

from paas.cli.common import ContextOption


def mcp(context: ContextOption = None) -> None:
    """Serve paas's operations as Model Context Protocol tools on stdin and stdout.

    An agent (or any MCP client) starts this command and talks to it over
    stdio. Tools: list_apps, status, releases, logs (at most 500 lines, no
    follow), config_get (names only), plan, push, rollback and config_set.
    Every change is plan -> confirm -> apply: `plan` returns a plan with an
    id, and push, rollback and config_set apply only with that `plan_id`,
    and only while the cluster still matches the plan. Change tools wait for
    the rollout and return its result, or its failure class and last log
    lines. No tool returns a config value. See docs/mcp.md.

    \b
    Example:
      paas mcp
      paas mcp --context staging
    """
    from paas.mcp.server import serve

    serve(context)


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command()(mcp)
