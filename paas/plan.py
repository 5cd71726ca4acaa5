"""A reviewable plan: what a change would do, and an id that says whether it still would.

`paas diff --json` prints a plan, `paas diff --plan-file F` writes one, `paas
push --plan-file F` applies only while the cluster still matches it, and the
MCP server's change tools take a plan's id. A plan is what `plan_change()`
decides (the same decision `deploy()` makes) beside a server-side dry run of
every object, summed up for a reviewer: the image before and after, the names
of config vars added, changed and removed (never their values), whether pods
restart and the release phase runs, and each object created, updated or
deleted.

Its `id` is a digest of its `basis`: what applying it depends on (the app,
the change's kind, the current and the newest release, the next release's
image, config, formation and spec, and a digest of each object's dry-run
result). Config values enter only through an HMAC keyed with the app
namespace's uid, which a plan never holds, so a plan posted as a pull-request
comment cannot confirm a guessed value. Values generated afresh on each run
(app.json `generator: secret`) are left out, so two plans with nothing changed
in between have the same id; another release, a config change or an object
edited in the cluster changes it, and `drift_reasons()` says which.

The functions taking data (`plan_document`, `plan_id`, `drift_reasons`,
`check_against`, `markdown`) are pure; `make_plan` and `check_plan` read the
cluster.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from paas.errors import PlanDriftError, UsageError
from paas.releases import current

if TYPE_CHECKING:
    from collections.abc import Sequence

    from paas.kube.diff import Compared
    from paas.objects import Obj
    from paas.operations import Session
    from paas.project import Project
    from paas.releases import Change, ReleaseRecord

#: Stands in for a value generated afresh on each run, in the digests.
GENERATED = "(generated)"
#: The key of the config digests of an app with no namespace yet (it has no config vars).
NO_NAMESPACE_KEY = b"paas plan: no namespace yet"
# Fields the API server picks anew for an object it creates, so a dry run differs each time.
_VOLATILE_SERVICE_FIELDS = ("clusterIP", "clusterIPs")


def plan_id(basis: dict[str, Any]) -> str:
    """The id of a plan: a digest of its `basis` (`plan-` and 20 hex digits)."""
    canonical = json.dumps(basis, sort_keys=True, separators=(",", ":"))
    return "plan-" + hashlib.sha256(canonical.encode()).hexdigest()[:20]


def _keyed(value: object, key: bytes) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:16]


def _object_digest(after: Obj | None, generated: set[str], key: bytes) -> str:
    """A digest of one dry-run result; values keyed, generated values and volatile fields out."""
    from paas.kube.diff import cleaned

    if after is None:
        return "delete"
    obj = copy.deepcopy(after)
    if obj.get("kind") == "Secret":
        for field in ("data", "stringData"):
            for name in set(obj.get(field) or {}) & generated:
                obj[field][name] = GENERATED
    if obj.get("kind") == "Service":
        for field in _VOLATILE_SERVICE_FIELDS:
            obj.get("spec", {}).pop(field, None)
    return _keyed(cleaned(obj, key), key)


def _newest(history: Sequence[ReleaseRecord]) -> str | None:
    newest = max(history, key=lambda r: r.version, default=None)
    return f"{newest.name} {newest.status}" if newest is not None else None


def plan_document(
    *,
    app: str,
    kind: str,
    history: Sequence[ReleaseRecord],
    record: ReleaseRecord,
    unchanged: bool,
    compared: Sequence[Compared],
    key: bytes,
) -> dict[str, Any]:
    """The plan of a change as data (schema `diff` in paas.schemas, without `schema_version`).

    Args:
        app: The app.
        kind: The change's kind (`deploy`, `rollback`, `config`).
        history: The app's release records before the change.
        record: The release the change would make (the current one when `unchanged`).
        unchanged: The change would make no release.
        compared: Every object beside the cluster (`paas.kube.diff.compare`), Jobs left out.
        key: Keys the config digests: the app namespace's uid, never shown.
    """
    last = current(history)
    before = last.config if last is not None else {}
    after = record.config
    generated = set() if unchanged else set(record.app.generated_env) - set(before)
    pods_change = not unchanged and record.pod_version is None
    config_seen = {k: GENERATED if k in generated else v for k, v in sorted(after.items())}
    basis: dict[str, Any] = {
        "app": app,
        "action": kind,
        "current_release": last.name if last is not None else None,
        "newest_release": _newest(history),
        "release": record.name,
        "unchanged": unchanged,
        "image": record.image,
        "config": _keyed(config_seen, key),
        "formation": {p.name: p.replicas for p in record.app.processes.values()},
        "spec": hashlib.sha256(
            json.dumps(record.app.model_dump(mode="json"), sort_keys=True).encode()
        ).hexdigest()[:16],
        "pods": record.release().pod_name,
        "objects": {c.object: _object_digest(c.after, generated, key) for c in compared},
    }
    return {
        "id": plan_id(basis),
        "app": app,
        "action": kind,
        "unchanged": unchanged,
        "release": None if unchanged else record.name,
        "current_release": last.name if last is not None else None,
        "image": {"from": last.image if last is not None else None, "to": record.image},
        "config": {
            "added": sorted(set(after) - set(before)),
            "changed": sorted(k for k in set(after) & set(before) if after[k] != before[k]),
            "removed": sorted(set(before) - set(after)),
        },
        "restart": pods_change and last is not None,
        "release_phase": pods_change and bool(record.app.release_command),
        "objects": [
            {"object": c.object, "action": c.action, "diff": c.diff}
            for c in compared
            if c.action != "none"
        ],
        "basis": basis,
    }


def _release_words(value: object) -> str:
    return str(value) if value else "none"


def drift_reasons(planned: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What differs between the basis a plan was made on and the basis now, in words."""
    reasons: list[str] = []
    if planned.get("app") != now.get("app"):
        reasons.append(f"the plan is for app `{planned.get('app')}`, not `{now.get('app')}`")
    if planned.get("action") != now.get("action"):
        reasons.append(f"the plan is for a {planned.get('action')}, not a {now.get('action')}")
    if planned.get("current_release") != now.get("current_release"):
        reasons.append(
            f"the current release is {_release_words(now.get('current_release'))}, "
            f"the plan was made against {_release_words(planned.get('current_release'))}"
        )
    elif planned.get("newest_release") != now.get("newest_release"):
        reasons.append(
            f"the newest release is {_release_words(now.get('newest_release'))}, "
            f"the plan was made when it was {_release_words(planned.get('newest_release'))}"
        )
    if planned.get("image") != now.get("image"):
        reasons.append(f"the image is `{now.get('image')}`, the plan's is `{planned.get('image')}`")
    if planned.get("config") != now.get("config"):
        reasons.append("the config vars differ from the plan's")
    if planned.get("formation") != now.get("formation"):

        def words(formation: object) -> str:
            items = formation.items() if isinstance(formation, dict) else []
            return " ".join(f"{k}={v}" for k, v in sorted(items)) or "none"

        reasons.append(
            f"the formation is {words(now.get('formation'))}, "
            f"the plan's is {words(planned.get('formation'))}"
        )
    if planned.get("spec") != now.get("spec"):
        reasons.append("the app's spec (paas.yaml, Procfile, app.json) differs from the plan's")
    was, is_ = planned.get("objects") or {}, now.get("objects") or {}
    changed = sorted(name for name in set(was) & set(is_) if was[name] != is_[name])
    reasons += [f"`{name}` changed in the cluster since the plan" for name in changed[:5]]
    reasons += [f"`{name}` is new since the plan" for name in sorted(set(is_) - set(was))[:5]]
    reasons += [f"`{name}` is gone since the plan" for name in sorted(set(was) - set(is_))[:5]]
    if not reasons and planned != now:
        reasons.append("what the plan depends on differs")
    return reasons


