"""The JSON that `--json` prints: one versioned schema per command, and docs/json.md.

Scripts, CI jobs and agents read these documents, so their shape is a contract:
every document carries `schema_version`; a field is only ever added within a
version (readers must ignore fields they do not know); renaming or removing one
makes a new version. `python -m paas.schemas` writes docs/json.md from here, and
the tests validate real command output against these schemas.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_VERSION = 1

Schema = dict[str, Any]

_STR: Schema = {"type": "string"}
_INT: Schema = {"type": "integer"}
_BOOL: Schema = {"type": "boolean"}
_NUM: Schema = {"type": "number"}
_NULL_STR: Schema = {"type": ["string", "null"]}
_VERSION: Schema = {"type": "string", "pattern": "^v[0-9]+$"}
_DIGEST_REF: Schema = {"type": "string", "pattern": "@sha256:[0-9a-f]{64}$"}
_STATUS: Schema = {"enum": ["pending", "succeeded", "failed"]}


def _object(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


def _document(fields: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **_object({"schema_version": {"const": SCHEMA_VERSION}, **fields}, optional),
    }


FAILURE: Schema = _object(
    {
        "class": {
            "enum": [
                "usage",
                "manifest",
                "detect",
                "render",
                "policy",
                "cluster",
                "build",
                "release-phase",
                "rollout",
                "busy",
                "not-found",
                "registry",
                "plan-drift",
                "error",
                "interrupted",
            ]
        },
        "exit_code": _INT,
        "message": _STR,
        "hint": _STR,
    },
    {
        "reason": {
            **_STR,
            "description": "Why a rollout failed: CrashLoopBackOff, BootFailure, OOMKilled...",
        },
        "log_tail": {"type": "array", "items": _STR},
    },
)

#: One add-on as `addons` and `addons info` show it: never a credential.
_ADDON: Schema = _object(
    {
        "name": _STR,
        "type": {"enum": ["postgres", "redis"]},
        "plan": _STR,
        "provider": _STR,
        "app": {**_STR, "description": "The app it was created for; it runs in its namespace"},
        "namespace": _STR,
        "image": _STR,
        "created": _STR,
        "attachments": {
            "type": "array",
            "items": _object({"app": _STR, "config_var": _STR}),
        },
    },
    {"state": {**_STR, "description": "`ready`, or what its pod does instead (`addons info`)"}},
)

#: What push, deploy, promote and rollback print: one object, also when they fail.
CHANGE: Schema = _document(
    {
        "command": {
            "enum": ["push", "deploy", "promote", "rollback", "config set"],
            "description": "`config set` only from the `paas mcp` tool `config_set`",
        },
        "app": _STR,
        "status": {"enum": ["succeeded", "unchanged", "failed"]},
        "release": {**_NULL_STR, "description": "`v7`; null when no release was recorded"},
        "image": {"type": ["string", "null"], "pattern": "@sha256:[0-9a-f]{64}$"},
        "digest": {"type": ["string", "null"], "pattern": "^sha256:[0-9a-f]{64}$"},
        "source": {**_STR, "description": "Where a prebuilt image came from; '' for a build"},
        "url": _NULL_STR,
        "failure": {"oneOf": [{"type": "null"}, FAILURE]},
        "seconds": {
            "type": "object",
            "description": "Seconds per step (build, deploy) and `total`",
            "required": ["total"],
            "additionalProperties": _NUM,
        },
    },
    {
        "description": _STR,
        "rolled_back_to": _NULL_STR,
        "promoted_from": _STR,
        "plan_id": {**_STR, "description": "The plan a `paas mcp` change tool applied"},
        "waited": {
            "type": "boolean",
            "description": "false with `--no-wait`: applied, the rollout not waited for",
        },
    },
)

RELEASE: Schema = _object(
    {
        "version": _VERSION,
        "change": _STR,
        "description": _STR,
        "image": _STR,
        "image_kind": _STR,
        "commit": _STR,
        "source": _STR,
        "author": _STR,
        "created": _STR,
        "status": _STATUS,
        "failure": _STR,
        "config_keys": {"type": "array", "items": _STR},
        "processes": {"type": "object", "additionalProperties": _INT},
    },
    {"pod_version": {"type": ["integer", "null"]}, "first_deploy": _BOOL},
)

POD: Schema = _object(
    {"name": _STR, "state": _STR, "restarts": _INT, "age_seconds": _INT, "release": _STR}
)
AUTOSCALE: Schema = _object(
    {
        "current": _INT,
        "desired": _INT,
        "min": _INT,
        "max": _INT,
        "cpu_target_percent": {"type": ["integer", "null"]},
        "cpu_percent": {"type": ["integer", "null"], "description": "null: no CPU reading"},
        "metrics_available": _BOOL,
        "problem": _NULL_STR,
        "hint": _NULL_STR,
    }
)
CHECK: Schema = _object({"name": _STR, "ok": _BOOL, "detail": _STR, "fix": _STR})

#: Command (as typed) -> the schema of what `--json` prints.
SCHEMAS: dict[str, Schema] = {
    "push": CHANGE,
    "deploy": CHANGE,
    "promote": CHANGE,
    "rollback": CHANGE,
    "releases": _document({"app": _STR, "releases": {"type": "array", "items": RELEASE}}),
    "releases info": _document({"app": _STR, "release": RELEASE}),
    "ps": _document(
        {
            "app": _STR,
            "release": _VERSION,
            "processes": {
                "type": "array",
                "items": _object(
                    {
                        "process": _STR,
                        "desired": _INT,
                        "ready": _INT,
                        "release": _STR,
                        "pods": {"type": "array", "items": POD},
                    },
                    {"autoscale": {"oneOf": [{"type": "null"}, AUTOSCALE]}},
                ),
            },
        }
    ),
    "config": _document(
        {
            "app": _STR,
            "redacted": _BOOL,
            "config": {
                "type": "object",
                "description": "Name -> value; every value null unless `--reveal`",
                "additionalProperties": _NULL_STR,
            },
        }
    ),
    "apps": _document(
        {
            "apps": {
                "type": "array",
                "items": _object(
                    {
                        "name": _STR,
                        "namespace": _STR,
                        "release": _STR,
                        "created": _STR,
                        "review_of": _STR,
                    }
                ),
            }
        }
    ),
    "addons": _document({"addons": {"type": "array", "items": _ADDON}}),
    "addons info": _document({"addon": {**_ADDON, "required": [*_ADDON["required"], "state"]}}),
    "apps info": _document(
        {
            "name": _STR,
            "url": _STR,
            "namespace": _STR,
            "release": _VERSION,
            "image": _STR,
            "source": _STR,
            "deployed_by": _STR,
            "deployed_at": _STR,
            "processes": {"type": "object", "additionalProperties": _INT},
            "domains": {"type": "array", "items": _STR},
        }
    ),
    "domains": _document(
        {"app": _STR, "default": _STR, "custom": {"type": "array", "items": _STR}}
    ),
    "diff": _document(
        {
            "id": {
                "type": "string",
                "pattern": "^plan-[0-9a-f]{20}$",
                "description": "A digest of `basis`: the same while nothing the change depends on "
                "changed; `paas push --plan-file` and the MCP tools apply only a plan whose id "
                "still matches",
            },
            "app": _STR,
            "action": {"enum": ["deploy", "rollback", "config"]},
            "unchanged": _BOOL,
            "release": {**_NULL_STR, "description": "The release the change would make"},
            "current_release": _NULL_STR,
            "image": {
                "type": "object",
                "required": ["from", "to"],
                "properties": {"from": _NULL_STR, "to": _NULL_STR},
            },
            "config": _object(
                {
                    "added": {"type": "array", "items": _STR},
                    "changed": {"type": "array", "items": _STR},
                    "removed": {"type": "array", "items": _STR},
                }
            ),
            "restart": _BOOL,
            "release_phase": _BOOL,
            "objects": {
                "type": "array",
                "items": _object(
                    {
                        "object": _STR,
                        "action": {"enum": ["create", "update", "delete"]},
                        "diff": _STR,
                    }
                ),
            },
            "basis": {
                "type": "object",
                "description": "What the id is a digest of: names, and digests of the rest "
                "(config values only through a key the plan does not hold)",
            },
        }
    ),
    "doctor": _document({"ok": _BOOL, "checks": {"type": "array", "items": CHECK}}),
}


#: What the `logs` tool of `paas mcp` returns (the CLI's `paas logs` prints lines).
LOGS: Schema = _document(
    {
        "app": _STR,
        "lines": {
            "type": "array",
            "items": _STR,
            "description": "`TIME app[SOURCE]: TEXT`, oldest first; config values redacted",
        },
    }
)

#: `paas mcp` tool -> the schema of its result (its `outputSchema`; failures are error
#: results holding `status: failed` and `failure`).
TOOL_SCHEMAS: dict[str, Schema] = {
    "list_apps": SCHEMAS["apps"],
    "status": SCHEMAS["ps"],
    "releases": SCHEMAS["releases"],
    "logs": LOGS,
    "config_get": SCHEMAS["config"],
    "plan": SCHEMAS["diff"],
    "push": CHANGE,
    "rollback": CHANGE,
    "config_set": CHANGE,
}


def document(command: str, data: dict[str, Any]) -> dict[str, Any]:
    """`data` as command `command` (or `paas mcp` tool) prints it: `schema_version` first."""
    assert command in SCHEMAS or command in TOOL_SCHEMAS, command
    return {"schema_version": SCHEMA_VERSION, **data}


def reference() -> str:
    """docs/json.md: how to read the documents, then each command's schema."""
    lines = [
        "# JSON output",
        "",
        "Every command that reports takes `--json` and then prints exactly one JSON",
        "document on stdout; progress and messages go to stderr. Each document has",
        f"`schema_version` (now {SCHEMA_VERSION}). Within a version fields are only ever",
        "added, so ignore the ones you do not know; a renamed or removed field makes a",
        "new version. The schemas below (JSON Schema 2020-12) are generated from",
        "`paas/schemas.py`, and the test suite validates real output against them.",
        "",
        "`push`, `deploy`, `promote` and `rollback` print their one object also when",
        "they fail: `status` is `failed` and `failure` says the class (as",
        "[exit-codes.md](exit-codes.md) lists them), the message and hint, and for a",
        "rollout the reason and the last log lines. The exit code is the class's code.",
        "Config values never appear in JSON except from `paas config --json --reveal`.",
        "",
    ]
    for command, schema in SCHEMAS.items():
        lines += [
            f"## `paas {command} --json`",
            "",
            "```json",
            json.dumps(schema, indent=2),
            "```",
            "",
        ]
    same: dict[int, str] = {}
    for command, schema in SCHEMAS.items():
        same.setdefault(id(schema), command)
    lines += [
        "## `paas mcp` tools",
        "",
        "Each tool of [`paas mcp`](mcp.md) declares the schema of its result as its",
        "`outputSchema`: the document of the matching command above, except `logs`.",
        "A failed call is an error result (`isError`) holding `status: failed` and",
        "`failure`, as a failed push prints it.",
        "",
        "| tool | result |",
        "|---|---|",
    ]
    for tool, schema in TOOL_SCHEMAS.items():
        name = same.get(id(schema))
        lines.append(f"| `{tool}` | " + (f"as `paas {name} --json`" if name else "below") + " |")
    lines += ["", "### `logs`", "", "```json", json.dumps(LOGS, indent=2), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference(), end="")
