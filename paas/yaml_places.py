"""YAML (and JSON) read with file:line places, and pydantic errors in the user's words.

Every file paas reads from an app directory or the cluster (paas.yaml, app.json,
cluster settings) goes through here, so that every error names the file, the
line and the path of the bad value, like ``paas.yaml:7: processes.web.port:
must be an integer``. Pure: text in, data or a `ManifestError` out.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from paas.errors import ManifestError

M = TypeVar("M", bound=BaseModel)


def load_yaml(text: str, file: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML into data and its node tree (for line numbers); reject repeated keys."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ManifestError(
            f"cannot parse YAML: {problem}",
            "Check the indentation and quoting on that line.",
            file=file,
            line=line,
        ) from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"cannot parse YAML: {exc}", file=file) from None
    if node is not None:
        _reject_repeated_keys(node, file, ())
    return data, node


def _reject_repeated_keys(node: yaml.Node, file: str, path: tuple[str | int, ...]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                raise ManifestError(
                    f"key `{name}` appears twice (first on line {seen[name]})",
                    "Keep one of the two.",
                    file=file,
                    line=key.start_mark.line + 1,
                    path=_dotted(path),
                )
            seen[name] = key.start_mark.line + 1
            _reject_repeated_keys(value, file, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _reject_repeated_keys(item, file, (*path, index))


def _dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        if part == "[key]":
            continue
        out += (
            f"[{part}]"
            if isinstance(part, int) and not isinstance(part, bool)
            else (f".{part}" if out else str(part))
        )
    return out


def line_of(node: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """The 1-based line of the value at `path`, or of its nearest written parent."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if str(key.value) == str(part):
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _fields_at(model: Any, path: Sequence[str | int]) -> list[str]:
    """The keys a model accepts at `path`, for did-you-mean suggestions."""
    current: Any = model
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part)) or next(
                (f for f in current.model_fields.values() if f.alias == part), None
            )
            if info is None:
                return []
            current = info.annotation
        elif get_origin(current) in (dict, list):
            current = get_args(current)[-1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [
            f.alias or name for name, f in current.model_fields.items() if not name.startswith("_")
        ]
    return []


def _unwrap(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


_BOUNDS = {
    "greater_than_equal": "greater than or equal to",
    "less_than_equal": "less than or equal to",
    "greater_than": "greater than",
    "less_than": "less than",
}

_TYPE_MESSAGES = {
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "int_from_float": "must be a whole number",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping of keys to values",
    "model_type": "must be a mapping of keys to values",
    "model_attributes_type": "must be a mapping of keys to values",
    "list_type": "must be a list",
    "missing": "is required",
}


def _non_text_key(node: yaml.Node | None, path: Sequence[str | int]) -> str | None:
    """The first key under `path` that YAML does not read as a string, as written."""
    for part in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if str(k.value) == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
    if isinstance(node, yaml.MappingNode):
        for key, _ in node.value:
            if key.tag != "tag:yaml.org,2002:str":
                return str(key.value)
    return None


def _yaml_type(raw: str) -> str:
    value = yaml.safe_load(raw)
    return {bool: "boolean", int: "number", float: "number"}.get(type(value), "non-string")


def _explain(
    error: Mapping[str, Any], model: Any, node: yaml.Node | None = None
) -> tuple[tuple[str | int, ...], str, str]:
    """Turn one pydantic error into (path, message, hint) in the user's words."""
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        known = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(key, known, n=1)
        hint = (
            f"Did you mean `{close[0]}`?"
            if close
            else f"Known keys here: {', '.join(f'`{k}`' for k in known)}."
            if known
            else ""
        )
        return loc, f"unknown key `{key}`", hint
    if kind == "literal_error":
        allowed = error.get("ctx", {}).get("expected", "")
        return loc, f"must be one of {allowed}", ""
    if kind in _BOUNDS:
        bound = next(iter(error.get("ctx", {}).values()), "")
        return loc, f"must be {_BOUNDS[kind]} {bound}", ""
    if loc and loc[-1] == "[key]" and kind != "value_error":
        raw = _non_text_key(node, loc[:-2]) or str(loc[-2])
        return (
            loc[:-2],
            f"key `{raw}` is read by YAML as a {_yaml_type(raw)}, not as text",
            "Put the key in quotes.",
        )
    if kind == "value_error":
        msg = str(error.get("ctx", {}).get("error", error["msg"]))
        return loc, msg, ""
    return loc, _TYPE_MESSAGES.get(kind, str(error["msg"]).lower()), ""


def validate(model: type[M], data: Any, node: yaml.Node | None, file: str) -> M:
    """Check parsed `data` against `model`; the first error names its file, line and path."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ManifestError(
            "must be a mapping of keys like `name:` and `processes:`", file=file, line=1
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        loc, message, hint = _explain(errors[0], model, node)
        if len(errors) > 1:
            more = len(errors) - 1
            hint = f"{hint} ({more} more problem{'s' if more > 1 else ''} after this one.)".strip()
        raise ManifestError(
            message, hint, file=file, line=line_of(node, loc), path=_dotted(loc)
        ) from None


def parse_model(model: type[M], text: str, file: str) -> M:
    """Parse YAML text into `model`; errors carry the file, line and path."""
    data, node = load_yaml(text, file)
    return validate(model, data, node, file)