def check_against(plan: object, now: dict[str, Any]) -> None:
    """Refuse to apply `plan` (a plan document as read) when `now` (made just now) differs.

    Raises:
        UsageError: `plan` is not a plan, or its id does not match its basis (it was edited).
        PlanDriftError: the cluster or the change no longer matches the plan.
    """
    if not (
        isinstance(plan, dict)
        and isinstance(plan.get("id"), str)
        and isinstance(plan.get("basis"), dict)
    ):
        raise UsageError(
            "this is not a plan made by `paas diff`",
            "Write one with `paas diff --plan-file plan.json`.",
        )
    if plan_id(plan["basis"]) != plan["id"]:
        raise UsageError(
            f"plan `{plan['id']}` was edited: its id does not match what it says",
            "Make a new one with `paas diff --plan-file plan.json`.",
        )
    if now["id"] == plan["id"]:
        return
    raise PlanDriftError(
        f"the cluster no longer matches plan `{plan['id']}`: "
        + "; ".join(drift_reasons(plan["basis"], now["basis"])),
        "Make a new plan (`paas diff --plan-file plan.json`), review it, and apply that one.",
    )


# ---- the shell: read the cluster


def namespace_key(session: Session, app: str) -> bytes:
    """The key of an app's config digests: its namespace's uid, which plans never hold."""
    namespace = session.kube.get("v1", "Namespace", None, session.settings.namespace(app))
    uid = (namespace or {}).get("metadata", {}).get("uid")
    return str(uid).encode() if uid else NO_NAMESPACE_KEY


