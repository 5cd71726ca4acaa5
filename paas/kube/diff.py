"""`paas diff`: what a push would change, from a server-side dry run, config values redacted.

A Secret's values are shown as ``(redacted 1a2b3c4d)``: 8 hex digits of an
HMAC-SHA256 of the value with a random key made for each run. Within one
diff the same value has the same digest, so a line shows whether a value
changed; from one run to the next the digests differ, so a pasted diff
cannot be used to confirm a guessed value (an unkeyed hash of a weak
password can be).
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import hmac
import secrets
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


def redaction_key() -> bytes:
    """A fresh random key for the digests of one diff."""
    return secrets.token_bytes(32)


def redacted_value(value: object, key: bytes) -> str:
    """How a Secret value is shown: a digest keyed with `key`, which tells values apart only."""
    digest = hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()[:8]
    return f"(redacted {digest})"


def _redacted(obj: Obj, key: bytes) -> Obj:
    """A Secret's values replaced by a keyed digest: changes show, values never do."""
    if obj.get("kind") != "Secret":
        return obj
    out = copy.deepcopy(obj)
    for field in ("data", "stringData"):
        if field in out:
            out[field] = {k: redacted_value(v, key) for k, v in out[field].items()}
    return out


def _clean(obj: Obj | None, key: bytes) -> Obj | None:
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata", {})
    for field in _NOISE_META:
        meta.pop(field, None)
    annotations = meta.get("annotations", {})
    for annotation in _NOISE_ANNOTATIONS:
        annotations.pop(annotation, None)
    if not annotations:
        meta.pop("annotations", None)
    return _redacted(out, key)


def _text(obj: Obj | None) -> list[str]:
    if obj is None:
        return []
    return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False).splitlines(keepends=True)


def diff(
    kube: Kube, objects: list[Obj], prune: list[Obj], *, key: bytes | None = None
) -> list[tuple[str, str]]:
    """Unified diffs (name, text) of each object that would change, be created or deleted.

    Secret values are redacted with `key` (default: a fresh random one, `redaction_key()`).
    """
    key = key or redaction_key()
    changes: list[tuple[str, str]] = []
    for obj in objects:
        meta = obj["metadata"]
        name = f"{obj['kind']}/{meta['name']}"
        live = kube.get(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
        after: Any = kube.apply(obj, dry_run=True)
        before_text, after_text = _text(_clean(live, key)), _text(_clean(after, key))
        if before_text != after_text:
            lines = difflib.unified_diff(before_text, after_text, f"live/{name}", f"push/{name}")
            changes.append((name, "".join(lines)))
    for obj in prune:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        text = "".join(
            difflib.unified_diff(_text(_clean(obj, key)), [], f"live/{name}", "/dev/null")
        )
        changes.append((name, text))
    return changes
