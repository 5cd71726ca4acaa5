"""`paas diff`: what a push would change, from a server-side dry run, config values redacted."""

from __future__ import annotations

import copy
import difflib
import hashlib
from typing import Any

import yaml

from paas.kube.api import Kube
from paas.objects import Obj

_NOISE_META = (
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
)
_NOISE_ANNOTATIONS = ("deployment.kubernetes.io/revision",)


def _redacted(obj: Obj) -> Obj:
    """A Secret's values replaced by a short hash: changes show, values never do."""
    if obj.get("kind") != "Secret":
        return obj
    out = copy.deepcopy(obj)
    for key in ("data", "stringData"):
        if key in out:
            out[key] = {
                k: f"(redacted {hashlib.sha256(str(v).encode()).hexdigest()[:8]})"
                for k, v in out[key].items()
            }
    return out


def _clean(obj: Obj | None) -> Obj | None:
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata", {})
    for key in _NOISE_META:
        meta.pop(key, None)
    annotations = meta.get("annotations", {})
    for key in _NOISE_ANNOTATIONS:
        annotations.pop(key, None)
    if not annotations:
        meta.pop("annotations", None)
    return _redacted(out)


def _text(obj: Obj | None) -> list[str]:
    if obj is None:
        return []
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False).splitlines(keepends=True)


def diff(kube: Kube, objects: list[Obj], prune: list[Obj]) -> list[tuple[str, str]]:
    """Unified diffs (name, text) of each object that would change, be created or deleted."""
    changes: list[tuple[str, str]] = []
    for obj in objects:
        meta = obj["metadata"]
        name = f"{obj['kind']}/{meta['name']}"
        live = kube.get(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
        after: Any = kube.apply(obj, dry_run=True)
        before_text, after_text = _text(_clean(live)), _text(_clean(after))
        if before_text != after_text:
            lines = difflib.unified_diff(before_text, after_text, f"live/{name}", f"push/{name}")
            changes.append((name, "".join(lines)))
    for obj in prune:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        text = "".join(difflib.unified_diff(_text(_clean(obj)), [], f"live/{name}", "/dev/null"))
        changes.append((name, text))
    return changes