def make_plan(
    session: Session,
    app: str,
    change: Change,
    *,
    history: list[ReleaseRecord] | None = None,
) -> dict[str, Any]:
    """The plan of `change` to `app` now, decided as `deploy()` decides it; changes nothing.

    `history` is the app's releases when the caller has just read them.

    Raises:
        ManifestError: as `next_release()` does.
        ClusterError: the API server refused a dry run.
    """
    from paas.deploy import app_history, plan_change
    from paas.kube.diff import compare

    if history is None:
        history = app_history(session.kube, session.settings, app)
    decided = plan_change(session.kube, session.settings, app, change, history=history)
    objects = [o for o in decided.objects if o["kind"] != "Job"]  # run once, never re-applied
    return plan_document(
        app=app,
        kind=change.kind,
        history=history,
        record=decided.record,
        unchanged=decided.unchanged,
        compared=compare(session.kube, objects, decided.prune),
        key=namespace_key(session, app),
    )


def guarded(change: Change, current_release: str | None) -> Change:
    """`change`, refused under the app's lock if the release current then is not `current_release`.

    The plan is checked just before the deploy; this closes the gap until the
    deploy holds the lock, for the one thing that moves most: the release.
    """
    if current_release is None:
        return change
    plain = replace(change, rebase=None)

    def rebase(live: ReleaseRecord) -> Change:
        if live.name != current_release:
            raise PlanDriftError(
                f"the current release is {live.name}, the plan was made against {current_release}",
                "Make a new plan, review it, and apply that one.",
            )
        return change.rebase(live) if change.rebase is not None else plain

    return replace(change, rebase=rebase)


def check_plan(
    session: Session, project: Project, ref: str, plan_file_data: object, *, source: str = ""
) -> Change:
    """The change `paas push --plan-file` deploys, refused unless the cluster matches the plan.

    Call it right before the deploy, with the image `ref` the push resolved or built.

    Raises:
        UsageError: `plan_file_data` is not a plan, or was edited.
        PlanDriftError: the cluster or the push no longer matches the plan.
    """
    change = project.deploy(ref, source=source)
    now = make_plan(session, project.name, change)
    check_against(plan_file_data, now)
    return guarded(change, now["current_release"])


def read_plan_file(text: str, where: str) -> object:
    """The plan in a plan file's `text`.

    Raises:
        UsageError: it is not JSON.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"`{where}` is not a plan: {error.msg} at line {error.lineno}",
            "Write one with `paas diff --plan-file plan.json`.",
        ) from None


# ---- for people: a pull-request comment


def _cell(value: object) -> str:
    return f"`{value}`" if value else "none"


def markdown(plan: dict[str, Any]) -> str:
    """A plan as a pull-request comment: a summary table, then the object diffs in <details>.

    Config vars are named, never valued; the diffs are redacted as `paas diff` redacts them.
    """
    config = plan["config"]
    image = plan["image"]
    if plan["unchanged"]:
        headline = f"A push would make no release: {plan['current_release']} stays current."
    else:
        headline = (
            f"A push would make release **{plan['release']}** "
            f"(current: {_release_words(plan['current_release'])})."
        )
    rows = [
        (
            "Image",
            "unchanged"
            if image["from"] == image["to"]
            else f"{_cell(image['from'])} → {_cell(image['to'])}",
        ),
        ("Config added", ", ".join(f"`{k}`" for k in config["added"]) or "none"),
        ("Config changed", ", ".join(f"`{k}`" for k in config["changed"]) or "none"),
        ("Config removed", ", ".join(f"`{k}`" for k in config["removed"]) or "none"),
        ("Pods restart", "yes" if plan["restart"] else "no"),
        ("Release phase runs", "yes" if plan["release_phase"] else "no"),
        ("Objects", _objects_summary(plan["objects"])),
    ]
    lines = [
        f"### paas plan for `{plan['app']}`",
        "",
        headline,
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        f"Plan id: `{plan['id']}` (config values are never shown)",
    ]
    if plan["objects"]:
        lines += ["", "<details><summary>Objects changed</summary>", ""]
        for change in plan["objects"]:
            fence = "````" if "```" in change["diff"] else "```"
            lines += [
                f"**{change['action']}** `{change['object']}`",
                "",
                f"{fence}diff",
                change["diff"].rstrip("\n"),
                fence,
                "",
            ]
        lines.append("</details>")
    return "\n".join(lines) + "\n"


def _objects_summary(objects: list[dict[str, Any]]) -> str:
    if not objects:
        return "no changes"
    counts: dict[str, int] = {}
    for change in objects:
        counts[change["action"]] = counts.get(change["action"], 0) + 1
    return ", ".join(f"{n} to {action}" for action, n in sorted(counts.items()))
