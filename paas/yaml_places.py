"""YAML (and JSON) read with file:line places, and pydantic errors in the user's words.

Every file paas reads from an app directory or the cluster (paas.yaml, app.json,
cluster settings) goes through here, so that every error names the file, the
line and the path of the bad value, like ``paas.yaml:7: processes.web.port:
must be an integer``. Pure: text in, data or a `ManifestError` out.
"""

from __future__ import annotations

import difflib
import json
import types
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from paas.errors import ManifestError

M = TypeVar("M", bound=BaseModel)


#: Limits of a YAML or JSON document, so that no input can make a command run for
#: minutes or exhaust memory: its length, its nesting and its nodes (counted with
#: every alias expanded, so a "billion laughs" of a few hundred bytes is refused).
MAX_TEXT = 1024 * 1024
MAX_DEPTH = 100
MAX_NODES = 100_000


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing documents nested deeper than `MAX_DEPTH`."""

    def __init__(self, text: str, file: str) -> None:
        super().__init__(text)
        self.file = file
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ManifestError(
                    f"nested more than {MAX_DEPTH} levels deep",
                    "Flatten the structure.",
                    file=self.file,
                    line=mark.line + 1 if mark else None,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _checked_scalar(construct: Any) -> Any:
    """Wrap a scalar constructor so that a value Python refuses is a YAML error on its line."""

    def checked(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, OverflowError):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "a value that cannot be read: too many digits, or not a valid date",
                node.start_mark,
            ) from None

    return checked


for _tag in ("int", "float", "timestamp"):
    _BoundedLoader.add_constructor(
        f"tag:yaml.org,2002:{_tag}",
        _checked_scalar(yaml.SafeLoader.yaml_constructors[f"tag:yaml.org,2002:{_tag}"]),
    )


def _count_nodes(node: yaml.Node, file: str) -> None:
    """Refuse a node tree of more than `MAX_NODES` nodes or `MAX_DEPTH` levels, aliases expanded.

    Linear in the nodes as written: the expanded size and height of a node
    shared through aliases are computed once and reused; a node that contains
    itself (an alias inside its own anchor) is refused.
    """
    known: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()

    def refuse(current: yaml.Node, message: str, hint: str) -> ManifestError:
        return ManifestError(message, hint, file=file, line=current.start_mark.line + 1)

    def measure(current: yaml.Node, depth: int) -> tuple[int, int]:
        key = id(current)
        if key in known:
            size, height = known[key]
        else:
            if key in open_nodes:
                raise refuse(
                    current,
                    "an alias refers to a node that contains it",
                    "Remove the alias; paas reads no recursive YAML.",
                )
            if depth > MAX_DEPTH:
                raise refuse(
                    current,
                    f"nested more than {MAX_DEPTH} levels deep once its aliases are expanded",
                    "Flatten the structure, or use fewer aliases (`*name`).",
                )
            open_nodes.add(key)
            children: list[yaml.Node] = []
            if isinstance(current, yaml.MappingNode):
                children = [part for pair in current.value for part in pair]
            elif isinstance(current, yaml.SequenceNode):
                children = list(current.value)
            size, height = 1, 1
            for child in children:
                child_size, child_height = measure(child, depth + 1)
                size += child_size
                height = max(height, child_height + 1)
                if size > MAX_NODES:
                    raise refuse(
                        current,
                        f"more than {MAX_NODES:,} values once its aliases are expanded",
                        "Write the values out, or use fewer aliases (`*name`).",
                    )
            open_nodes.discard(key)
            known[key] = (size, height)
        if depth + height - 1 > MAX_DEPTH:
            raise refuse(
                current,
                f"nested more than {MAX_DEPTH} levels deep once its aliases are expanded",
                "Flatten the structure, or use fewer aliases (`*name`).",
            )
        return size, height

    measure(node, 1)


def _too_long(text: str, file: str) -> ManifestError | None:
    if len(text) <= MAX_TEXT:
        return None
    return ManifestError(
        f"the text is longer than {MAX_TEXT // (1024 * 1024)} MiB",
        "paas reads manifest and settings files of at most that size; make it smaller.",
        file=file,
    )


def load_yaml(text: str, file: str) -> tuple[Any, yaml.Node | None]:
    """Parse YAML into data and its node tree (for line numbers); reject repeated keys.

    Bounded: at most `MAX_TEXT` characters, `MAX_DEPTH` levels and `MAX_NODES`
    values with aliases expanded; a number with more digits than Python reads
    is an error on its line.

    Raises:
        ManifestError: the text is not YAML, is too large or deep, or repeats a key.
    """
    if (long := _too_long(text, file)) is not None:
        raise long
    loader = _BoundedLoader(text, file)
    try:
        node = loader.get_single_node()
        if node is not None:
            _count_nodes(node, file)
            _reject_repeated_keys(node, file, (), set())
        data = loader.construct_document(node) if node is not None else None
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
    except RecursionError:
        raise ManifestError(
            "cannot parse YAML: nested too deeply", "Flatten the structure.", file=file
        ) from None
    finally:
        loader.dispose()
    return data, node


def json_depth(text: str) -> int | None:
    """The line where JSON `text` nests deeper than `MAX_DEPTH`, or None when it does not.

    A linear scan that skips strings, so that no deep document reaches the
    recursive parser.
    """
    depth = 0
    line = 1
    in_string = False
    escaped = False
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        elif char in "]}":
            depth -= 1
    return None


def load_json(text: str, file: str) -> Any:
    """Parse JSON text, bounded like `load_yaml`.

    Raises:
        ManifestError: the text is not JSON, too large, too deep, or has a too long number.
    """
    if (long := _too_long(text, file)) is not None:
        raise long
    deep = json_depth(text)
    if deep is not None:
        raise ManifestError(
            f"cannot parse JSON: nested more than {MAX_DEPTH} levels deep",
            "Flatten the structure.",
            file=file,
            line=deep,
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(
            f"cannot parse JSON: {exc.msg}",
            "Fix the JSON syntax on that line.",
            file=file,
            line=exc.lineno,
        ) from None
    except ValueError:  # an integer of more digits than Python converts
        raise ManifestError(
            "cannot parse JSON: a number has too many digits",
            "Write the number as a string, or shorten it.",
            file=file,
        ) from None


def _reject_repeated_keys(
    node: yaml.Node, file: str, path: tuple[str | int, ...], seen_nodes: set[int]
) -> None:
    """Refuse a mapping that repeats a key; a node shared through aliases is checked once."""
    if id(node) in seen_nodes:
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):  # a mapping or list as a key: not text
                _reject_repeated_keys(value, file, path, seen_nodes)
                continue
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
            _reject_repeated_keys(value, file, (*path, name), seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _reject_repeated_keys(item, file, (*path, index), seen_nodes)


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
    try:
        value = yaml.safe_load(raw[:100])
    except (yaml.YAMLError, ValueError):
        return "non-string"
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
