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
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from paas.errors import NotFoundError
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


def cleaned(obj: Obj | None, key: bytes) -> Obj | None:
    """`obj` without what the API server adds (status, managed fields), Secret values redacted."""
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


Action = Literal["create", "update", "delete", "none"]


@dataclass(frozen=True)
class Compared:
    """One rendered (or pruned) object beside the cluster.

    Attributes:
        object: `Kind/name`.
        action: What applying it does: create, update, delete, or none.
        diff: The unified diff, values redacted; "" when nothing changes.
        after: The server's dry-run result (None for a delete). Not redacted:
            it holds a Secret's values; `cleaned()` it before showing it.
    """

    object: str
    action: Action
    diff: str
    after: Obj | None


def compare(
    kube: Kube, objects: list[Obj], prune: list[Obj], *, key: bytes | None = None
) -> list[Compared]:
    """Each of `objects` beside its live object (server-side dry run), then each of `prune`.

    Secret values in the diffs are redacted with `key` (default: a fresh random one).
    """
    key = key or redaction_key()
    out: list[Compared] = []
    for obj in objects:
        meta = obj["metadata"]
        name = f"{obj['kind']}/{meta['name']}"
        live = kube.get(obj["apiVersion"], obj["kind"], meta.get("namespace"), meta["name"])
        try:
            after: Any = kube.apply(obj, dry_run=True)
        except NotFoundError:
            if live is not None:
                raise
            after = obj  # its namespace does not exist yet (a new app): shown as rendered
        before_text, after_text = _text(cleaned(live, key)), _text(cleaned(after, key))
        text = ""
        if before_text != after_text:
            lines = difflib.unified_diff(before_text, after_text, f"live/{name}", f"push/{name}")
            text = "".join(lines)
        action: Action = "none" if not text else "create" if live is None else "update"
        out.append(Compared(name, action, text, after))
    for obj in prune:
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        text = "".join(
            difflib.unified_diff(_text(cleaned(obj, key)), [], f"live/{name}", "/dev/null")
        )
        out.append(Compared(name, "delete", text, None))
    return out


def diff(
    kube: Kube, objects: list[Obj], prune: list[Obj], *, key: bytes | None = None
) -> list[tuple[str, str]]:
    """Unified diffs (name, text) of each object that would change, be created or deleted.

    Secret values are redacted with `key` (default: a fresh random one, `redaction_key()`).
    """
    return [(c.object, c.diff) for c in compare(kube, objects, prune, key=key) if c.diff]
