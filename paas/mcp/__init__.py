"""`paas mcp`: the operations of paas as Model Context Protocol tools for coding agents.

`tools` does the work (plain functions returning JSON documents); `server`
makes them MCP tools over stdio. See docs/mcp.md.
"""
