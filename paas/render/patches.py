"""The escape hatch: strategic-merge and RFC 6902 JSON patches over rendered objects.

Strategic merge follows Kubernetes' rules for the lists users patch most:
containers, env, ports, volumes and volume mounts merge by their key instead of
being replaced; `$patch: delete` removes a list item or a map, `$patch:
replace` replaces a map, and `null` deletes a key. Other lists are replaced.
"""

from __future__ import annotations

import copy
from typing import Any

from paas.errors import RenderError
from paas.manifest import PatchRule

# Lists that merge item by item, by this key (the patchMergeKey of the Kubernetes API).
_MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey",),
    "readinessGates": ("conditionType",),
    "ports": ("containerPort", "port"),
}


def strategic_merge(base: Any, patch: Any, key: str = "") -> Any:
    """Return `base` with `patch` merged into it; neither argument is changed."""
    if isinstance(patch, dict):
        if patch.get("$patch") == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
        if not isinstance(base, dict):
            return {k: copy.deepcopy(v) for k, v in patch.items() if v is not None}
        merged = dict(base)
        for name, value in patch.items():
            if value is None or (isinstance(value, dict) and value.get("$patch") == "delete"):
                merged.pop(name, None)
            else:
                merged[name] = strategic_merge(base.get(name), value, name)
        return merged
    if isinstance(patch, list) and isinstance(base, list) and key in _MERGE_KEYS:
        return _merge_list(base, patch, _MERGE_KEYS[key])
    return copy.deepcopy(patch)


def _merge_list(base: list[Any], patch: list[Any], keys: tuple[str, ...]) -> list[Any]:
    merged = [copy.deepcopy(item) for item in base]
    for item in patch:
        key = next((k for k in keys if isinstance(item, dict) and k in item), None)
        if key is None:
            merged.append(copy.deepcopy(item))
            continue
        index = next(
            (
                i
                for i, old in enumerate(merged)
                if isinstance(old, dict) and old.get(key) == item[key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del merged[index]
        elif index is None:
            merged.append({k: copy.deepcopy(v) for k, v in item.items() if k != "$patch"})
        else:
            merged[index] = strategic_merge(merged[index], item)
    return merged


def _matches(rule: PatchRule, obj: dict[str, Any]) -> bool:
    target = rule.target
    meta = obj.get("metadata", {})
    if target.kind is not None and target.kind.lower() != str(obj.get("kind", "")).lower():
        return False
    if target.name is not None and target.name != meta.get("name"):
        return False
    process = meta.get("labels", {}).get("paas.dev/process")
    return target.process is None or target.process == process


def _describe(rule: PatchRule) -> str:
    fields = rule.target.model_dump(exclude_none=True)
    return "{" + ", ".join(f"{k}: {v}" for k, v in fields.items()) + "}"


def apply_patches(
    objects: list[dict[str, Any]], rules: tuple[PatchRule, ...]
) -> list[dict[str, Any]]:
    """Apply every patch rule in order; return new objects.

    Raises:
        RenderError: a rule matches no object, or a JSON patch cannot be applied.
    """
    import jsonpatch

    out = list(objects)
    for rule in rules:
        hits = [i for i, obj in enumerate(out) if _matches(rule, obj)]
        if not hits:
            names = ", ".join(f"{o['kind']}/{o['metadata']['name']}" for o in out)
            raise RenderError(
                f"{rule.place}: target {_describe(rule)} matches no object",
                f"Fix the target; the objects are: {names}.",
            )
        for i in hits:
            if rule.merge is not None:
                out[i] = strategic_merge(out[i], rule.merge)
            else:
                # Objects without annotations still take `add /metadata/annotations/x`,
                # as users expect from kubectl annotate.
                target = copy.deepcopy(out[i])
                target["metadata"].setdefault("annotations", {})
                for number, op in enumerate(rule.json_ops or []):
                    try:
                        target = jsonpatch.apply_patch(target, [op])
                    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
                        # The library's message quotes the document, which may be a Secret:
                        # name the operation instead.
                        name = f"{out[i]['kind']}/{out[i]['metadata']['name']}"
                        raise RenderError(
                            f"{rule.place}: cannot apply the JSON patch to `{name}`: operation "
                            f"{number} (`{op.get('op')}` at `{op.get('path')}`) does not fit "
                            "the object",
                            "Check each `path`: for `add` the parent must exist, for `replace` "
                            "and `remove` the value itself; escape `/` in keys as `~1`.",
                        ) from None
                out[i] = target
                if out[i]["metadata"].get("annotations") == {}:
                    del out[i]["metadata"]["annotations"]
    return out
