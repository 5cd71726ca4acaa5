"""Rendered objects as text and as the files of an ejected directory (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from paas.objects import Obj


class _PlainDumper(yaml.SafeDumper):
    """Writes shared values out in full: no `&id001` anchors for a reader to follow."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def to_yaml(objects: list[Obj]) -> str:
    """All objects as one multi-document YAML stream, keys in rendered order."""
    return yaml.dump_all(
        objects, Dumper=_PlainDumper, sort_keys=False, default_flow_style=False, width=100
    )


# A file name part keeps these; any other run of characters becomes one `-`.
_UNSAFE_IN_NAME = re.compile(r"[^a-z0-9.-]+")
_NAME_PART_MAX = 60


def _name_part(text: object) -> str:
    """`text` as a safe piece of a file name: `a-z0-9.-`, no `..`, no dot or dash at the ends."""
    part = _UNSAFE_IN_NAME.sub("-", "" if text is None else str(text).lower())
    part = re.sub(r"\.{2,}", ".", part)
    part = re.sub(r"-{2,}", "-", part)
    return part[:_NAME_PART_MAX].strip(".-") or "unnamed"


def file_name(index: int, obj: Obj) -> str:
    """`03-deployment-hello-web.yaml`: apply order first, then what it is.

    `kind` and `metadata.name` can come from a patch, so only their safe characters
    are kept: no path separator, no `..`, no leading dot, at most 60 characters
    each. The index keeps names unique.
    """
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return f"{index:02d}-{_name_part(obj.get('kind'))}-{_name_part(name)}.yaml"


def holds_secret(obj: Obj) -> bool:
    """A Secret, or any object that carries a Secret's `data` or `stringData` (0600 on disk)."""
    return obj.get("kind") == "Secret" or any(
        key in obj for key in ("data", "stringData", "binaryData")
    )


@dataclass(frozen=True)
class OutFile:
    """One file of an ejected directory."""

    name: str  # a plain file name, safe to join to the directory
    text: str
    secret: bool = False  # written readable by its owner only


def eject_files(objects: list[Obj]) -> list[OutFile]:
    """The files `paas eject` writes: one per object plus a kustomization.yaml."""
    files = [
        OutFile(file_name(i, o), to_yaml([o]), holds_secret(o))
        for i, o in enumerate(objects, start=1)
    ]
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [f.name for f in files],
    }
    return [*files, OutFile("kustomization.yaml", yaml.safe_dump(kustomization, sort_keys=False))]
